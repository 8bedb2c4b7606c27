import dns from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a host name resolves to; injected so tests can play a DNS server that changes its answer. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));

/**
 * Where a webhook must never go in production: this host itself, the VPC and other private networks,
 * the cloud metadata service, and anything not routable on the internet. Node's BlockList matches an
 * IPv4-mapped IPv6 address (::ffff:127.0.0.1) against the IPv4 rules too.
 */
const forbidden = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, with the metadata service at 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) {
  forbidden.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback (::1) and the old IPv4-compatible form
  ['::ffff:0:0:0', 96], // IPv4-translated
  ['64:ff9b::', 96], // NAT64: would reach whatever IPv4 address it embeds
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local, with the EC2 metadata service at fd00:ec2::254
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  forbidden.addSubnet(network, prefix, 'ipv6');
}

/** True for an address a production webhook must not reach (or for something that is not an address). */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return forbidden.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export type UrlVerdict =
  /** In production, the vetted addresses a delivery may connect to (and only to); empty elsewhere (any). */
  { ok: true; addresses: ResolvedAddress[] } | { ok: false; reason: string };

/**
 * Whether webhooks may be sent to `url`. In production it must be https and every address its host
 * resolves to must be public: one private answer among public ones refuses it, since the connection
 * could go to any of them. Outside production (local receivers, tests) anything http(s) goes.
 */
export async function vetWebhookUrl(url: URL, options: { production: boolean; resolve: HostResolver }): Promise<UrlVerdict> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'must be an http or https URL' };
  if (!options.production) return { ok: true, addresses: [] };
  if (url.protocol !== 'https:') return { ok: false, reason: 'must be an https URL' };
  // An IPv6 literal keeps its brackets in URL.hostname.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  try {
    addresses = await options.resolve(host);
  } catch {
    return { ok: false, reason: `the host ${host} does not resolve` };
  }
  if (addresses.length === 0) return { ok: false, reason: `the host ${host} does not resolve` };
  const refused = addresses.find((entry) => isForbiddenAddress(entry.address));
  if (refused !== undefined) {
    return { ok: false, reason: `the host ${host} resolves to ${refused.address}, a loopback, private, link-local or otherwise non-public address` };
  }
  return { ok: true, addresses };
}
