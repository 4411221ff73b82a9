import { BlockList, isIP } from 'node:net';

/** One entry of OUTBOUND_ALLOWED_NETWORKS: an address or a CIDR block. */
export interface OutboundNetwork {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Addresses a tenant-steered fetch (a client's jwksUri, a trusted issuer's jwksUri, its OpenID
 * discovery document and the jwks_uri that names) must never reach unless the operator allows
 * them: they are the host itself, the cloud metadata service, or the private network behind it
 * (docs/adr/0020). Node's BlockList also matches IPv4-mapped IPv6 (::ffff:a.b.c.d) against the
 * IPv4 rules; the IPv6 forms that embed an IPv4 address some other way are listed below.
 */
const REFUSED_V4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (CGNAT, RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved and broadcast'],
];

const REFUSED_V6: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1): ::a.b.c.d is an IPv4 address in disguise.
  ['::', 96, 'IPv4-compatible'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

const LOOPBACK_V4: [string, number] = ['127.0.0.0', 8];
const LOOPBACK_V6: [string, number] = ['::1', 128];

function blockList(v4: Array<[string, number, ...unknown[]]>, v6: Array<[string, number, ...unknown[]]>): BlockList {
  const list = new BlockList();
  for (const [address, prefix] of v4) list.addSubnet(address, prefix, 'ipv4');
  for (const [address, prefix] of v6) list.addSubnet(address, prefix, 'ipv6');
  return list;
}

const REFUSED = blockList(REFUSED_V4, REFUSED_V6);
const LOOPBACK = blockList([LOOPBACK_V4], [LOOPBACK_V6]);

/**
 * The IPv4 address an IPv6 address carries and would reach through a translator: NAT64
 * (64:ff9b::/96, RFC 6052) and 6to4 (2002::/16, RFC 3056). IPv4-mapped (::ffff:0:0/96) is
 * handled by BlockList itself, and IPv4-compatible (::/96) is refused outright above.
 */
function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return v4(groups[6], groups[7]);
  if (groups[0] === 0x2002) return v4(groups[1], groups[2]);
  return undefined;
}

/** Eight 16-bit groups of an IPv6 address (dotted IPv4 tail included), or undefined. */
export function expandIpv6(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(fill).fill('0'), ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** Why `address` (an IP literal) is a refused destination, or undefined when it is a public address. */
export function refusedAddressReason(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (REFUSED.check(bare, type)) return describe(bare, type);
  const embedded = type === 'ipv6' ? embeddedIpv4(bare) : undefined;
  if (embedded && REFUSED.check(embedded, 'ipv4')) return `${describe(embedded, 'ipv4')}, embedded in IPv6`;
  return undefined;
}

function describe(address: string, type: 'ipv4' | 'ipv6'): string {
  const table = type === 'ipv4' ? REFUSED_V4 : REFUSED_V6;
  for (const [net, prefix, label] of table) {
    const one = new BlockList();
    one.addSubnet(net, prefix, type);
    if (one.check(address, type)) return label;
  }
  // An IPv4-mapped IPv6 address matched an IPv4 rule.
  return 'an internal address (IPv4-mapped)';
}

/**
 * Which addresses outbound fetches may connect to: everything public; of the refused ranges
 * only what the operator listed in OUTBOUND_ALLOWED_NETWORKS, plus loopback when
 * ALLOW_INSECURE_ISSUERS_FOR_TESTS is on (the tests' local issuers).
 */
export class OutboundAddressPolicy {
  private readonly allowed = new BlockList();

  constructor(
    allowedNetworks: readonly OutboundNetwork[],
    private readonly allowLoopback: boolean,
  ) {
    for (const n of allowedNetworks ?? []) this.allowed.addSubnet(n.address, n.prefix, n.family);
  }

  /** Why a connection to `address` is refused, or undefined when it may be made. */
  refusal(address: string): string | undefined {
    try {
      const bare = address.replace(/^\[|\]$/g, '');
      const reason = refusedAddressReason(bare);
      if (!reason) return undefined;
      const type = isIP(bare) === 4 ? 'ipv4' : 'ipv6';
      if (this.allowed.check(bare, type)) return undefined;
      if (this.allowLoopback && LOOPBACK.check(bare, type)) return undefined;
      return reason;
    } catch {
      // Called from a DNS callback: an address BlockList cannot read is refused, never thrown.
      return 'an address that cannot be classified';
    }
  }
}

/**
 * OUTBOUND_ALLOWED_NETWORKS: comma-separated addresses or CIDR blocks (`10.20.0.0/16`,
 * `fd00:1::/64`, `192.168.1.5`). A list, or the reason it cannot be read.
 */
export function parseOutboundNetworks(text: string): OutboundNetwork[] | string {
  const networks: OutboundNetwork[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const [address, prefixText, extra] = item.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) return `"${item}" is not an IP address or CIDR block (e.g. 10.20.0.0/16 or fd00::/64)`;
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= max)) return `"${item}" has a prefix length outside 0–${max}`;
    networks.push({ address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' });
  }
  return networks;
}
