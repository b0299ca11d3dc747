/**
 * A MachineSet's in-place fields on its Machines (cluster-api machineset_controller.go syncMachines and
 * computeDesiredMachine): labels and annotations of the template, recorded so a key removed from the template can
 * be removed, what others set kept, and the drain timeout, also on a machine being deleted.
 */
import { describe, expect, it } from 'vitest';
import { Annotations, Labels } from '../../../../functions/api/common.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { canonicalJson } from '../../../../functions/api/kind.js';
import { withTeardownTimeouts } from '../../../../functions/core/machine/deletion.js';
import {
  ANNOTATIONS_FROM_TEMPLATE,
  LABELS_FROM_TEMPLATE,
  machineInPlace,
  sameStringMap,
  templateMetadata,
} from '../../../../functions/core/machineset/in-place.js';
import { newMachine, planMachineSet } from '../../../../functions/core/machineset/planner.js';
import { T0, cluster, machineClass, machineSet, nodesFor } from './fixtures.js';

function withTemplate(ms: MachineSet, labels: Record<string, string>, annotations: Record<string, string> | undefined, drain = 300): MachineSet {
  const t = ms.spec.template;
  return {
    ...ms,
    spec: {
      ...ms.spec,
      template: {
        metadata: { labels: { ...t.metadata.labels, ...labels }, ...(annotations ? { annotations } : {}) },
        spec: { ...t.spec, nodeDrainTimeoutSeconds: drain },
      },
    },
  };
}

function running(ms: MachineSet, name: string, preferred?: string): Machine {
  const m = newMachine(ms, name, preferred);
  return { ...m, metadata: { ...m.metadata, uid: `${name}-uid`, resourceVersion: '4' }, status: { phase: 'Running', nodeRef: { name: `${name}-node` } } };
}

