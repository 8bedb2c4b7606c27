import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './address-guard.js';

export interface WebhookPost {
  url: URL;
  body: string;
  headers: Record<string, string>;
  /** The whole exchange, connection included, up to the response's status line. */
  timeoutMs: number;
  /**
   * Connect only to these (the addresses vetted a moment ago), never to what a second DNS answer might
   * say: a host that rebinds to 127.0.0.1 between the check and the connection still cannot reach it.
   * Absent: resolve as usual (outside production).
   */
  pinnedAddresses?: readonly ResolvedAddress[] | undefined;
}

export type PostResult = { kind: 'response'; status: number } | { kind: 'error'; error: string };

export const USER_AGENT = 'Tablekit-Webhooks/1 (+https://tablekit.dev/webhooks)';

/**
 * One POST, no redirects followed (a 3xx is an answer like any other: not a 2xx), no connection reuse
 * (each delivery connects to the address it vetted). Never throws: a timeout, a refused connection or a
 * TLS failure is an `error` result. The response body is not read.
 */
export function postWebhook(post: WebhookPost): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const transport = post.url.protocol === 'https:' ? https : http;
    const request = transport.request(post.url, {
      method: 'POST',
      agent: false,
      headers: { ...post.headers, 'Content-Length': String(Buffer.byteLength(post.body)) },
      ...(post.pinnedAddresses === undefined ? {} : { lookup: pinnedLookup(post.pinnedAddresses) }),
    });
    const timer = setTimeout(() => settle({ kind: 'error', error: `no response within ${post.timeoutMs} ms` }), post.timeoutMs);
    request.on('response', (response) => {
      response.resume();
      settle({ kind: 'response', status: response.statusCode ?? 0 });
    });
    request.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', error: describe(error) }));
    request.end(post.body);
  });
}

/** A DNS lookup that answers with the vetted addresses whatever it is asked. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    const usable = addresses.filter((entry) => family === 0 || entry.family === family);
    const first = usable[0];
    if (first === undefined) {
      callback(Object.assign(new Error('no vetted address of the requested family'), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all === true) {
      // Node asks for every address when it races IPv4 and IPv6 (autoSelectFamily).
      (callback as unknown as (error: null, addresses: ResolvedAddress[]) => void)(null, usable);
      return;
    }
    callback(null, first.address, first.family);
  };
}

function describe(error: NodeJS.ErrnoException): string {
  const text = error.code === undefined ? error.message : `${error.code}: ${error.message}`;
  return text.slice(0, 300);
}
