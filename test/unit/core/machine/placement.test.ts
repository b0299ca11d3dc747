/**
 * Where a machine's instance goes (core/machine/placement.ts): the zones a launch may use and the order of its
 * (instance type, zone) attempts. The subnet of a machine's failure domain, and the refusal of a failure domain
 * the cluster has no subnet in, follow cluster-api-provider-aws pkg/cloud/services/ec2/instances.go (findSubnet);
 * the capacity fallback over instance types and zones is clusterless's own.
 */
import { describe, expect, it } from 'vitest';
import { clusterProvider, machineClassSpec } from '../../../../functions/api/providers/index.js';
import {
  type LaunchAttempt,
  type PlacementRequest,
  type SeededUnit,
  launchAttempts,
  sameAttempt,
  zonesFor,
} from '../../../../functions/core/machine/placement.js';
import { seededUnit } from '../../../../functions/seeded-random.js';

const DEFAULT_ZONE = 'zone-default';

/** A draw that always answers `value` and records what it was asked. */
function fixedDraw(value: number): SeededUnit & { calls: [string, string][] } {
  const calls: [string, string][] = [];
  return Object.assign(
    (seed: string, key: string) => {
      calls.push([seed, key]);
      return value;
    },
    { calls },
  );
}

/** A draw that must not be made: the order is decided without it. */
const noDraw: SeededUnit = () => {
  throw new Error('the seeded draw was made');
};

function request(
  o: { clusterZones?: string[]; classZones?: string[]; failureDomain?: string; preferred?: string; recorded?: LaunchAttempt; uid?: string } = {},
): PlacementRequest {
  return {
    machineUid: o.uid ?? 'machine-uid-1',
    clusterProvider: clusterProvider.parse({ sim: { failureDomains: o.clusterZones ?? [] } }),
    machineClass: machineClassSpec.parse({ sim: { failureDomains: o.classZones ?? [] } }),
    ...(o.failureDomain !== undefined ? { failureDomain: o.failureDomain } : {}),
    ...(o.preferred !== undefined ? { preferredFailureDomain: o.preferred } : {}),
    ...(o.recorded !== undefined ? { recordedAttempt: o.recorded } : {}),
  };
}

const attempt = (instanceType: string, availabilityZone: string): LaunchAttempt => ({ instanceType, availabilityZone });

describe('zonesFor: the zones a machine of a MachineSet and class may use', () => {
  it.each([
    { name: 'every zone of the cluster when the class lists none', clusterZones: ['a', 'b', 'c'], classZones: [], zones: ['a', 'b', 'c'] },
    { name: "the cluster's zones the class also lists, in the cluster's order", clusterZones: ['a', 'b', 'c'], classZones: ['c', 'a'], zones: ['a', 'c'] },
    { name: "the class's zones when the cluster lists none", clusterZones: [], classZones: ['x', 'y'], zones: ['x', 'y'] },
    { name: "the provider's default zone when neither the cluster nor the class lists one", clusterZones: [], classZones: [], zones: [DEFAULT_ZONE] },
  ])('$name', ({ clusterZones, classZones, zones }) => {
    // Prepare: the draw picks the first allowed zone.
    const r = request({ clusterZones, classZones });
    // Act, Assess
    expect(zonesFor(r, DEFAULT_ZONE, fixedDraw(0))).toEqual({ ok: true, zones });
  });

  it("refuses a machine whose class allows none of the cluster's zones, naming the cluster's zones", () => {
    expect(zonesFor(request({ clusterZones: ['a', 'b'], classZones: ['z'] }), DEFAULT_ZONE, noDraw)).toEqual({
      ok: false,
      message: "the machine class allows none of the cluster's zones (a, b)",
    });
  });

  describe('a pinned failure domain (the template sets spec.failureDomain)', () => {
    it('is the only zone tried when the cluster and class allow it, with no draw', () => {
      expect(zonesFor(request({ clusterZones: ['a', 'b', 'c'], classZones: ['b', 'c'], failureDomain: 'c' }), DEFAULT_ZONE, noDraw)).toEqual({
        ok: true,
        zones: ['c'],
      });
    });

    it('is used as it is when neither the cluster nor the class lists any zone', () => {
      expect(zonesFor(request({ failureDomain: 'anywhere' }), DEFAULT_ZONE, noDraw)).toEqual({ ok: true, zones: ['anywhere'] });
    });

    it.each([
      {
        name: 'a zone the cluster has no subnet in',
        clusterZones: ['a', 'b'],
        classZones: [],
        message: 'failure domain q is not one the machine may use (a, b)',
      },
      {
        name: 'a zone the class does not list, the cluster listing none',
        clusterZones: [],
        classZones: ['x'],
        message: 'failure domain q is not one the machine may use (x)',
      },
      {
        name: 'a zone of the cluster the class excludes',
        clusterZones: ['a', 'q'],
        classZones: ['a'],
        message: 'failure domain q is not one the machine may use (a)',
      },
      {
        name: 'any zone when the class allows none of the cluster’s',
        clusterZones: ['a', 'q'],
        classZones: ['z'],
        message: 'failure domain q is not one the machine may use (none)',
      },
    ])('is refused when it is $name, with the allowed zones in the message', ({ clusterZones, classZones, message }) => {
      expect(zonesFor(request({ clusterZones, classZones, failureDomain: 'q' }), DEFAULT_ZONE, noDraw)).toEqual({ ok: false, message });
    });
  });

  describe('the order of the zones of an unpinned machine', () => {
    it('starts at the preferred zone (where the MachineSet spread the machine) and wraps around, with no draw', () => {
      expect(zonesFor(request({ clusterZones: ['a', 'b', 'c', 'd'], preferred: 'c' }), DEFAULT_ZONE, noDraw)).toEqual({
        ok: true,
        zones: ['c', 'd', 'a', 'b'],
      });
    });

    it('starts at the first zone when that is the preferred one', () => {
      expect(zonesFor(request({ clusterZones: ['a', 'b', 'c'], preferred: 'a' }), DEFAULT_ZONE, noDraw)).toEqual({ ok: true, zones: ['a', 'b', 'c'] });
    });

    it.each([
      { name: 'the first zone for a draw of 0', draw: 0, zones: ['a', 'b', 'c'] },
      { name: 'the zone the draw falls in, rounded down', draw: 0.5, zones: ['b', 'c', 'a'] },
      { name: 'the last zone for a draw just under 1', draw: 0.999, zones: ['c', 'a', 'b'] },
    ])('starts without a preference at $name', ({ draw, zones }) => {
      expect(zonesFor(request({ clusterZones: ['a', 'b', 'c'] }), DEFAULT_ZONE, fixedDraw(draw))).toEqual({ ok: true, zones });
    });

    it("draws the first zone from the machine's uid alone (seed 'zones'), so a retried launch tries the same order", () => {
      // Prepare
      const draw = fixedDraw(0.5);
      // Act
      zonesFor(request({ clusterZones: ['a', 'b', 'c'], uid: 'uid-42' }), DEFAULT_ZONE, draw);
      // Assess
      expect(draw.calls).toEqual([['zones', 'uid-42']]);
    });

    it('falls back to the draw when the preferred zone is not one the machine may use', () => {
      expect(zonesFor(request({ clusterZones: ['a', 'b', 'c'], classZones: ['a', 'b'], preferred: 'c' }), DEFAULT_ZONE, fixedDraw(0.5))).toEqual({
        ok: true,
        zones: ['b', 'a'],
      });
    });

    it('is the same on every call with the seeded draw, and spreads machines over the zones', () => {
      // Prepare
      const zones = ['a', 'b', 'c'];
      const first = (uid: string) => {
        const p = zonesFor(request({ clusterZones: zones, uid }), DEFAULT_ZONE, seededUnit);
        return p.ok ? p.zones[0] : undefined;
      };
      const uids = Array.from({ length: 30 }, (_, i) => `machine-${i}`);
      // Act
      const starts = uids.map(first);
      // Assess: a retry starts where the first launch did; thirty machines do not all start in one zone.
      expect(uids.map(first)).toEqual(starts);
      expect(new Set(starts)).toEqual(new Set(zones));
    });
  });
});

