/**
 * A MachineSet's in-place fields on its Machines (cluster-api machineset_controller.go syncMachines and
 * computeDesiredMachine): labels and annotations of the template, recorded so a key removed from the template can
 * be removed, what others set kept, and the drain timeout, also on a machine being deleted.
 */
import { describe, expect, it } from 'vitest';
import { Annotations, Labels } from '../../../../functions/api/common.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { ANNOTATIONS_FROM_TEMPLATE, LABELS_FROM_TEMPLATE, machineInPlace } from '../../../../functions/core/machineset/in-place.js';
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
