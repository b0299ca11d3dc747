/**
 * In-place propagation through one reconcile of a deployment: a change of the template's labels, annotations or
 * node drain timeout reaches the MachineSets and their Machines without a machine created or deleted; a change of
 * what machines are (version, MachineClass) rolls. Learnt from cluster-api machinedeployment_rollout_planner.go
 * (computeDesiredMS, for the new and old sets) and machineset_controller.go (syncMachines).
 */
import { describe, expect, it } from 'vitest';
import { Labels } from '../../../../functions/api/common.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { reconcileMachineDeployment } from '../../../../functions/core/machinedeployment/reconcile.js';
import { planMachineDeployment, type MachineDeploymentPlanInput } from '../../../../functions/core/machinedeployment/rollout-planner.js';
import { ANNOTATIONS_FROM_TEMPLATE, LABELS_FROM_TEMPLATE } from '../../../../functions/core/machineset/in-place.js';
import { newMachine } from '../../../../functions/core/machineset/planner.js';
import type { Write } from '../../../../functions/core/plan.js';
import { T0, cluster, daysAgo, machineClass, machineDeployment, node } from '../machineset/fixtures.js';

function input(md: MachineDeployment, machineSets: MachineSet[], machines: Machine[]): MachineDeploymentPlanInput {
  const nodes = machines.map((m) => node(`${m.metadata.name}-node`));
  return {
    machineDeployment: md,
    machineSets,
    machines,
    cluster: cluster(),
    machineClasses: [machineClass('small'), machineClass('large')],
    observed: { instances: [], nodes },
    now: T0,
  };
}

/** The set the deployment creates, as stored, with `replicas` machines made by its planner and running. */
function storedWorld(md: MachineDeployment, replicas = 3): { set: MachineSet; machines: Machine[] } {
  const made = planMachineDeployment(input(md, [], [])).machineSets[0]!;
  const set: MachineSet = {
    ...made,
    metadata: {
      ...made.metadata,
      uid: 'set-uid',
      resourceVersion: '9',
      generation: 1,
      creationTimestamp: daysAgo(5),
      annotations: { ...made.metadata.annotations, 'clusterless.dev/revision': '1' },
    },
    spec: { ...made.spec, replicas },
  };
  const machines = Array.from({ length: replicas }, (_, i) => {
    const m = newMachine(set, `${set.metadata.name}-m${i}`, undefined);
    return {
      ...m,
      metadata: { ...m.metadata, uid: `m${i}-uid`, resourceVersion: '3', creationTimestamp: daysAgo(4) },
      status: { phase: 'Running' as const, nodeRef: { name: `${m.metadata.name}-node` } },
    };
  });
  return { set, machines };
}

/** The deployment with its template changed by `f`, one generation on. */
function edited(md: MachineDeployment, f: (t: MachineDeployment['spec']['template']) => MachineDeployment['spec']['template']): MachineDeployment {
  return { ...md, metadata: { ...md.metadata, generation: 2 }, spec: { ...md.spec, template: f(structuredClone(md.spec.template)) } };
}

const ofType = <T extends Write['type']>(writes: Write[], type: T) => writes.filter((w): w is Extract<Write, { type: T }> => w.type === type);
const updatedOfKind = <K extends 'Machine' | 'MachineSet'>(writes: Write[], kind: K) =>
  ofType(writes, 'Update')
    .filter((w) => w.object.kind === kind)
    .map((w) => w.object as K extends 'Machine' ? Machine : MachineSet);
const rolled = (writes: Write[]) =>
  [...ofType(writes, 'Create'), ...ofType(writes, 'Delete')].map((w) => ('object' in w ? `create ${w.object.kind}` : `delete ${w.ref.kind}`));

