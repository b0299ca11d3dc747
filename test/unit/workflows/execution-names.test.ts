/**
 * Deterministic execution names never block later work. Step Functions refuses a name for 90 days once an
 * execution of it has closed (the local engine does the same, see local-workflows.test.ts), so an execution
 * that ends before its work is done must leave the next start a new name, or the work must go on without it.
 * Each test runs the real state machines on the local engine with the task code and the simulated cloud.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { TaskFunctionName } from '../../../statemachines/loader.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { isReady, ofDeployment } from '../../support/fleet-watch.js';

const P = `${NS_PATH}/default`;
const TIME_SCALE = 40;

let cp: TestControlPlane | undefined;
afterEach(async () => {
  await cp?.stop();
  cp = undefined;
});

/** Holds the steps of one task function while closed: a way to put a change between a start and its first step. */
class Gate {
  closed = false;
  waiting = 0;
  steps = 0;
  private opened: Promise<void> = Promise.resolve();
  private open_: () => void = () => {};
  constructor(
    private readonly task: TaskFunctionName,
    private readonly step: string,
  ) {}
  close(): void {
    this.closed = true;
    this.opened = new Promise((resolve) => (this.open_ = resolve));
  }
  open(): void {
    this.closed = false;
    this.open_();
  }
  middleware = async (task: TaskFunctionName, input: Record<string, unknown>, run: () => Promise<unknown>): Promise<unknown> => {
    if (task === this.task && input.step === this.step) {
      if (this.closed) {
        this.waiting++;
        await this.opened;
        this.waiting--;
      }
      this.steps++;
    }
    return run();
  };
}

async function create(manifests: ReturnType<typeof clusterManifests>): Promise<void> {
  const applied = await cp!.apply(manifests.map((m) => m.object));
  expect(applied.map((a) => a.result)).toEqual(manifests.map(() => 'created'));
}

async function workersOf(cluster: string): Promise<Machine[]> {
  return (await cp!.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === cluster).filter(ofDeployment(`${cluster}-md`));
}

/** The deployment complete at `workers`, every machine of the cluster Ready, none deleting. */
async function converged(cluster: string, workers: number): Promise<boolean> {
  const md = await cp!.store.get<MachineDeployment>('MachineDeployment', 'default', `${cluster}-md`);
  const machines = (await cp!.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === cluster);
  return (
    md?.status?.availableReplicas === workers &&
    md.status.updatedReplicas === workers &&
    md.status.replicas === workers &&
    machines.length === 1 + workers &&
    machines.every(isReady)
  );
}

const marked = (m: Machine | undefined) =>
  m?.status?.conditions?.some((c) => c.type === 'OwnerRemediated' && c.status === 'False' && c.reason === 'WaitingForRemediation') ?? false;

const remediationsOf = (uid: string) => cp!.runtime.workflows.list('remediate').filter((e) => e.input?.machineUid === uid);

/** Why an ended stepping execution ended: its last step's reason. */
const reasonOf = (e: { output?: unknown }) => (e.output as { step?: { reason?: string } } | undefined)?.step?.reason;

