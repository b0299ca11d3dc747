/**
 * The embedded host's triggers follow the AWS host's policy: its periodic sweep is the shared one (a settled
 * cluster is left alone, a drifting one is reconciled), and the requeues a reconcile asks for keep the earliest.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { clustersWithDrift } from '../../../functions/core/trigger/index.js';
import { readFleet } from '../../../functions/workflows/sweep.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';

const P = `${NS_PATH}/default`;

let cp: TestControlPlane;

beforeEach(async () => {
  // The periodic sweep (every 30 s, 750 ms here) is what notices a node that became Ready: it must run.
  cp = await startTestControlPlane({ timeScale: 40, sweepSeconds: 30 });
  for (const m of clusterManifests({ name: 'c1', controlPlaneReplicas: 1, workers: 1 })) {
    const r = await cp.api('POST', `${P}/${m.plural}`, m.object);
    expect(r.status, r.body).toBe(201);
  }
  await cp.waitFor('c1 settled', async () => clustersWithDrift(await readFleet(cp.store)).length === 0);
  await cp.runtime.workflows.idle();
});

afterEach(async () => {
  await cp.stop();
});

/** The clusters one sweep of the runtime asks to reconcile (a timer's sweep meanwhile may ask again: once each). */
async function sweepTriggers(): Promise<string[]> {
  const trigger = vi.spyOn(cp.runtime, 'trigger');
  try {
    await cp.runtime.sweep();
    return [...new Set(trigger.mock.calls.map(([ns, name]) => `${ns}/${name}`))];
  } finally {
    trigger.mockRestore();
  }
}

describe("the embedded host's sweep", () => {
  it('starts no reconcile of a settled cluster', async () => {
    expect(await sweepTriggers()).toEqual([]);
  });

  it('reconciles a cluster that drifted without a write that triggers (its deployment short of available replicas)', async () => {
    // Prepare: a status change written under the runtime, which the stream stand-in does not see.
    const md = (await cp.store.get<MachineDeployment>('MachineDeployment', 'default', 'c1-md'))!;
    await cp.store.updateStatus({ ...md, status: { ...md.status, availableReplicas: 0 } });
    // Act, Assess
    expect(await sweepTriggers()).toEqual(['default/c1']);
  });
});

describe("the embedded host's requeues", () => {
  it.each([
    ['a later ask after an earlier one', [1, 3600]],
    ['an earlier ask after a later one', [3600, 1]],
  ])('keep the earliest: %s', async (_what, asks) => {
    // Prepare
    const before = cp.runtime.workflows.list('reconcile-cluster').length;
    // Act
    for (const s of asks) await cp.runtime.deps.requeues!.requeue('default', 'c1', s!);
    // Assess: one second (25 ms at this time scale) later a reconcile runs; an hour would be 90 s.
    await cp.waitFor('a requeued reconcile', async () => cp.runtime.workflows.list('reconcile-cluster').length > before, 10_000);
  });
});
