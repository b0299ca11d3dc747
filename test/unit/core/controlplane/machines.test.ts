/**
 * Which control-plane machine goes where, and which goes first: the rules of Cluster API's
 * controlplane/kubeadm/internal/control_plane.go (NextFailureDomainForScaleUp,
 * MachineInFailureDomainWithMostMachines) and util/failuredomains/failure_domains.go (PickFewest, PickMost),
 * with the cases of their tests (control_plane_test.go, failure_domains_test.go) in this project's terms.
 */
import { describe, expect, it } from 'vitest';
import { Annotations } from '../../../../functions/api/common.js';
import type { Machine } from '../../../../functions/api/machine.js';
import {
  isUpToDate,
  machineInFailureDomainWithMostMachines,
  newControlPlaneMachine,
  nextFailureDomainForScaleUp,
  nextMachineName,
  outdatedReasons,
  selectMachineForScaleDown,
} from '../../../../functions/core/controlplane/machines.js';
import { T0, cluster, controlPlane, cpMachine } from '../cluster/fixtures.js';

const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const cp = controlPlane({ version: 'v1.31.0' });
/** A control-plane machine pinned to a zone, `age` seconds old, up to date unless its version says otherwise. */
const m = (name: string, zone: string | undefined, o: { age?: number; version?: string; deleting?: boolean; marked?: boolean } = {}): Machine =>
  cpMachine(name, {
    ...(zone ? { failureDomain: zone } : {}),
    age: o.age ?? 3600,
    version: o.version ?? 'v1.31.0',
    deleting: o.deleting ?? false,
    ...(o.marked ? { annotations: { [Annotations.deleteMachine]: '' } } : {}),
  });
const names = (ms: readonly (Machine | undefined)[]) => ms.map((x) => x?.metadata.name);

describe('up-to-date control-plane machines', () => {
  it.each([
    { name: 'same version and machine class', machine: { version: 'v1.31.0', class: 'small' }, reasons: [] },
    { name: 'another version', machine: { version: 'v1.30.0', class: 'small' }, reasons: ['version v1.30.0, v1.31.0 required'] },
    { name: 'another machine class', machine: { version: 'v1.31.0', class: 'large' }, reasons: ['machine class large, small required'] },
    { name: 'both', machine: { version: 'v1.30.0', class: 'large' }, reasons: ['version v1.30.0, v1.31.0 required', 'machine class large, small required'] },
  ])('$name', ({ machine, reasons }) => {
    // Prepare
    const x = cpMachine('x', { version: machine.version, machineClass: machine.class });
    // Act & Assess
    expect(outdatedReasons(x, cp)).toEqual(reasons);
    expect(isUpToDate(x, cp)).toBe(reasons.length === 0);
  });
});

describe('nextFailureDomainForScaleUp (PickFewest)', () => {
  it.each([
    { name: 'no failure domains: the provider places the machine', zones: [], machines: [], want: undefined },
    { name: 'an empty control plane: the first zone in name order', zones: ['zone-b', 'zone-a'], machines: [], want: 'zone-a' },
    { name: 'the zone with the fewest machines', zones: ZONES, machines: [m('a1', 'zone-a'), m('b1', 'zone-b')], want: 'zone-c' },
    {
      name: 'the zone with the fewest up-to-date machines, before the fewest machines',
      zones: ['zone-a', 'zone-b'],
      machines: [m('a1', 'zone-a', { version: 'v1.30.0' }), m('a2', 'zone-a', { version: 'v1.30.0' }), m('b1', 'zone-b')],
      want: 'zone-a',
    },
    {
      name: 'with as many up-to-date machines, the zone with the fewest machines overall',
      zones: ['zone-a', 'zone-b'],
      machines: [m('a1', 'zone-a', { version: 'v1.30.0' }), m('a2', 'zone-a'), m('b1', 'zone-b')],
      want: 'zone-b',
    },
    {
      name: 'a deleting up-to-date machine does not count as up to date',
      zones: ['zone-a', 'zone-b'],
      machines: [m('a1', 'zone-a', { deleting: true }), m('b1', 'zone-b', { version: 'v1.30.0' }), m('b2', 'zone-b', { version: 'v1.30.0' })],
      want: 'zone-a',
    },
    {
      name: 'machines outside the known zones, or in none, count for no zone',
      zones: ['zone-a', 'zone-b'],
      machines: [m('x1', 'zone-x'), m('n1', undefined), m('a1', 'zone-a')],
      want: 'zone-b',
    },
  ])('$name', ({ zones, machines, want }) => {
    // Act & Assess
    expect(nextFailureDomainForScaleUp(zones, machines, cp)).toBe(want);
  });
});

