import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrsOverlap, format, formatIp, parseCidr, parseIPv6, type Cidr } from '../../../functions/api/cidr.js';
import { DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, type Cluster } from '../../../functions/api/cluster.js';
import { createCauses, created, expectOnlyCause, full, minimal, withValue } from './fixtures.js';

describe('parseCidr', () => {
  it.each([
    { text: '10.0.0.0/8', family: 4, prefix: 8 },
    { text: '192.168.0.0/16', family: 4, prefix: 16 },
    { text: '0.0.0.0/0', family: 4, prefix: 0 },
    { text: '10.1.2.3/32', family: 4, prefix: 32 },
    { text: 'fd00::/8', family: 6, prefix: 8 },
    { text: '::/0', family: 6, prefix: 0 },
    { text: '2001:db8::/32', family: 6, prefix: 32 },
    { text: '2001:DB8:0:0:0:0:0:0/32', family: 6, prefix: 32 },
    { text: '::ffff:10.0.0.0/104', family: 6, prefix: 104 },
    { text: '1:2:3:4:5:6:7::/128', family: 6, prefix: 128 },
  ])('accepts $text', ({ text, family, prefix }) => {
    const r = parseCidr(text);
    expect(r.ok && { family: r.cidr.family, prefix: r.cidr.prefix }).toEqual({ family, prefix });
  });

  it.each([
    { text: '10.0.0.0', reason: 'CIDR notation' },
    { text: '10.0.0.1/8', reason: 'host bits set; the network address is 10.0.0.0/8' },
    { text: '192.168.1.0/16', reason: 'network address is 192.168.0.0/16' },
    { text: 'fd00::1/8', reason: 'network address is fd00::/8' },
    { text: '10.0.0.0/33', reason: 'from 0 to 32' },
    { text: 'fd00::/129', reason: 'from 0 to 128' },
    { text: '10.0.0.0/-1', reason: 'prefix length' },
    { text: '10.0.0.0/08', reason: 'prefix length' },
    { text: '10.0.0.0/', reason: 'prefix length' },
    { text: '256.0.0.0/8', reason: 'not a valid' },
    { text: '010.0.0.0/8', reason: 'not a valid' },
    { text: '10.0.0/8', reason: 'not a valid' },
    { text: 'a.b.c.d/8', reason: 'not a valid' },
    { text: '1::2::3/64', reason: 'not a valid' },
    { text: '1:2:3:4:5:6:7:8:9/64', reason: 'not a valid' },
    { text: '::1:2:3:4:5:6:7:8/64', reason: 'not a valid' },
    { text: '1.2.3.4::/64', reason: 'not a valid' },
    { text: 'fe80::1%eth0/64', reason: 'not a valid' },
    { text: '12345::/16', reason: 'not a valid' },
  ])('refuses $text', ({ text, reason }) => {
    const r = parseCidr(text);
    expect(r.ok ? 'ok' : r.reason).toContain(reason);
  });
});

describe('formatIp', () => {
  it.each([
    { value: 0n, text: '::' },
    { value: 1n, text: '::1' },
    { value: 0x20010db8000000000000000000000001n, text: '2001:db8::1' },
    { value: 0x20010db8000000010000000000000001n, text: '2001:db8:0:1::1' },
    { value: 0x20010db8000000000001000000000001n, text: '2001:db8::1:0:0:1' },
    { value: 0x00010002000300040005000600070008n, text: '1:2:3:4:5:6:7:8' },
    { value: 0x00010000000200030004000500060007n, text: '1:0:2:3:4:5:6:7' },
  ])('writes $text as RFC 5952 does', ({ value, text }) => {
    expect(formatIp(6, value)).toBe(text);
    expect(parseIPv6(text)).toBe(value);
  });
});

const cidrArb = fc.oneof(
  fc.record({ family: fc.constant(4 as const), prefix: fc.integer({ min: 0, max: 32 }), addr: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }) }),
  fc.record({ family: fc.constant(6 as const), prefix: fc.integer({ min: 0, max: 128 }), addr: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }) }),
);
const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);
const network = ({ family, prefix, addr }: { family: 4 | 6; prefix: number; addr: bigint }): Cidr => {
  const host = (1n << BigInt(bits(family) - prefix)) - 1n;
  return { family, prefix, base: addr & ~host };
};