describe('remediate: one execution per remediation episode', () => {
  it('replaces a machine that fails for real after a false alarm: the new episode gets an execution of its own', async () => {
    // Prepare: a cluster of 1 control-plane machine and 3 workers under a health check (Ready False/Unknown for 60 s).
    const gate = new Gate('remediate', 'remediateStep');
    cp = await startTestControlPlane({ timeScale: TIME_SCALE, taskMiddleware: gate.middleware });
    await create(clusterManifests({ name: 'fa', controlPlaneReplicas: 1, workers: 3, healthCheck: true }));
    await cp.waitFor('fa converged', () => converged('fa', 3));
    const victim = (await workersOf('fa'))[0]!;
    const uid = victim.metadata.uid!;
    const get = () => cp!.store.get<Machine>('Machine', 'default', victim.metadata.name);

    // Act 1: a false alarm. The node is NotReady long enough to be marked and its remediation started, then
    // Ready again before the remediation's first step.
    gate.close();
    cp.cloud!.setNodeCondition(victim.metadata.name, { type: 'Ready', status: 'False', reason: 'Flapping' }, 'default');
    await cp.waitFor('the remediation started', async () => gate.waiting > 0);
    cp.cloud!.clearNodeCondition(victim.metadata.name, 'Ready', 'default');
    await cp.waitFor('the mark gone with the node Ready again', async () => !marked(await get()));
    gate.open();
    await cp.waitFor('the first remediation ended', async () => remediationsOf(uid).length > 0 && remediationsOf(uid).every((e) => e.status !== 'RUNNING'));
    const first = remediationsOf(uid);
    expect(first.map((e) => e.status)).toEqual(['SUCCEEDED']);
    expect((await get())?.metadata.uid).toBe(uid);

    // Act 2: the same machine fails for real.
    expect(cp.cloud!.kill(victim.metadata.name, 'default')).toHaveLength(1);
    await cp.waitFor('the killed machine replaced', async () => (await get())?.metadata.uid !== uid && (await converged('fa', 3)));

    // Assess: two episodes, two names; the first one's ended without deleting, the second one replaced it.
    const all = remediationsOf(uid);
    expect(new Set(all.map((e) => e.name)).size).toBe(all.length);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.every((e) => e.name.startsWith(`remediate-${uid}-`))).toBe(true);
  }, 120_000);

  it('a remediation held up after it started (the cluster paused) ends and clears its mark; once unpaused the machine is marked again and replaced under a new name', async () => {
    // Prepare
    const gate = new Gate('remediate', 'remediateStep');
    cp = await startTestControlPlane({ timeScale: TIME_SCALE, taskMiddleware: gate.middleware });
    await create(clusterManifests({ name: 'hold', controlPlaneReplicas: 1, workers: 3, healthCheck: true }));
    await cp.waitFor('hold converged', () => converged('hold', 3));
    const victim = (await workersOf('hold'))[0]!;
    const uid = victim.metadata.uid!;
    const get = () => cp!.store.get<Machine>('Machine', 'default', victim.metadata.name);

    // Act 1: the machine dies and its remediation starts; before its first step the cluster is paused
    // (remediation not allowed now).
    gate.close();
    expect(cp.cloud!.kill(victim.metadata.name, 'default')).toHaveLength(1);
    await cp.waitFor('the remediation started', async () => gate.waiting > 0);
    const markedAt = remediationsOf(uid)[0]!.input?.markedAt;
    expect((await cp.api('PATCH', `${P}/clusters/hold`, { spec: { paused: true } })).status).toBe(200);
    gate.open();
    await cp.waitFor('the first remediation ended', async () => remediationsOf(uid).every((e) => e.status !== 'RUNNING'));
    const whilePaused = { executions: remediationsOf(uid).map((e) => [e.status, reasonOf(e)]), machine: await get() };

    // Act 2: unpaused, the health check marks the machine again and its new episode replaces it.
    expect((await cp.api('PATCH', `${P}/clusters/hold`, { spec: { paused: false } })).status).toBe(200);
    await cp.waitFor('the killed machine replaced', async () => (await get())?.metadata.uid !== uid && (await converged('hold', 3)));

    // Assess: the held execution ended without deleting (the machine, same uid, still there) and took its mark
    // with it, so nothing stays marked while paused; the new episode ran under a name of its own.
    expect(whilePaused.executions).toEqual([
      ['SUCCEEDED', expect.stringMatching(new RegExp(`^remediation is not allowed now: the mark of ${String(markedAt)} is cleared`))],
    ]);
    expect(whilePaused.machine?.metadata.uid).toBe(uid);
    expect(whilePaused.machine?.status?.conditions?.find((c) => c.type === 'OwnerRemediated')).toBeUndefined();
    const all = remediationsOf(uid);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(new Set(all.map((e) => e.name)).size).toBe(all.length);
    expect(all.slice(1).every((e) => e.input?.markedAt !== markedAt)).toBe(true);
    expect((await cp.store.get<Cluster>('Cluster', 'default', 'hold'))?.spec.paused).toBe(false);
  }, 120_000);

  it('a health check deleted while its remediation waits, then created again: the mark went with the execution, and the machine is replaced', async () => {
    // Prepare
    const gate = new Gate('remediate', 'remediateStep');
    cp = await startTestControlPlane({ timeScale: TIME_SCALE, taskMiddleware: gate.middleware });
    const manifests = clusterManifests({ name: 'rec', controlPlaneReplicas: 1, workers: 3, healthCheck: true });
    await create(manifests);
    await cp.waitFor('rec converged', () => converged('rec', 3));
    const victim = (await workersOf('rec'))[0]!;
    const uid = victim.metadata.uid!;
    const get = () => cp!.store.get<Machine>('Machine', 'default', victim.metadata.name);

    // Act 1: the machine dies and its remediation starts; before its first step the health check is deleted.
    gate.close();
    expect(cp.cloud!.kill(victim.metadata.name, 'default')).toHaveLength(1);
    await cp.waitFor('the remediation started', async () => gate.waiting > 0);
    expect((await cp.api('DELETE', `${P}/machinehealthchecks/rec-mhc`)).status).toBe(200);
    await cp.waitFor('the health check gone', async () => (await cp!.store.get('MachineHealthCheck', 'default', 'rec-mhc')) === undefined);
    gate.open();
    await cp.waitFor('the first remediation ended', async () => remediationsOf(uid).every((e) => e.status !== 'RUNNING'));
    const first = remediationsOf(uid).map((e) => [e.status, reasonOf(e)]);
    const mark = (await get())?.status?.conditions?.find((c) => c.type === 'OwnerRemediated');

    // Act 2: the same health check is created again while the machine is still dead.
    await create(manifests.filter((m) => m.plural === 'machinehealthchecks'));
    await cp.waitFor('the killed machine replaced', async () => (await get())?.metadata.uid !== uid && (await converged('rec', 3)));

    // Assess
    expect(first).toEqual([['SUCCEEDED', expect.stringMatching(/^no health check targets the machine any more: the mark of .* is cleared/)]]);
    expect(mark).toBeUndefined();
    const all = remediationsOf(uid);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(new Set(all.map((e) => e.name)).size).toBe(all.length);
  }, 120_000);
});

