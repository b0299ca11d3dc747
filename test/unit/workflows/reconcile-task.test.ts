/** The reconcile task asks the host for the requeue its outcome calls for, through ReconcileRequeues, on both hosts. */
import { describe, expect, it } from 'vitest';
import { validateCreate } from '../../../functions/api/validate.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider, SimNodeReader } from '../../../functions/adapters/sim/index.js';
import { FAILED_RECONCILE_RETRY_SECONDS } from '../../../functions/core/trigger/index.js';
import { noWorkloadsDrainer, type ReconcileRequeues } from '../../../functions/ports.js';
import { invocationHolder, reconcileTask, scaledTimer, workflowDeps, type Logger } from '../../../functions/workflows/index.js';
import { clusterManifests } from '../../support/control-plane.js';
import { FakeClock } from '../../support/fake-clock.js';

function depsWith(requeues: ReconcileRequeues) {
  const clock = new FakeClock();
  const cloud = new SimCloud({ clock, seed: 1 });
  const warnings: string[] = [];
  const log: Logger = { info: () => {}, warn: (m) => warnings.push(m), error: () => {} };
  const store = new MemoryStore({ clock });
  const deps = workflowDeps({
    store,
    provider: new SimMachineProvider(cloud),
    nodes: new SimNodeReader(cloud),
    drainer: noWorkloadsDrainer,
    clock,
    timer: scaledTimer(1),
    holder: invocationHolder('t'),
    log,
    requeues,
  });
  return { deps, store, warnings };
}

function recording() {
  const asked: [string, string, number][] = [];
  return { asked, requeues: { requeue: async (ns: string, c: string, s: number) => void asked.push([ns, c, s]) } };
}

describe('reconcileTask and its requeue', () => {
  it('asks for the requeue its outcome carries', async () => {
    // Prepare: a cluster that just got its machines asked for (their MachineSet waits for them).
    const { asked, requeues } = recording();
    const { deps, store } = depsWith(requeues);
    for (const m of clusterManifests({ name: 'c1', controlPlaneReplicas: 1, workers: 2 })) {
      const v = validateCreate(m.object);
      if (!v.ok) throw new Error(JSON.stringify(v.causes));
      await store.create(v.object);
    }
    // Act
    const result = (await reconcileTask(deps, { step: 'reconcile', namespace: 'default', clusterName: 'c1' })) as { requeueAfterSeconds?: number };
    // Assess
    expect(result.requeueAfterSeconds).toBeTypeOf('number');
    expect(asked).toEqual([['default', 'c1', result.requeueAfterSeconds]]);
  });

  it('asks for nothing for a cluster that is gone', async () => {
    const { asked, requeues } = recording();
    const { deps } = depsWith(requeues);
    await reconcileTask(deps, { step: 'reconcile', namespace: 'default', clusterName: 'gone' });
    expect(asked).toEqual([]);
  });

  it('asks for the retry of a failed execution when it records the failure', async () => {
    const { asked, requeues } = recording();
    const { deps } = depsWith(requeues);
    await reconcileTask(deps, { step: 'recordFailure', namespace: 'default', clusterName: 'c1', error: { Error: 'States.Timeout' } });
    expect(asked).toEqual([['default', 'c1', FAILED_RECONCILE_RETRY_SECONDS]]);
  });

  it('logs a requeue it could not ask for, and does not fail (the sweep is behind it)', async () => {
    const { deps, warnings } = depsWith({ requeue: async () => Promise.reject(new Error('ThrottlingException')) });
    await expect(reconcileTask(deps, { step: 'recordFailure', namespace: 'default', clusterName: 'c1', error: {} })).resolves.toEqual({});
    expect(warnings).toEqual(['could not requeue the reconcile; the sweep will look again']);
  });
});
