import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isForbiddenAddress, systemResolver, vetWebhookUrl, type HostResolver } from '../src/modules/webhooks/address-guard.js';
import { MAX_ATTEMPTS, RETRY_DELAYS_MS, retryDelayMs } from '../src/modules/webhooks/delivery.js';
import { postWebhook } from '../src/modules/webhooks/sender.js';
import { signatureHeader, verifySignature, newEndpointSecret } from '../src/modules/webhooks/signature.js';
import { stockCrossings } from '../src/modules/catalog/hooks.js';

const resolvesTo =
  (...addresses: string[]): HostResolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('which addresses a production webhook may reach', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '169.254.0.1',
    '100.64.0.1',
    '100.127.255.254',
    '0.0.0.0',
    '0.1.2.3',
    '224.0.0.1',
    '239.255.255.250',
    '255.255.255.255',
    '198.18.0.1',
    '::1',
    '::',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::7f00:1',
    '2001:db8::1',
    'not-an-address',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it('insists on https and public answers in production, and vets every answer', async () => {
    const production = (resolve: HostResolver) => ({ production: true, resolve });
    expect(await vetWebhookUrl(new URL('https://pos.example.com/hook'), production(resolvesTo('93.184.216.34')))).toEqual({
      ok: true,
      addresses: [{ address: '93.184.216.34', family: 4 }],
    });
    expect(await vetWebhookUrl(new URL('http://pos.example.com/hook'), production(resolvesTo('93.184.216.34')))).toMatchObject({
      ok: false,
      reason: 'must be an https URL',
    });
    expect(await vetWebhookUrl(new URL('https://pos.example.com/'), production(resolvesTo('127.0.0.1')))).toMatchObject({ ok: false });
    // One private answer among public ones: the connection could go to it.
    expect(await vetWebhookUrl(new URL('https://pos.example.com/'), production(resolvesTo('93.184.216.34', '10.0.0.5')))).toMatchObject({ ok: false });
    expect(
      await vetWebhookUrl(new URL('https://[::ffff:127.0.0.1]/'), { production: true, resolve: async (host) => [{ address: host, family: 6 }] }),
    ).toMatchObject({ ok: false });
    expect(
      await vetWebhookUrl(
        new URL('https://nowhere.invalid/'),
        production(async () => {
          throw new Error('ENOTFOUND');
        }),
      ),
    ).toMatchObject({ ok: false, reason: 'the host nowhere.invalid does not resolve' });
  });

  it('refuses localhost and IP literals of this host with the real resolver', async () => {
    for (const url of [
      'https://localhost/hook',
      'https://127.0.0.1:8443/hook',
      'https://[::1]/hook',
      'https://2130706433/',
      'https://169.254.169.254/latest/meta-data',
    ]) {
      expect(await vetWebhookUrl(new URL(url), { production: true, resolve: systemResolver })).toMatchObject({ ok: false });
    }
  });

  it('lets anything http(s) through outside production (local receivers)', async () => {
    expect(await vetWebhookUrl(new URL('http://127.0.0.1:9999/hook'), { production: false, resolve: resolvesTo('127.0.0.1') })).toEqual({
      ok: true,
      addresses: [],
    });
  });
});