describe('rolling-upgrade: one execution per generation of the MachineDeployment', () => {
  it('resuming a paused rollout starts a new execution, which drives the rollout to its end', async () => {
    // Prepare
    const gate = new Gate('rollout', 'rolloutStep');
    cp = await startTestControlPlane({ timeScale: TIME_SCALE, taskMiddleware: gate.middleware });
    await create(clusterManifests({ name: 'ru', controlPlaneReplicas: 1, workers: 3 }));
    await cp.waitFor('ru converged', () => converged('ru', 3));

    // Act: an upgrade; its rollout execution is paused before its first step, then resumed.
    gate.close();
    expect((await cp.api('PATCH', `${P}/machinedeployments/ru-md`, { spec: { template: { spec: { version: 'v1.31.3' } } } })).status).toBe(200);
    await cp.waitFor('the rollout started', async () => gate.waiting > 0);
    expect((await cp.api('PATCH', `${P}/machinedeployments/ru-md`, { spec: { paused: true } })).status).toBe(200);
    gate.open();
    await cp.waitFor('the paused rollout ended', async () => cp!.runtime.workflows.list('rolling-upgrade').every((e) => e.status !== 'RUNNING'));
    const paused = cp.runtime.workflows.list('rolling-upgrade');
    expect((await cp.api('PATCH', `${P}/machinedeployments/ru-md`, { spec: { paused: false } })).status).toBe(200);
    await cp.waitFor('the rollout complete', async () => {
      const done = cp!.runtime.workflows.list('rolling-upgrade').filter((e) => !paused.includes(e) && e.status === 'SUCCEEDED');
      return done.length > 0 && (await converged('ru', 3));
    });

    // Assess
    expect(paused.map((e) => [e.status, (e.output as { step?: { reason?: string } })?.step?.reason])).toEqual([
      ['SUCCEEDED', 'the rollout is paused; resuming starts it again'],
    ]);
    const resumed = cp.runtime.workflows.list('rolling-upgrade').filter((e) => !paused.includes(e));
    expect(resumed.map((e) => e.name)).not.toContain(paused[0]!.name);
    expect(resumed.map((e) => (e.output as { step?: { reason?: string } })?.step?.reason)).toContain('rollout of revision 2 complete');
    expect((await workersOf('ru')).every((m) => m.spec.version === 'v1.31.3')).toBe(true);
  }, 120_000);
});

