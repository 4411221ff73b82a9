import { isIP } from 'node:net';

/**
 * TRUST_PROXY: which hops of X-Forwarded-For are believed for the client IP (request.ip,
 * which every per-IP limit uses). docs/adr/0009.
 * - `false` (default): the socket's peer address; X-Forwarded-For is ignored.
 * - a hop count n: the n nearest hops are proxies; the client is the next address to the left.
 * - addresses/CIDRs (`10.0.0.0/8,192.168.1.7`, or `loopback`, `linklocal`, `uniquelocal`):
 *   hops from those addresses are proxies, the first other one is the client.
 * - `true`: every hop is a proxy, so the client IP is the left-most entry, which the client
 *   writes itself. Safe only where the proxy replaces the header instead of appending to it.
 */
export type TrustProxy = boolean | number | string[];

export const MAX_TRUSTED_HOPS = 100;
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Parses the variable; undefined with a message when it is none of the forms above. */
export function parseTrustProxy(text: string): { value: TrustProxy } | { error: string } {
  const value = text.trim();
  if (value === 'false') return { value: false };
  if (value === 'true') return { value: true };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= MAX_TRUSTED_HOPS ? { value: hops } : { error: `must be a hop count of at most ${MAX_TRUSTED_HOPS}` };
  }
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = entries.find((entry) => !isAddressOrRange(entry));
  if (entries.length === 0 || bad !== undefined) {
    return {
      error:
        'must be false, a hop count (e.g. 1), or the proxies\u2019 addresses/CIDRs separated by commas (e.g. 10.0.0.0/8,127.0.0.1, or loopback); ' +
        `true trusts every hop and is unsafe unless the proxy replaces X-Forwarded-For${bad !== undefined ? ` ("${bad.slice(0, 60)}" is not an address or CIDR)` : ''}`,
    };
  }
  return { value: entries };
}

function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const prefix = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return family === 4 && isIP(prefix) === 4; // an IPv4 netmask, as proxy-addr accepts
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * The value for Fastify's `trustProxy`. Fastify 5.12.8 turned a plain number into "trust
 * nothing" (a hop count cannot check who the nearest peer is); Tessera keeps the documented
 * hop count with a function, and the README says to prefer addresses where Tessera's port
 * can be reached other than through the proxy.
 */
export function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  if (trust === 0) return false;
  return (_address: string, hop: number) => hop < trust;
}