describe('CIDR properties', () => {
  it('round trips: the canonical text of a network parses back to it', () => {
    fc.assert(
      fc.property(cidrArb, (c) => {
        const n = network(c);
        const r = parseCidr(format(n));
        expect(r.ok && r.cidr).toEqual(n);
      }),
    );
  });

  it('reads the uncompressed IPv6 form as the compressed one', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        const groups = Array.from({ length: 8 }, (_, i) => ((v >> BigInt((7 - i) * 16)) & 0xffffn).toString(16).padStart(4, '0'));
        expect(parseIPv6(groups.join(':'))).toBe(v);
        expect(parseIPv6(groups.join(':').toUpperCase())).toBe(v);
        expect(parseIPv6(formatIp(6, v))).toBe(v);
      }),
    );
  });

  it('refuses an address with host bits, and names the network it belongs to', () => {
    fc.assert(
      fc.property(cidrArb, ({ family, prefix, addr }) => {
        const n = network({ family, prefix, addr });
        fc.pre(n.base !== addr);
        const r = parseCidr(`${formatIp(family, addr)}/${prefix}`);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.reason).toContain(`the network address is ${format(n)}`);
      }),
    );
  });

  it('overlap means one range holds the other', () => {
    const sameFamily = fc.constantFrom<4 | 6>(4, 6).chain((family) =>
      fc.tuple(
        ...[0, 1].map(() =>
          fc.record({
            family: fc.constant(family),
            prefix: fc.integer({ min: 0, max: family === 4 ? 32 : 128 }),
            addr: fc.bigInt({ min: 0n, max: (1n << BigInt(bits(family))) - 1n }),
          }),
        ),
      ),
    );
    const contains = (outer: Cidr, inner: Cidr) =>
      outer.prefix <= inner.prefix && network({ family: outer.family, prefix: outer.prefix, addr: inner.base }).base === outer.base;
    fc.assert(
      fc.property(sameFamily, ([x, y]) => {
        const a = network(x!);
        const b = network(y!);
        expect(cidrsOverlap(a, b)).toBe(contains(a, b) || contains(b, a));
        expect(cidrsOverlap(a, b)).toBe(cidrsOverlap(b, a));
      }),
    );
  });

  it('never finds an IPv4 and an IPv6 range overlapping', () => {
    expect(cidrsOverlap(network({ family: 4, prefix: 0, addr: 0n }), network({ family: 6, prefix: 0, addr: 0n }))).toBe(false);
  });
});

