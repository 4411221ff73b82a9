import { OutboundAddressPolicy, parseOutboundNetworks, refusedAddressReason } from './outbound-address-policy';

describe('outbound address policy', () => {
  describe('refusedAddressReason', () => {
    it.each([
      ['127.0.0.1', /loopback/],
      ['127.255.0.2', /loopback/],
      ['10.1.2.3', /RFC 1918/],
      ['172.16.0.1', /RFC 1918/],
      ['172.31.255.255', /RFC 1918/],
      ['192.168.1.1', /RFC 1918/],
      ['169.254.169.254', /link-local/],
      ['100.64.0.1', /CGNAT/],
      ['100.127.255.254', /CGNAT/],
      ['0.0.0.0', /unspecified/],
      ['224.0.0.1', /multicast/],
      ['239.255.255.250', /multicast/],
      ['255.255.255.255', /broadcast/],
      ['198.18.0.1', /benchmarking/],
    ])('refuses IPv4 %s', (address, reason) => {
      expect(refusedAddressReason(address)).toMatch(reason);
    });

    it.each([
      ['::1', /loopback/],
      ['::', /unspecified/],
      ['fc00::1', /unique local/],
      ['fd12:3456::1', /unique local/],
      ['fe80::1', /link-local/],
      ['febf:ffff::1', /link-local/],
      ['ff02::1', /multicast/],
      ['[::1]', /loopback/],
    ])('refuses IPv6 %s', (address, reason) => {
      expect(refusedAddressReason(address)).toMatch(reason);
    });

    it.each([
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '::ffff:10.0.0.1',
      '0:0:0:0:0:ffff:c0a8:0101',
      '::127.0.0.1', // IPv4-compatible
      '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
      '64:ff9b::10.0.0.1',
      '2002:7f00:0001::1', // 6to4 of 127.0.0.1
      '2002:c0a8:0101::', // 6to4 of 192.168.1.1
    ])('refuses the IPv4-in-IPv6 form %s of an internal address', (address) => {
      expect(refusedAddressReason(address)).toBeDefined();
    });

    it.each([
      '8.8.8.8',
      '1.1.1.1',
      '172.32.0.1',
      '100.128.0.1',
      '169.255.0.1',
      '11.0.0.1',
      '2001:4860:4860::8888',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      '2002:0808:0808::1',
      'fe00::1',
    ])('allows the public address %s', (address) => {
      expect(refusedAddressReason(address)).toBeUndefined();
    });
  });

  describe('OutboundAddressPolicy', () => {
    it('opens only loopback with ALLOW_INSECURE_ISSUERS_FOR_TESTS, mapped loopback included', () => {
      const policy = new OutboundAddressPolicy([], true);
      for (const a of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1']) expect(policy.refusal(a)).toBeUndefined();
      for (const a of ['10.0.0.1', '169.254.169.254', '::ffff:10.0.0.1', 'fd00::1', '0.0.0.0']) expect(policy.refusal(a)).toBeDefined();
      expect(new OutboundAddressPolicy([], false).refusal('127.0.0.1')).toMatch(/loopback/);
    });

    it('opens exactly the OUTBOUND_ALLOWED_NETWORKS, in both the plain and the IPv4-mapped form', () => {
      const networks = parseOutboundNetworks('10.20.0.0/16, fd00:1::/64,192.168.1.5');
      if (typeof networks === 'string') throw new Error(networks);
      const policy = new OutboundAddressPolicy(networks, false);
      for (const a of ['10.20.3.4', '::ffff:10.20.3.4', 'fd00:1::9', '192.168.1.5']) expect(policy.refusal(a)).toBeUndefined();
      for (const a of ['10.21.0.1', 'fd00:2::1', '192.168.1.6', '127.0.0.1', '169.254.169.254']) expect(policy.refusal(a)).toBeDefined();
      expect(policy.refusal('8.8.8.8')).toBeUndefined();
    });
  });

  describe('parseOutboundNetworks', () => {
    it('reads addresses and CIDR blocks, and an empty list', () => {
      expect(parseOutboundNetworks('')).toEqual([]);
      expect(parseOutboundNetworks(' 10.0.0.0/8 , ::1 ')).toEqual([
        { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
        { address: '::1', prefix: 128, family: 'ipv6' },
      ]);
    });

    it.each(['10.0.0.0/33', 'fd00::/129', 'example.com', '10.0.0.0/8/1', '10.0.0.0/x', '10.0.0/8'])('refuses %s with a reason', (text) => {
      expect(typeof parseOutboundNetworks(text)).toBe('string');
    });
  });
});