describe('launchAttempts: the capacity fallback over instance types and zones', () => {
  it('tries every instance type in order within a zone before the next zone', () => {
    expect(launchAttempts(request({ clusterZones: ['a', 'b'], preferred: 'b' }), ['m7g.large', 'm6g.large'], DEFAULT_ZONE, noDraw)).toEqual({
      ok: true,
      attempts: [attempt('m7g.large', 'b'), attempt('m6g.large', 'b'), attempt('m7g.large', 'a'), attempt('m6g.large', 'a')],
    });
  });

  it('tries only the pinned zone, every instance type in order', () => {
    expect(launchAttempts(request({ clusterZones: ['a', 'b'], failureDomain: 'a' }), ['t1', 't2'], DEFAULT_ZONE, noDraw)).toEqual({
      ok: true,
      attempts: [attempt('t1', 'a'), attempt('t2', 'a')],
    });
  });

  it('passes on the refusal when the machine may use no zone', () => {
    expect(launchAttempts(request({ clusterZones: ['a'], classZones: ['z'] }), ['t1'], DEFAULT_ZONE, noDraw)).toEqual({
      ok: false,
      message: "the machine class allows none of the cluster's zones (a)",
    });
  });

  describe('the attempt recorded before an earlier launch request (sent again first after a crash)', () => {
    const r = (recorded: LaunchAttempt) => request({ clusterZones: ['a', 'b'], preferred: 'a', recorded });

    it('comes first, the others keeping their order', () => {
      expect(launchAttempts(r(attempt('t1', 'b')), ['t1', 't2'], DEFAULT_ZONE, noDraw)).toEqual({
        ok: true,
        attempts: [attempt('t1', 'b'), attempt('t1', 'a'), attempt('t2', 'a'), attempt('t2', 'b')],
      });
    });

    it('changes nothing when it is already the first attempt', () => {
      expect(launchAttempts(r(attempt('t1', 'a')), ['t1', 't2'], DEFAULT_ZONE, noDraw)).toEqual({
        ok: true,
        attempts: [attempt('t1', 'a'), attempt('t2', 'a'), attempt('t1', 'b'), attempt('t2', 'b')],
      });
    });

    it.each([
      { name: 'an instance type the class no longer lists', recorded: attempt('t9', 'b') },
      { name: 'a zone the machine may no longer use', recorded: attempt('t2', 'z') },
    ])('is dropped when it has $name', ({ recorded }) => {
      expect(launchAttempts(r(recorded), ['t1', 't2'], DEFAULT_ZONE, noDraw)).toEqual({
        ok: true,
        attempts: [attempt('t1', 'a'), attempt('t2', 'a'), attempt('t1', 'b'), attempt('t2', 'b')],
      });
    });
  });
});

describe('sameAttempt: whether a launch attempt is the recorded one', () => {
  it.each([
    { name: 'the same instance type in the same zone', b: attempt('t1', 'a'), same: true },
    { name: 'another instance type in the same zone', b: attempt('t2', 'a'), same: false },
    { name: 'the same instance type in another zone', b: attempt('t1', 'b'), same: false },
    { name: 'no recorded attempt', b: undefined, same: false },
  ])('$name: $same', ({ b, same }) => {
    expect(sameAttempt(attempt('t1', 'a'), b)).toBe(same);
  });
});