describe('Cluster.spec.clusterNetwork', () => {
  const net = (pods: string[], services: string[]) =>
    withValue(minimal.Cluster(), 'spec.clusterNetwork', { pods: { cidrBlocks: pods }, services: { cidrBlocks: services } });

  it('defaults to kubeadm ranges', () => {
    const c = created(minimal.Cluster()) as Cluster;
    expect(c.spec.clusterNetwork).toEqual({
      pods: { cidrBlocks: [DEFAULT_POD_CIDR] },
      services: { cidrBlocks: [DEFAULT_SERVICE_CIDR] },
      serviceDomain: 'cluster.local',
    });
  });

  it('accepts dual stack ranges', () => {
    expect((created(full.awsCluster()) as Cluster).spec.clusterNetwork.pods.cidrBlocks).toHaveLength(2);
  });

  it.each([
    {
      name: 'host bits in a pod range',
      pods: ['10.244.0.1/16'],
      services: ['10.96.0.0/12'],
      field: 'spec.clusterNetwork.pods.cidrBlocks[0]',
      message: 'host bits',
    },
    {
      name: 'host bits in a service range',
      pods: ['10.244.0.0/16'],
      services: ['10.96.0.0/12', 'fd00::1/112'],
      field: 'spec.clusterNetwork.services.cidrBlocks[1]',
      message: 'host bits',
    },
    {
      name: 'a prefix out of range',
      pods: ['10.244.0.0/40'],
      services: ['10.96.0.0/12'],
      field: 'spec.clusterNetwork.pods.cidrBlocks[0]',
      message: 'from 0 to 32',
    },
    { name: 'not a CIDR', pods: ['10.244.0.0/16'], services: ['services'], field: 'spec.clusterNetwork.services.cidrBlocks[0]', message: 'CIDR notation' },
    {
      name: 'an IPv4 pod range smaller than a node range',
      pods: ['10.244.0.0/25'],
      services: ['10.96.0.0/12'],
      field: 'spec.clusterNetwork.pods.cidrBlocks[0]',
      message: 'from /8 to /24',
    },
    {
      name: 'an IPv4 pod range too large to cut into /24s',
      pods: ['10.0.0.0/7'],
      services: ['192.168.0.0/16'],
      field: 'spec.clusterNetwork.pods.cidrBlocks[0]',
      message: 'from /8 to /24',
    },
    {
      name: 'an IPv6 pod range smaller than a /64',
      pods: ['fd00::/80'],
      services: ['fd01::/112'],
      field: 'spec.clusterNetwork.pods.cidrBlocks[0]',
      message: 'from /48 to /64',
    },
    {
      name: 'two pod ranges of one family',
      pods: ['10.244.0.0/16', '10.245.0.0/16'],
      services: ['10.96.0.0/12'],
      field: 'spec.clusterNetwork.pods.cidrBlocks[1]',
      message: 'other IP family',
    },
    {
      name: 'three service ranges',
      pods: ['10.244.0.0/16'],
      services: ['10.96.0.0/12', 'fd00::/112', '10.112.0.0/12'],
      field: 'spec.clusterNetwork.services.cidrBlocks',
      message: 'at most two CIDR blocks',
    },
    { name: 'no pod range', pods: [], services: ['10.96.0.0/12'], field: 'spec.clusterNetwork.pods.cidrBlocks', message: 'at least one CIDR block' },
    {
      name: 'services inside the pods',
      pods: ['10.0.0.0/8'],
      services: ['10.96.0.0/12'],
      field: 'spec.clusterNetwork.services.cidrBlocks[0]',
      message: 'overlaps the pod range 10.0.0.0/8',
    },
    {
      name: 'pods inside the services',
      pods: ['10.96.0.0/16'],
      services: ['10.96.0.0/12'],
      field: 'spec.clusterNetwork.services.cidrBlocks[0]',
      message: 'overlaps the pod range 10.96.0.0/16',
    },
    { name: 'equal ranges', pods: ['10.96.0.0/16'], services: ['10.96.0.0/16'], field: 'spec.clusterNetwork.services.cidrBlocks[0]', message: 'overlaps' },
    {
      name: 'overlapping IPv6 ranges',
      pods: ['10.244.0.0/16', 'fd00:10::/56'],
      services: ['10.96.0.0/12', 'fd00:10::/112'],
      field: 'spec.clusterNetwork.services.cidrBlocks[1]',
      message: 'overlaps the pod range fd00:10::/56',
    },
  ])('refuses $name', ({ pods, services, field, message }) => {
    expectOnlyCause(createCauses(net(pods, services)), field, 'FieldValueInvalid', message);
  });

  it('accepts neighbouring ranges that do not overlap', () => {
    expect(created(net(['10.96.16.0/20'], ['10.96.0.0/20'])).spec).toMatchObject({ clusterNetwork: { services: { cidrBlocks: ['10.96.0.0/20'] } } });
  });

  it('refuses a service domain that is not a DNS name', () => {
    const causes = createCauses(withValue(minimal.Cluster(), 'spec.clusterNetwork', { serviceDomain: 'Cluster_Local' }));
    expectOnlyCause(causes, 'spec.clusterNetwork.serviceDomain', 'FieldValueInvalid', 'DNS domain');
  });
});

describe('strict where ipaddr.js is lenient (as Go net/netip)', () => {
  it.each([
    { name: 'an IPv4 address as one number', text: '167772160/8' },
    { name: 'an IPv4 address of two parts', text: '10.1/16' },
    { name: 'a hex IPv4 octet', text: '0x0a.0.0.0/8' },
    { name: 'an octal IPv4 octet in an embedded IPv4 address', text: '::ffff:010.0.0.0/104' },
    { name: 'a hex IPv4 octet in an embedded IPv4 address', text: '::ffff:0xa.0.0.0/104' },
    { name: 'an IPv6 zone', text: 'fd00::%1/64' },
  ])('refuses $name', ({ text }) => {
    const r = parseCidr(text);
    expect(r.ok ? 'ok' : r.reason).toContain('not a valid IPv4 or IPv6 address');
  });

  it("reads '::a.b.c.d' as the IPv4-compatible address it is, not as an IPv4-mapped one", () => {
    expect(parseIPv6('::10.0.0.1')).toBe(0x0a000001n);
    expect(parseIPv6('::ffff:10.0.0.1')).toBe(0xffff0a000001n);
  });
});