describe('in-place propagation, one reconcile', () => {
  const md = machineDeployment({ replicas: 3 });
  const labelled = edited(md, (t) => ({
    ...t,
    metadata: { ...t.metadata, labels: { ...t.metadata.labels, team: 'a' }, annotations: { 'example.com/owner': 'ops' } },
  }));

  it('a template label and annotation change creates and deletes nothing, and reaches the set and every machine', () => {
    // Prepare
    const { set, machines } = storedWorld(md);
    // Act
    const r = reconcileMachineDeployment(input(labelled, [set], machines));
    // Assess
    expect(rolled(r.writes)).toEqual([]);
    const [ms] = updatedOfKind(r.writes, 'MachineSet');
    expect(ms?.metadata.name).toBe(set.metadata.name);
    expect(ms?.spec.template.metadata.labels).toMatchObject({ team: 'a', [Labels.templateHash]: set.spec.template.metadata.labels![Labels.templateHash] });
    expect(ms?.spec.template.metadata.annotations).toEqual({ 'example.com/owner': 'ops' });
    expect(ms?.metadata.labels?.team).toBe('a');
    const updated = updatedOfKind(r.writes, 'Machine');
    expect(updated.map((m) => m.metadata.name).sort()).toEqual(machines.map((m) => m.metadata.name).sort());
    for (const m of updated) {
      expect(m.metadata.labels).toMatchObject({ team: 'a', [Labels.setName]: set.metadata.name });
      expect(m.metadata.annotations).toMatchObject({
        'example.com/owner': 'ops',
        [LABELS_FROM_TEMPLATE]: 'team',
        [ANNOTATIONS_FROM_TEMPLATE]: 'example.com/owner',
      });
      expect(m.metadata.resourceVersion).toBe('3');
    }
    expect(r.machineDeployment.status?.conditions?.find((c) => c.type === 'RollingOut')?.status).toBe('False');
  });

  it('a node drain timeout change creates and deletes nothing and reaches the set, its machines and a machine being deleted', () => {
    // Prepare
    const { set, machines } = storedWorld(md);
    const deleting = { ...machines[2]!, metadata: { ...machines[2]!.metadata, deletionTimestamp: daysAgo(0) } };
    const drain60 = edited(md, (t) => ({ ...t, spec: { ...t.spec, nodeDrainTimeoutSeconds: 60 } }));
    // Act
    const r = reconcileMachineDeployment(input(drain60, [set], [machines[0]!, machines[1]!, deleting]));
    // Assess
    expect(rolled(r.writes).filter((w) => w.startsWith('delete') === false)).toEqual([]);
    expect(updatedOfKind(r.writes, 'MachineSet')[0]?.spec.template.spec.nodeDrainTimeoutSeconds).toBe(60);
    const updated = updatedOfKind(r.writes, 'Machine');
    expect(updated.map((m) => [m.metadata.name, m.spec.nodeDrainTimeoutSeconds])).toEqual(machines.map((m) => [m.metadata.name, 60]));
    expect(updated.find((m) => m.metadata.deletionTimestamp)?.metadata.labels).toEqual(deleting.metadata.labels);
  });

  it('volume-detach and node-deletion timeouts reach the set, its machines and a machine being deleted, rolling nothing; unset again, they leave', () => {
    // Prepare
    const { set, machines } = storedWorld(md);
    const deleting = { ...machines[2]!, metadata: { ...machines[2]!.metadata, deletionTimestamp: daysAgo(0) } };
    const timed = edited(md, (t) => ({ ...t, spec: { ...t.spec, nodeVolumeDetachTimeoutSeconds: 45, nodeDeletionTimeoutSeconds: 20 } }));
    // Act
    const r = reconcileMachineDeployment(input(timed, [set], [machines[0]!, machines[1]!, deleting]));
    // Assess
    expect(rolled(r.writes).filter((w) => w.startsWith('delete') === false)).toEqual([]);
    const ms = updatedOfKind(r.writes, 'MachineSet')[0]!;
    expect([ms.spec.template.spec.nodeVolumeDetachTimeoutSeconds, ms.spec.template.spec.nodeDeletionTimeoutSeconds]).toEqual([45, 20]);
    expect(ms.metadata.name).toBe(set.metadata.name);
    const updated = updatedOfKind(r.writes, 'Machine');
    expect(updated.map((m) => [m.metadata.name, m.spec.nodeVolumeDetachTimeoutSeconds, m.spec.nodeDeletionTimeoutSeconds])).toEqual(
      machines.map((m) => [m.metadata.name, 45, 20]),
    );
    // Act: the fields taken out of the template again
    const again = reconcileMachineDeployment(input(md, [ms], updated));
    // Assess
    const back = updatedOfKind(again.writes, 'Machine');
    expect(back).toHaveLength(3);
    for (const m of back) expect(m.spec).not.toHaveProperty('nodeDeletionTimeoutSeconds');
    expect(rolled(again.writes).filter((w) => w.startsWith('delete') === false)).toEqual([]);
  });

  it('once propagated, the next reconcile writes nothing to the machines', () => {
    // Prepare: the machines and the set as the first reconcile left them.
    const { set, machines } = storedWorld(md);
    const first = reconcileMachineDeployment(input(labelled, [set], machines));
    const set2 = updatedOfKind(first.writes, 'MachineSet')[0]!;
    const machines2 = updatedOfKind(first.writes, 'Machine');
    // Act
    const r = reconcileMachineDeployment(input(labelled, [set2], machines2));
    // Assess
    expect(updatedOfKind(r.writes, 'Machine')).toEqual([]);
    expect(rolled(r.writes)).toEqual([]);
  });

  it('a label removed from the template leaves the set and the machines, a label someone else put on a machine stays', () => {
    // Prepare: the template had team=a, and an operator labelled one machine.
    const { set, machines } = storedWorld(labelled);
    const tagged = machines.map((m, i) => (i === 0 ? { ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, 'example.com/pager': 'on' } } } : m));
    const unlabelled = edited(labelled, (t) => {
      const { team: _team, ...labels } = t.metadata.labels ?? {};
      return { ...t, metadata: { labels } };
    });
    // Act
    const r = reconcileMachineDeployment(input(unlabelled, [set], tagged));
    // Assess
    expect(rolled(r.writes)).toEqual([]);
    const ms = updatedOfKind(r.writes, 'MachineSet')[0]!;
    expect(ms.metadata.labels).not.toHaveProperty('team');
    expect(ms.spec.template.metadata.labels).not.toHaveProperty('team');
    expect(ms.spec.template.metadata).not.toHaveProperty('annotations');
    const updated = updatedOfKind(r.writes, 'Machine');
    expect(updated).toHaveLength(3);
    for (const m of updated) {
      expect(m.metadata.labels).not.toHaveProperty('team');
      expect(m.metadata).not.toHaveProperty('annotations');
    }
    expect(updated.find((m) => m.metadata.name === tagged[0]!.metadata.name)?.metadata.labels?.['example.com/pager']).toBe('on');
  });

  it('reaches the old sets too, which keep their version while the rollout goes on', () => {
    // Prepare: a rollout to v1.32.0 is under way; then the template gets a label.
    const { set: oldSet, machines } = storedWorld(md);
    const v2 = edited(md, (t) => ({ ...t, spec: { ...t.spec, version: 'v1.32.0' } }));
    const newSet = { ...storedWorld(v2).set, metadata: { ...storedWorld(v2).set.metadata, uid: 'new-uid', annotations: { 'clusterless.dev/revision': '2' } } };
    const v2labelled = edited(v2, (t) => ({ ...t, metadata: { ...t.metadata, labels: { ...t.metadata.labels, team: 'a' } } }));
    // Act
    const r = reconcileMachineDeployment(input(v2labelled, [oldSet, { ...newSet, spec: { ...newSet.spec, replicas: 0 } }], machines));
    // Assess
    const old = updatedOfKind(r.writes, 'MachineSet').find((s) => s.metadata.name === oldSet.metadata.name)!;
    expect(old.spec.template.metadata.labels?.team).toBe('a');
    expect(old.spec.template.spec.version).toBe(md.spec.template.spec.version);
    expect(updatedOfKind(r.writes, 'Machine').every((m) => m.metadata.labels?.team === 'a' && m.spec.version === md.spec.template.spec.version)).toBe(true);
  });

  it.each([
    {
      name: 'a version change',
      f: (t: MachineDeployment['spec']['template']) => ({ ...t, spec: { ...t.spec, version: 'v1.32.0' } }),
      why: '* Version v1.31.2, v1.32.0 required',
    },
    {
      name: 'a MachineClass swap',
      f: (t: MachineDeployment['spec']['template']) => ({ ...t, spec: { ...t.spec, machineClassRef: { name: 'large' } } }),
      why: '* MachineClass small, large required',
    },
  ])('$name rolls: a new MachineSet, the machines left as they are, RollingOut says why', ({ f, why }) => {
    // Prepare
    const { set, machines } = storedWorld(md);
    // Act
    const r = reconcileMachineDeployment(input(edited(md, f), [set], machines));
    // Assess
    expect(ofType(r.writes, 'Create').map((w) => w.object.kind)).toEqual(['MachineSet']);
    expect(ofType(r.writes, 'Create')[0]!.object.metadata.name).not.toBe(set.metadata.name);
    expect(updatedOfKind(r.writes, 'Machine')).toEqual([]);
    expect(r.machineDeployment.status?.conditions?.find((c) => c.type === 'RollingOut')?.message).toContain(why);
  });

  it("an adopted orphan set keeps its template labels when the deployment's would not match its own selector", () => {
    // Prepare: an orphan set of the deployment's template, but selecting (and labelling) team=a, which the deployment lacks.
    const { set } = storedWorld(labelled);
    const { ownerReferences: _o, ...metadata } = set.metadata;
    const orphan: MachineSet = { ...set, metadata, spec: { ...set.spec, selector: { matchLabels: { ...set.spec.selector!.matchLabels, team: 'a' } } } };
    // Act
    const r = reconcileMachineDeployment(input(md, [orphan], []));
    // Assess
    const adopted = updatedOfKind(r.writes, 'MachineSet')[0]!;
    expect(adopted.metadata.ownerReferences?.[0]?.uid).toBe(md.metadata.uid);
    expect(adopted.spec.template.metadata.labels?.team).toBe('a');
    expect(adopted.spec.template.metadata.annotations).toBeUndefined();
  });

  it('an upgrade of clusterless rolls nothing: a set and machines stored by the earlier release are up to date and written nothing', () => {
    // Prepare: what the earlier release stored for the fixture template: its set name carries the same hash.
    const { set, machines } = storedWorld(md);
    // Act
    const r = reconcileMachineDeployment(input(md, [set], machines));
    // Assess
    expect(set.metadata.name).toBe('md-cjd4fqdh75');
    const kindOf = (w: Write) => ('object' in w ? w.object.kind : w.ref.kind);
    expect(r.writes.filter((w) => w.type !== 'UpdateStatus' && (kindOf(w) === 'Machine' || kindOf(w) === 'MachineSet'))).toEqual([]);
  });
});