describe('rolling-upgrade: an older generation gives way', () => {
  it("a spec change during a rollout ends its execution as superseded, and the new generation's execution finishes it", async () => {
    // Prepare
    const gate = new Gate('rollout', 'rolloutStep');
    cp = await startTestControlPlane({ timeScale: TIME_SCALE, taskMiddleware: gate.middleware });
    await create(clusterManifests({ name: 'sg', controlPlaneReplicas: 1, workers: 3 }));
    await cp.waitFor('sg converged', () => converged('sg', 3));
    // Act: an upgrade, then a scale before its rollout's first step.
    gate.close();
    expect((await cp.api('PATCH', `${P}/machinedeployments/sg-md`, { spec: { template: { spec: { version: 'v1.31.3' } } } })).status).toBe(200);
    await cp.waitFor('the rollout started', async () => gate.waiting > 0);
    const first = cp.runtime.workflows.list('rolling-upgrade')[0]!;
    expect((await cp.api('PATCH', `${P}/machinedeployments/sg-md`, { spec: { replicas: 4 } })).status).toBe(200);
    gate.open();
    await cp.waitFor('the first execution ended', async () => first.status !== 'RUNNING');
    await cp.waitFor(
      'the rollout complete at 4 replicas',
      async () => (await converged('sg', 4)) && cp!.runtime.workflows.list('rolling-upgrade').some((e) => e !== first && e.status === 'SUCCEEDED'),
    );
    // Assess
    const reason = (e: { output?: unknown }) => (e.output as { step?: { reason?: string } })?.step?.reason;
    expect([first.status, reason(first)]).toEqual(['SUCCEEDED', 'superseded by generation 3']);
    expect(
      cp.runtime.workflows
        .list('rolling-upgrade')
        .filter((e) => e !== first)
        .map(reason),
    ).toContain('rollout of revision 2 complete');
    expect((await workersOf('sg')).every((m) => m.spec.version === 'v1.31.3')).toBe(true);
  }, 120_000);
});

describe('delete-cluster and provision-machine: one execution per uid, reconcile-cluster carries on after it', () => {
  it('a teardown whose execution gave up is finished by reconcile-cluster alone', async () => {
    // Prepare: every teardown step fails as a bug would (ValidationError: the workflow gives up at once).
    cp = await startTestControlPlane({
      timeScale: TIME_SCALE,
      taskMiddleware: async (task, input, run) => {
        if (task === 'teardown' && input.step === 'teardownStep') throw Object.assign(new Error('injected'), { name: 'ValidationError' });
        return run();
      },
    });
    await create(clusterManifests({ name: 'td', controlPlaneReplicas: 1, workers: 2 }));
    await cp.waitFor('td converged', () => converged('td', 2));
    // Act
    expect((await cp.api('DELETE', `${P}/clusters/td`)).status).toBe(200);
    await cp.waitFor('td gone', async () => (await cp!.store.listCluster('default', 'td')).length === 0);
    // Assess
    expect(cp.runtime.workflows.list('delete-cluster').map((e) => e.status)).toEqual(['FAILED']);
    expect((await cp.provider.describe('default', 'td')).filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down')).toEqual([]);
  }, 120_000);

  it('a machine whose provisioning gave up is marked Failed and replaced under a new uid, so a new name', async () => {
    // Prepare: the first launch of a worker fails for good (InvalidSpecError is not retried).
    let failed: string | undefined;
    cp = await startTestControlPlane({
      timeScale: TIME_SCALE,
      taskMiddleware: async (task, input, run) => {
        if (
          task === 'provision' &&
          input.step === 'recordIntentAndLaunch' &&
          String(input.machineName).startsWith('pf-md-') &&
          (failed ?? input.machineUid) === input.machineUid
        ) {
          failed = String(input.machineUid);
          throw Object.assign(new Error('injected'), { name: 'InvalidSpecError' });
        }
        return run();
      },
    });
    // Act
    await create(clusterManifests({ name: 'pf', controlPlaneReplicas: 1, workers: 3, healthCheck: true }));
    await cp.waitFor(
      'pf converged without the failed machine',
      async () => failed !== undefined && (await converged('pf', 3)) && !(await workersOf('pf')).some((m) => m.metadata.uid === failed),
    );
    // Assess
    const provisions = cp.runtime.workflows.list('provision-machine');
    expect(provisions.filter((e) => e.input?.machineUid === failed).map((e) => e.status)).toEqual(['FAILED']);
    expect(new Set(provisions.map((e) => e.name)).size).toBe(provisions.length);
  }, 120_000);
});
