/**
 * In-place template changes and an immutable MachineClass, through the API, the state machines on the local ASL
 * engine and the simulated cloud: a label, an annotation or a drain timeout reaches every MachineSet and Machine
 * and no machine is created or deleted; a MachineClass spec edit is a 422 that changes nothing; pointing the
 * template at a new class rolls every machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineClass } from '../../../functions/api/machine-class.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../../functions/api/machine-set.js';
import type { Machine } from '../../../functions/api/machine.js';
import { scaledClock } from '../../../local/scaled-clock.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { FleetWatch, isReady, ofDeployment } from '../../support/fleet-watch.js';

const P = `${NS_PATH}/default`;
const TIME_SCALE = 40;
const WORKERS = 3;

let cp: TestControlPlane;
let watch: FleetWatch;

const workers = async () => (await cp.list<Machine>('Machine', 'default')).filter(ofDeployment('ip-md')).filter((m) => !m.metadata.deletionTimestamp);
const setsOf = async () => (await cp.list<MachineSet>('MachineSet', 'default')).filter((s) => s.spec.clusterName === 'ip');

beforeAll(async () => {
  watch = new FleetWatch();
  cp = await startTestControlPlane({ timeScale: TIME_SCALE, store: watch.store(scaledClock({ timeScale: TIME_SCALE })) });
  const applied = await cp.apply(clusterManifests({ name: 'ip', controlPlaneReplicas: 1, workers: WORKERS }).map((m) => m.object));
  expect(applied.map((a) => a.result).every((r) => r === 'created')).toBe(true);
  await cp.waitFor('ip converged', async () => {
    const md = await cp.store.get<MachineDeployment>('MachineDeployment', 'default', 'ip-md');
    const ms = await workers();
    return md?.status?.availableReplicas === WORKERS && ms.length === WORKERS && ms.every(isReady);
  });
});

afterAll(async () => {
  await cp?.stop();
});

describe('in-place template changes on the simulated cloud', () => {
  it('a template label, annotation and drain timeout reach the MachineSet and every Machine; no machine is created or deleted', async () => {
    // Prepare: the machines as they are, and a watch for any machine made or removed from now on.
    const before = (await workers()).map((m) => m.metadata.uid).sort();
    const setsBefore = (await setsOf()).map((s) => s.metadata.name);
    const known = new Set(before);
    const stop = watch.watch((all) => {
      const mine = all.filter(ofDeployment('ip-md'));
      const foreign = mine.find((m) => !known.has(m.metadata.uid));
      if (foreign) return `machine ${foreign.metadata.name} created`;
      const gone = mine.find((m) => m.metadata.deletionTimestamp);
      return gone ? `machine ${gone.metadata.name} deleted` : undefined;
    });
    // Act
    const r = await cp.api('PATCH', `${P}/machinedeployments/ip-md`, {
      spec: { template: { metadata: { labels: { team: 'a' }, annotations: { 'example.com/owner': 'ops' } }, spec: { nodeDrainTimeoutSeconds: 60 } } },
    });
    expect(r.status, r.body).toBe(200);
    // Assess
    const machines = await cp.waitFor('the new template on every machine', async () => {
      const ms = await workers();
      return ms.length === WORKERS &&
        ms.every((m) => m.metadata.labels?.team === 'a' && m.metadata.annotations?.['example.com/owner'] === 'ops' && m.spec.nodeDrainTimeoutSeconds === 60)
        ? ms
        : undefined;
    });
    stop();
    expect(watch.violations).toEqual([]);
    expect(machines.map((m) => m.metadata.uid).sort()).toEqual(before);
    const sets = await setsOf();
    expect(sets.map((s) => s.metadata.name)).toEqual(setsBefore);
    expect(sets[0]!.spec.template.metadata.labels?.team).toBe('a');
    expect(sets[0]!.spec.template.spec.nodeDrainTimeoutSeconds).toBe(60);
  });

  it('a MachineClass spec edit is a 422 naming the field and changes nothing; its labels stay editable', async () => {
    // Prepare
    const before = await cp.store.get<MachineClass>('MachineClass', 'default', 'ip-class');
    // Act
    const refused = await cp.api('PATCH', `${P}/machineclasses/ip-class`, { spec: { sim: { bootSeconds: 1 } } });
    const relabelled = await cp.api('PATCH', `${P}/machineclasses/ip-class`, { metadata: { labels: { tier: 'fast' } } });
    // Assess
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ kind: 'Status', reason: 'Invalid', details: { causes: [{ field: 'spec.sim.bootSeconds' }] } });
    expect(refused.json.message).toContain("point the MachineDeployment's spec.template.spec.machineClassRef");
    expect(relabelled.status, relabelled.body).toBe(200);
    const after = await cp.store.get<MachineClass>('MachineClass', 'default', 'ip-class');
    expect(after?.spec).toEqual(before?.spec);
    expect(after?.metadata.labels?.tier).toBe('fast');
  });

  it('pointing the template at a new MachineClass rolls every machine onto it', async () => {
    // Prepare
    const before = new Set((await workers()).map((m) => m.metadata.uid));
    const made = await cp.api('POST', `${P}/machineclasses`, {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'MachineClass',
      metadata: { name: 'ip-class-2' },
      spec: { sim: { bootSeconds: 10, nodeReadySeconds: 5 } },
    });
    expect(made.status, made.body).toBe(201);
    // Act
    const r = await cp.api('PATCH', `${P}/machinedeployments/ip-md`, { spec: { template: { spec: { machineClassRef: { name: 'ip-class-2' } } } } });
    expect(r.status, r.body).toBe(200);
    // Assess
    const machines = await cp.waitFor('every worker on the new class', async () => {
      const ms = await workers();
      const all = (await cp.list<Machine>('Machine', 'default')).filter(ofDeployment('ip-md'));
      return all.length === WORKERS && ms.every((m) => m.spec.machineClassRef.name === 'ip-class-2' && isReady(m)) ? ms : undefined;
    });
    expect(machines.some((m) => before.has(m.metadata.uid))).toBe(false);
    expect(machines.every((m) => m.metadata.labels?.team === 'a')).toBe(true);
  });
});
