/**
 * Events recorded by the real workflows (state machines on the local engine, the task code, the simulated cloud,
 * the memory store): a rollout and a remediation record their steps, in order, as `kubectl get events` lists them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../../functions/api/event.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Machine } from '../../../functions/api/machine.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { isReady, ofDeployment } from '../../support/fleet-watch.js';

const P = `${NS_PATH}/default`;
let cp: TestControlPlane;

/** The events of one object, oldest first (by when each was first observed), as `reason: note`. */
async function eventsOf(kind: string, name: string, uid?: string): Promise<string[]> {
  const events = (await cp.store.list<Event>('Event', 'default')).filter(
    (e) => e.regarding.kind === kind && e.regarding.name === name && (!uid || e.regarding.uid === uid),
  );
  return events.sort((a, b) => a.eventTime.localeCompare(b.eventTime)).map((e) => `${e.reason}: ${e.note}`);
}

/**
 * A MachineSet's events about its machines. A set made while the control plane still provisions first says that its
 * preflight checks hold its scale up (PreflightCheckFailed), depending on which reconcile makes it first.
 */
async function machineEventsOf(set: string): Promise<string[]> {
  return (await eventsOf('MachineSet', set)).filter((e) => !e.startsWith('PreflightCheckFailed'));
}

async function workers(cluster: string): Promise<Machine[]> {
  return (await cp.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === cluster).filter(ofDeployment(`${cluster}-md`));
}

async function settled(cluster: string, count: number, version: string): Promise<boolean> {
  const md = await cp.store.get<MachineDeployment>('MachineDeployment', 'default', `${cluster}-md`);
  const live = (await workers(cluster)).filter((m) => !m.metadata.deletionTimestamp);
  const all = await workers(cluster);
  return (
    md?.status?.availableReplicas === count &&
    md.status.updatedReplicas === count &&
    all.length === count &&
    live.every((m) => isReady(m) && m.spec.version === version)
  );
}

beforeAll(async () => {
  cp = await startTestControlPlane({ timeScale: 40, events: true });
});
afterAll(async () => {
  await cp.stop();
});

describe('events of the workflows', () => {
  it('a rollout records its MachineSet made, each scale step and its end, in order', async () => {
    await cp.apply(clusterManifests({ name: 'r1', controlPlaneReplicas: 1, workers: 2 }).map((m) => m.object));
    await cp.waitFor('r1 settled', () => settled('r1', 2, 'v1.31.2'));
    const before = (await eventsOf('MachineDeployment', 'r1-md')).length;
    const oldSet = (await workers('r1'))[0]!.metadata.ownerReferences![0]!.name;
    await cp.api('PATCH', `${P}/machinedeployments/r1-md`, { spec: { template: { spec: { version: 'v1.31.3' } } } });
    await cp.waitFor(
      'r1 rolled out',
      async () => (await settled('r1', 2, 'v1.31.3')) && (await eventsOf('MachineDeployment', 'r1-md')).some((e) => e.startsWith('RolloutComplete')),
    );
    const newSet = (await workers('r1'))[0]!.metadata.ownerReferences![0]!.name;
    const rollout = (await eventsOf('MachineDeployment', 'r1-md')).slice(before);
    // maxSurge 1, maxUnavailable 0: one new machine, then one old one goes, and so on.
    expect(rollout).toEqual([
      `SuccessfulCreate: Created MachineSet "${newSet}"`,
      `ScalingMachineSet: Scaled down MachineSet ${oldSet} from 2 to 1`,
      `ScalingMachineSet: Scaled up MachineSet ${newSet} from 1 to 2`,
      `ScalingMachineSet: Scaled down MachineSet ${oldSet} from 1 to 0`,
      'RolloutComplete: Rollout of revision 2 complete',
    ]);
    // Each MachineSet tells its own machines made and deleted.
    expect((await machineEventsOf(newSet)).map((e) => e.split(':')[0])).toEqual(['SuccessfulCreate', 'SuccessfulCreate']);
    expect((await machineEventsOf(oldSet)).map((e) => e.split(':')[0])).toEqual([
      'SuccessfulCreate',
      'SuccessfulCreate',
      'SuccessfulDelete',
      'SuccessfulDelete',
    ]);
  });

  it('a remediation records the mark, its start and its end, in order', async () => {
    await cp.apply(clusterManifests({ name: 'h1', controlPlaneReplicas: 1, workers: 3, healthCheck: true }).map((m) => m.object));
    await cp.waitFor('h1 settled', () => settled('h1', 3, 'v1.31.2'));
    const victim = (await workers('h1'))[0]!;
    expect(cp.cloud!.kill(victim.metadata.name, 'default')).toHaveLength(1);
    const set = victim.metadata.ownerReferences![0]!.name;
    const replaced = async () => (await machineEventsOf(set)).length === 4;
    await cp.waitFor(
      'the victim remediated and replaced',
      async () => (await eventsOf('Machine', victim.metadata.name, victim.metadata.uid)).some((e) => e.startsWith('Remediated')) && (await replaced()),
    );
    // The sim instance was killed: it is gone already, so there is nothing to terminate (no SuccessfulTerminate).
    const steps = await eventsOf('Machine', victim.metadata.name, victim.metadata.uid);
    expect(steps.map((s) => s.split(':')[0])).toEqual(['SuccessfulCreate', 'MachineMarkedUnhealthy', 'Remediating', 'Remediated']);
    expect(steps[1]).toBe(
      `MachineMarkedUnhealthy: Machine default/${victim.metadata.name} has been marked as unhealthy: Waiting for remediation (MachineHealthCheck h1-mhc)`,
    );
    // The replacement is made after the remediation started.
    const all = (await cp.store.list<Event>('Event', 'default')).sort((a, b) => a.eventTime.localeCompare(b.eventTime));
    const remediating = all.findIndex((e) => e.reason === 'Remediating' && e.regarding.uid === victim.metadata.uid);
    const replacement = all.filter((e) => e.regarding.name === set && e.reason === 'SuccessfulCreate').at(-1)!;
    expect(all.indexOf(replacement)).toBeGreaterThan(remediating);
  });
});