describe('machineInFailureDomainWithMostMachines (PickMost)', () => {
  it.each([
    {
      name: 'the oldest machine of the zone with the most machines',
      all: [m('a1', 'zone-a'), m('b1', 'zone-b', { age: 100 }), m('b2', 'zone-b', { age: 200 })],
      eligible: ['a1', 'b1', 'b2'],
      want: 'b2',
    },
    {
      name: 'the zone with the most eligible machines, before the zone with the most machines',
      all: [m('a1', 'zone-a'), m('a2', 'zone-a'), m('a3', 'zone-a'), m('b1', 'zone-b'), m('b2', 'zone-b')],
      eligible: ['a1', 'b1', 'b2'],
      want: 'b1',
    },
    {
      name: 'with as many eligible machines, the zone with the most machines',
      all: [m('a1', 'zone-a'), m('b1', 'zone-b'), m('b2', 'zone-b')],
      eligible: ['a1', 'b1'],
      want: 'b1',
    },
    {
      name: 'with as many machines, the first zone in name order',
      all: [m('b1', 'zone-b', { age: 9000 }), m('a1', 'zone-a')],
      eligible: ['a1', 'b1'],
      want: 'a1',
    },
    {
      name: 'never a zone without an eligible machine, however full',
      all: [m('a1', 'zone-a'), m('a2', 'zone-a'), m('a3', 'zone-a'), m('b1', 'zone-b')],
      eligible: ['b1'],
      want: 'b1',
    },
    {
      name: 'first a machine outside the known zones (a zone that went away is emptied first), its oldest',
      all: [m('a1', 'zone-a'), m('a2', 'zone-a'), m('x1', 'zone-x', { age: 100 }), m('x2', 'zone-x', { age: 200 })],
      eligible: ['a1', 'a2', 'x1', 'x2'],
      want: 'x2',
    },
    {
      name: 'a machine in no zone counts as outside the known zones',
      all: [m('a1', 'zone-a'), m('a2', 'zone-a'), m('n1', undefined)],
      eligible: ['a1', 'a2', 'n1'],
      want: 'n1',
    },
  ])('$name', ({ all, eligible, want }) => {
    // Prepare: the zones in reverse name order, so that ties are broken by name and not by their order.
    const zones = [...ZONES].reverse();
    // Act
    const picked = machineInFailureDomainWithMostMachines(
      zones,
      all,
      all.filter((x) => eligible.includes(x.metadata.name)),
    );
    // Assess
    expect(picked?.metadata.name).toBe(want);
  });
});

describe('selectMachineForScaleDown', () => {
  // Every machine alone in its own zone, so only the order of preference decides.
  const old = m('old', 'zone-a', { version: 'v1.30.0' });
  const oldNotReady = m('old-not-ready', 'zone-b', { version: 'v1.30.0' });
  const fresh = m('fresh', 'zone-c');
  const ready = (x: Machine) => x !== oldNotReady;

  it.each([
    { name: 'an outdated machine marked with delete-machine first', marked: ['old', 'fresh'], want: 'old' },
    { name: 'then any machine marked with delete-machine', marked: ['fresh'], want: 'fresh' },
    { name: 'then an outdated machine whose node is not Ready', marked: [], want: 'old-not-ready' },
  ])('$name', ({ marked, want }) => {
    // Prepare
    const mark = (x: Machine) =>
      marked.includes(x.metadata.name) ? { ...x, metadata: { ...x.metadata, annotations: { [Annotations.deleteMachine]: '' } } } : x;
    const machines = [old, oldNotReady, fresh].map(mark);
    const outdated = machines.filter((x) => x.spec.version !== 'v1.31.0');
    // Act & Assess
    expect(selectMachineForScaleDown(ZONES, machines, outdated, (x) => x.metadata.name !== 'old-not-ready')?.metadata.name).toBe(want);
  });

  it('then any outdated machine, then any machine', () => {
    // Act & Assess
    expect(names([selectMachineForScaleDown(ZONES, [old, fresh], [old], ready), selectMachineForScaleDown(ZONES, [fresh], [], ready)])).toEqual([
      'old',
      'fresh',
    ]);
    expect(selectMachineForScaleDown(ZONES, [], [], ready)).toBeUndefined();
  });
});

describe('new control-plane machines', () => {
  it('names a machine after its control plane, cut so that the name stays within 63 characters', () => {
    // Prepare
    const long = controlPlane();
    long.metadata.name = 'c'.repeat(70);
    // Act
    const name = nextMachineName(long, [], T0);
    // Assess
    expect(name).toMatch(/^c{57}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('prefers a zone with an annotation, and carries none without a zone', () => {
    // Act
    const inZone = newControlPlaneMachine(cp, cluster(), 'cp-x', 'zone-b');
    const anywhere = newControlPlaneMachine(cp, cluster(), 'cp-y', undefined);
    // Assess
    expect(inZone.metadata.annotations).toEqual({ [Annotations.preferredFailureDomain]: 'zone-b' });
    expect(inZone.spec.failureDomain).toBeUndefined();
    expect(anywhere.metadata).not.toHaveProperty('annotations');
  });
});