describe('machineInPlace', () => {
  const plain = machineSet({ replicas: 1 });

  it('is undefined for a machine that has the template already, so nothing is written', () => {
    // Act / Assess
    expect(machineInPlace(running(plain, 'a'), plain)).toBeUndefined();
    const labelled = withTemplate(plain, { team: 'a' }, { note: 'x' });
    expect(machineInPlace(running(labelled, 'b'), labelled)).toBeUndefined();
  });

  it('a machine made before the keys were recorded gets the template and the record, and keeps what it had', () => {
    // Prepare: a machine of the earlier release (no record), spread to zone-b, labelled by an operator.
    const ms = withTemplate(plain, { team: 'a' }, { note: 'x' });
    const before = running(plain, 'old', 'zone-b');
    const earlier = { ...before, metadata: { ...before.metadata, labels: { ...before.metadata.labels, 'example.com/pager': 'on' } } };
    // Act
    const after = machineInPlace(earlier, ms)!;
    // Assess
    expect(after.metadata.labels).toMatchObject({ team: 'a', 'example.com/pager': 'on', [Labels.setName]: ms.metadata.name, [Labels.clusterName]: 'c1' });
    expect(after.metadata.annotations).toEqual({
      note: 'x',
      [Annotations.preferredFailureDomain]: 'zone-b',
      [LABELS_FROM_TEMPLATE]: 'team',
      [ANNOTATIONS_FROM_TEMPLATE]: 'note',
    });
  });

  it('a key removed from the template goes, including its record; a changed value is replaced', () => {
    // Prepare
    const had = withTemplate(plain, { team: 'a', tier: 'gold' }, { note: 'x' });
    const now = withTemplate(plain, { tier: 'silver' }, undefined);
    // Act
    const after = machineInPlace(running(had, 'a'), now)!;
    // Assess
    expect(after.metadata.labels).not.toHaveProperty('team');
    expect(after.metadata.labels?.tier).toBe('silver');
    expect(after.metadata.annotations).toEqual({ [LABELS_FROM_TEMPLATE]: 'tier' });
  });

  it('a machine being deleted gets only the drain timeout', () => {
    // Prepare
    const m = running(plain, 'a');
    const deleting = { ...m, metadata: { ...m.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    // Act
    const after = machineInPlace(deleting, withTemplate(plain, { team: 'a' }, undefined, 30))!;
    // Assess
    expect(after.spec.nodeDrainTimeoutSeconds).toBe(30);
    expect(after.metadata).toEqual(deleting.metadata);
  });

  it('leaves what a machine is alone: version, class, failure domain, providerID', () => {
    // Prepare
    const m = running(plain, 'a');
    const launched = { ...m, spec: { ...m.spec, providerID: 'sim:///zone-a/sim-1', failureDomain: 'zone-a' } };
    const other = {
      ...plain,
      spec: { ...plain.spec, template: { ...plain.spec.template, spec: { ...plain.spec.template.spec, version: 'v1.32.0', nodeDrainTimeoutSeconds: 1 } } },
    };
    // Act
    const after = machineInPlace(launched, other)!;
    // Assess
    expect(after.spec).toEqual({ ...launched.spec, nodeDrainTimeoutSeconds: 1 });
  });
});

describe('planMachineSet, in place', () => {
  it('adopts an orphan and gives it the template in one write', () => {
    // Prepare
    const ms = withTemplate(machineSet({ replicas: 1 }), { team: 'a' }, undefined);
    const made = running(machineSet({ replicas: 1 }), 'orphan');
    const { ownerReferences: _o, ...metadata } = made.metadata;
    const orphan = { ...made, metadata };
    // Act
    const plan = planMachineSet({
      machineSet: ms,
      machines: [orphan],
      cluster: cluster(),
      machineClass: machineClass(),
      observed: { instances: [], nodes: nodesFor([orphan]) },
      now: T0,
    });
    // Assess
    const writes = plan.writes.filter((w) => w.type === 'Update');
    expect(writes).toHaveLength(1);
    const m = writes[0]!.object as Machine;
    expect(m.metadata.ownerReferences?.[0]?.uid).toBe(ms.metadata.uid);
    expect(m.metadata.labels?.team).toBe('a');
  });

  it('notes the machines it updates in place', () => {
    // Prepare
    const ms = machineSet({ replicas: 2 });
    const machines = [running(ms, 'a'), running(ms, 'b')];
    // Act
    const plan = planMachineSet({
      machineSet: withTemplate(ms, {}, undefined, 60),
      machines,
      cluster: cluster(),
      machineClass: machineClass(),
      observed: { instances: [], nodes: nodesFor(machines) },
      now: T0,
    });
    // Assess
    expect(plan.notes).toContain('MachineSet ms1: updating a, b in place (template labels, annotations, teardown timeouts)');
    expect(plan.writes.filter((w) => w.type === 'Create' || w.type === 'Delete')).toEqual([]);
  });
});

/** machineInPlace as it was written first: the whole next machine compared as canonical JSON (the oracle). */
function wholeObjectInPlace(machine: Machine, ms: MachineSet): Machine | undefined {
  const spec = withTeardownTimeouts(machine.spec, ms.spec.template.spec);
  let metadata = machine.metadata;
  if (machine.metadata.deletionTimestamp === undefined) {
    const { labels, annotations } = templateMetadata(ms, machine.metadata.labels, machine.metadata.annotations);
    const { annotations: _old, ...rest } = machine.metadata;
    metadata = { ...rest, labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
  }
  const next = { ...machine, metadata, spec };
  return canonicalJson({ m: next.metadata, s: next.spec }) === canonicalJson({ m: machine.metadata, s: machine.spec }) ? undefined : next;
}

describe('machineInPlace compared field by field (the planner at 50,000 machines)', () => {
  const plain = machineSet({ replicas: 1 });
  const templates: MachineSet[] = [
    plain,
    withTemplate(plain, { team: 'a' }, undefined),
    withTemplate(plain, { team: 'a', tier: 'web' }, { note: 'x' }),
    withTemplate(plain, { team: 'b' }, { note: 'y', other: 'z' }, 60),
    withTemplate(plain, {}, { [LABELS_FROM_TEMPLATE]: 'spoof' }, 0),
  ].flatMap((ms) => [
    ms,
    { ...ms, spec: { ...ms.spec, template: { ...ms.spec.template, spec: { ...ms.spec.template.spec, nodeVolumeDetachTimeoutSeconds: 30 } } } },
  ]);
  // Machines as a set made them, then changed by hand the ways a user or an older release could have.
  const edits: ((m: Machine) => Machine)[] = [
    (m) => m,
    (m) => ({ ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, extra: '1' } } }),
    (m) => ({ ...m, metadata: { ...m.metadata, annotations: {} } }),
    (m) => {
      const { annotations: _a, ...rest } = m.metadata;
      return { ...m, metadata: rest };
    },
    (m) => ({ ...m, metadata: { ...m.metadata, annotations: { ...m.metadata.annotations, [LABELS_FROM_TEMPLATE]: '' } } }),
    (m) => ({ ...m, metadata: { ...m.metadata, annotations: { ...m.metadata.annotations, note: 'changed', [ANNOTATIONS_FROM_TEMPLATE]: 'note' } } }),
    (m) => ({ ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, team: undefined as unknown as string } } }),
    (m) => ({ ...m, metadata: { ...m.metadata, deletionTimestamp: T0.toISOString() } }),
    (m) => ({ ...m, spec: { ...m.spec, nodeDeletionTimeoutSeconds: 10 } }),
  ];

  it('gives what a whole-object JSON comparison gives, for every template, machine and edit', () => {
    let unchanged = 0;
    let changed = 0;
    for (const from of templates)
      for (const to of templates)
        for (const [i, edit] of edits.entries()) {
          // Prepare
          const m = edit(running(from, `m${i}`, i % 2 === 0 ? 'zone-b' : undefined));
          // Act
          const got = machineInPlace(m, to);
          // Assess
          expect(got, `edit ${i}`).toEqual(wholeObjectInPlace(m, to));
          if (got === undefined) unchanged++;
          else changed++;
        }
    // Both answers were exercised, so neither path is left untested.
    expect(unchanged).toBeGreaterThan(20);
    expect(changed).toBeGreaterThan(20);
  });
});

describe('sameStringMap', () => {
  it.each([
    { name: 'same keys and values, any order', a: { x: '1', y: '2' }, b: { y: '2', x: '1' }, same: true },
    { name: 'an undefined value is no key', a: { x: '1', y: undefined }, b: { x: '1' }, same: true },
    { name: 'a value differs', a: { x: '1' }, b: { x: '2' }, same: false },
    { name: 'a key more', a: { x: '1' }, b: { x: '1', y: '2' }, same: false },
    { name: 'an empty map is not no map', a: {}, b: undefined, same: false },
    { name: 'no map on either side', a: undefined, b: undefined, same: true },
  ] as { name: string; a?: Record<string, string>; b?: Record<string, string>; same: boolean }[])('$name', ({ a, b, same }) => {
    expect(sameStringMap(a, b)).toBe(same);
    expect(sameStringMap(b, a)).toBe(same);
  });
});