describe('delivering to a vetted address only', () => {
  it('connects to the pinned address whatever the host name resolves to now (DNS rebinding)', async () => {
    const received: string[] = [];
    const server = http.createServer((req, res) => {
      received.push(String(req.headers.host));
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      // "receiver.invalid" resolves nowhere: only the pinned lookup can take the request to the server.
      const result = await postWebhook({
        url: new URL(`http://receiver.invalid:${port}/hook`),
        body: '{}',
        headers: { 'Content-Type': 'application/json' },
        timeoutMs: 2_000,
        pinnedAddresses: [{ address: '127.0.0.1', family: 4 }],
      });
      expect(result).toEqual({ kind: 'response', status: 204 });
      expect(received).toEqual([`receiver.invalid:${port}`]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives up on a receiver that does not answer in time, and does not follow redirects', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.writeHead(302, { Location: '/elsewhere' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const post = (path: string) => postWebhook({ url: new URL(`http://127.0.0.1:${port}${path}`), body: '{}', headers: {}, timeoutMs: 300 });
      expect(await post('/slow')).toEqual({ kind: 'error', error: 'no response within 300 ms' });
      expect(await post('/moved')).toEqual({ kind: 'response', status: 302 });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('signatures', () => {
  const secret = newEndpointSecret();
  const body = JSON.stringify({ id: 7, type: 'order.placed', created_at: '2026-12-01T12:00:00.000Z', data: { order: { id: 1 } } });
  const t = 1_796_140_800;

  it('makes a long secret', () => {
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(newEndpointSecret()).not.toBe(secret);
  });

  it('signs "<t>.<raw body>" with HMAC-SHA256 in the t=…,v1=… scheme, and verifies it', async () => {
    const header = signatureHeader(secret, t, body);
    const { createHmac } = await import('node:crypto');
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`);
    expect(verifySignature(secret, header, body, { nowSeconds: t + 10 })).toBe(true);
  });

  it('refuses a changed body, another secret, an old timestamp and a malformed header', () => {
    const header = signatureHeader(secret, t, body);
    expect(verifySignature(secret, header, body.replace('"id":7', '"id":8'), { nowSeconds: t })).toBe(false);
    expect(verifySignature(newEndpointSecret(), header, body, { nowSeconds: t })).toBe(false);
    expect(verifySignature(secret, header, body, { nowSeconds: t + 301 })).toBe(false);
    expect(verifySignature(secret, header.replace(/^t=\d+/, `t=${t + 1}`), body, { nowSeconds: t })).toBe(false);
    for (const bad of ['', 'v1=abc', `t=${t}`, `t=${t},v1=zz`, `t=abc,v1=${'0'.repeat(64)}`, `t=${t},t=${t},${header.split(',')[1]}`]) {
      expect(verifySignature(secret, bad, body, { nowSeconds: t }), bad).toBe(false);
    }
  });

  it('accepts a header with several v1 signatures when one matches (secret rotation on the receiver side)', () => {
    const header = signatureHeader(secret, t, body);
    const other = signatureHeader(newEndpointSecret(), t, body).split(',')[1];
    expect(verifySignature(secret, `${header.split(',')[0]},${other},${header.split(',')[1]}`, body, { nowSeconds: t })).toBe(true);
  });
});

describe('the retry schedule', () => {
  it('makes at least 8 attempts over about a day, growing, with ±10 % jitter', () => {
    expect(MAX_ATTEMPTS).toBeGreaterThanOrEqual(8);
    const total = RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeGreaterThan(20 * 3_600_000);
    expect(total).toBeLessThan(26 * 3_600_000);
    for (let i = 1; i < RETRY_DELAYS_MS.length; i += 1) expect(RETRY_DELAYS_MS[i]).toBeGreaterThan(RETRY_DELAYS_MS[i - 1] ?? 0);
    expect(retryDelayMs(1, () => 0)).toBe(54_000);
    expect(retryDelayMs(1, () => 0.999999)).toBe(66_000);
    expect(retryDelayMs(2, () => 0.5)).toBe(5 * 60_000);
    expect(retryDelayMs(MAX_ATTEMPTS - 1, () => 0.5)).toBe(12 * 3_600_000);
    expect(retryDelayMs(MAX_ATTEMPTS, () => 0.5)).toBeUndefined();
  });
});

describe('low-stock crossings', () => {
  const threshold = 5;
  it.each([
    [{ delta: -3, stockAfter: 5 }, ['low_stock']],
    [{ delta: -1, stockAfter: 4 }, []], // already below: no second event
    [{ delta: -10, stockAfter: 0 }, ['low_stock', 'out_of_stock']],
    [{ delta: -4, stockAfter: 0 }, ['out_of_stock']], // was 4, already low
    [{ delta: 10, stockAfter: 14 }, []], // a restock never crosses downward
    [{ delta: -2, stockAfter: 6 }, []],
  ])('%o crosses %o', (movement, expected) => {
    expect(stockCrossings({ ...movement, lowStockThreshold: threshold })).toEqual(expected);
  });

  it('with the default threshold 0, falling to 0 is both low and out of stock', () => {
    expect(stockCrossings({ delta: -1, stockAfter: 0, lowStockThreshold: 0 })).toEqual(['low_stock', 'out_of_stock']);
  });
});
