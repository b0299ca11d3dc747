/** Which failure domains a MachineSet spreads its machines over, and where each new machine goes. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DomainNumbers, failureDomainPlacement, spreadNewMachines } from '../../../../functions/core/machineset/failure-domains.js';
import { cluster, machineClass } from './fixtures.js';

describe('failureDomainPlacement', () => {
  it.each([
    {
      name: 'sim cluster domains',
      c: cluster({ failureDomains: ['a', 'b', 'c'] }),
      mc: machineClass(),
      pinned: undefined,
      expect: { ok: true, domains: ['a', 'b', 'c'] },
    },
    { name: 'no domains: no spreading', c: cluster(), mc: machineClass(), pinned: undefined, expect: { ok: true, domains: [] } },
    {
      name: 'aws: the availability zones of the subnets, in order',
      c: cluster({
        aws: {
          subnets: [
            { id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1b' },
            { id: 'subnet-0123456789abcdef1', availabilityZone: 'us-east-1a' },
          ],
        },
      }),
      mc: machineClass(),
      pinned: undefined,
      expect: { ok: true, domains: ['us-east-1b', 'us-east-1a'] },
    },
    {
      name: 'restricted by the MachineClass',
      c: cluster({ failureDomains: ['a', 'b', 'c'] }),
      mc: machineClass('small', ['c', 'a']),
      pinned: undefined,
      expect: { ok: true, domains: ['a', 'c'] },
    },
    {
      name: 'the MachineClass domains when the cluster has none',
      c: cluster(),
      mc: machineClass('small', ['x', 'y']),
      pinned: undefined,
      expect: { ok: true, domains: ['x', 'y'] },
    },
    {
      name: 'pinned by the template',
      c: cluster({ failureDomains: ['a', 'b'] }),
      mc: machineClass(),
      pinned: 'b',
      expect: { ok: true, domains: ['b'], pinned: 'b' },
    },
    {
      name: 'a missing MachineClass does not restrict',
      c: cluster({ failureDomains: ['a', 'b'] }),
      mc: undefined,
      pinned: undefined,
      expect: { ok: true, domains: ['a', 'b'] },
    },
  ])('$name', ({ c, mc, pinned, expect: want }) => {
    // Act
    const p = failureDomainPlacement(c, mc, pinned);
    // Assess
    expect(p).toEqual(want);
  });

  it.each([
    {
      name: 'pinned outside the allowed domains',
      c: cluster({ failureDomains: ['a', 'b'] }),
      mc: machineClass(),
      pinned: 'z',
      message: /failure domain z is not one of the allowed failure domains \(a, b\)/,
    },
    {
      name: 'class and cluster share no domain',
      c: cluster({ failureDomains: ['a', 'b'] }),
      mc: machineClass('small', ['z']),
      pinned: undefined,
      message: /MachineClass small allows failure domains z, none of which cluster c1 has/,
    },
  ])('refuses: $name', ({ c, mc, pinned, message }) => {
    // Act
    const p = failureDomainPlacement(c, mc, pinned);
    // Assess
    expect(p.ok).toBe(false);
    expect(!p.ok && p.message).toMatch(message);
  });
});

describe('spreadNewMachines', () => {
  it.each([
    { name: 'empty domains: round robin from the first', domains: ['a', 'b', 'c'], existing: {}, count: 4, expect: ['a', 'b', 'c', 'a'] },
    { name: 'fills the emptiest first', domains: ['a', 'b', 'c'], existing: { a: 3, b: 1 }, count: 3, expect: ['c', 'b', 'c'] },
    { name: 'no domains: no failure domain', domains: [], existing: {}, count: 2, expect: [undefined, undefined] },
  ])('$name', ({ domains, existing, count, expect: want }) => {
    // Act
    const out = spreadNewMachines({ ok: true, domains }, new Map(Object.entries(existing)), count);
    // Assess
    expect(out).toEqual(want);
  });
});

describe('failureDomainPlacement, edges', () => {
  it('a MachineClass whose failure domains the cluster has none of fails, and says which', () => {
    expect(failureDomainPlacement(cluster({ failureDomains: ['a', 'b'] }), machineClass('small', ['x', 'y']), undefined)).toEqual({
      ok: false,
      reason: 'InvalidFailureDomain',
      message: 'MachineClass small allows failure domains x, y, none of which cluster c1 has (a, b)',
    });
  });

  it('without failure domains to choose from, any pinned domain is taken as it is', () => {
    expect(failureDomainPlacement(cluster(), machineClass(), 'z')).toEqual({ ok: true, domains: ['z'], pinned: 'z' });
  });
});

describe('DomainNumbers', () => {
  it('numbers domains in order of first appearance, a repeat with its first number, below and past the few it walks', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 200 }), (drawn) => {
        // Prepare
        const names = drawn.map((d) => `zone-${d}`);
        const numbers = new DomainNumbers();
        // Act
        const ids = names.map((name) => numbers.idOf(name));
        // Assess: the plain rule, an index into the distinct names in order of appearance
        const distinct = [...new Set(names)];
        expect(ids).toEqual(names.map((name) => distinct.indexOf(name)));
        expect(numbers.names).toEqual(distinct);
      }),
      { numRuns: 200 },
    );
  });
});
