/**
 * The cost meter wired into the runtime (real state machines on the local ASL engine, the real tasks, the
 * memory store and the simulated cloud): a small cluster converges, and the counts agree with what the
 * engine, the tasks, the store and the cloud independently saw.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider, SimNodeReader } from '../../../functions/adapters/sim/index.js';
import { handleRequest } from '../../../functions/api/http/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Machine } from '../../../functions/api/machine.js';
import { CostMeter, objectItemBytes, usageCounters, usagePeriod, writeUnits } from '../../../functions/metering/index.js';
import { noWorkloadsDrainer, type Store, type WorkflowName } from '../../../functions/ports.js';
import { invocationHolder, scaledTimer, workflowDeps } from '../../../functions/workflows/index.js';
import { ControlPlaneRuntime } from '../../../local/runtime.js';
import { scaledClock } from '../../../local/scaled-clock.js';
import { NS_PATH, clusterManifests } from '../../support/control-plane.js';
import { isTrue } from '../../../functions/core/conditions.js';
import { waitUntil } from '../../support/wait.js';

const TIME_SCALE = 40;

/** Counts the writes that succeed and the write units their items take, independently of the meter. */
function countingStore(inner: Store): { store: Store; writes: () => number; units: () => number } {
  let writes = 0;
  let units = 0;
  const seen = <T extends ApiObject>(obj: T) => {
    writes++;
    units += writeUnits(objectItemBytes(obj));
    return obj;
  };
  const store: Store = {
    create: async (obj) => seen(await inner.create(obj)),
    get: (kind, ns, name) => inner.get(kind, ns, name),
    update: async (obj) => seen(await inner.update(obj)),
    updateStatus: async (obj) => seen(await inner.updateStatus(obj)),
    delete: async (kind, ns, name, options) => {
      const r = await inner.delete(kind, ns, name, options);
      seen(r.object);
      return r;
    },
    listCluster: (ns, cluster) => inner.listCluster(ns, cluster),
    list: (kind, ns) => inner.list(kind, ns),
    listPage: (kind, ns, options) => inner.listPage(kind, ns, options),
    acquireLease: (...a) => inner.acquireLease(...a),
    releaseLease: (...a) => inner.releaseLease(...a),
    addUsage: (...a) => inner.addUsage(...a),
    listUsage: (...a) => inner.listUsage(...a),
  };
  return { store, writes: () => writes, units: () => units };
}

let runtime: ControlPlaneRuntime;
let meter: CostMeter;
let cloud: SimCloud;
let counted: ReturnType<typeof countingStore>;
let inner: MemoryStore;
const invocations = new Map<string, number>();
const entered = new Map<string, number>();

beforeEach(async () => {
  const clock = scaledClock({ timeScale: TIME_SCALE });
  inner = new MemoryStore({ clock });
  counted = countingStore(inner);
  cloud = new SimCloud({ clock });
  meter = new CostMeter({ now: () => clock.now() });
  invocations.clear();
  entered.clear();
  runtime = new ControlPlaneRuntime({
    deps: workflowDeps({
      store: counted.store,
      provider: new SimMachineProvider(cloud),
      nodes: new SimNodeReader(cloud),
      drainer: noWorkloadsDrainer,
      clock,
      timer: scaledTimer(TIME_SCALE),
      holder: invocationHolder('test-host'),
      pollSeconds: 5,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    }),
    meter,
    timeScale: TIME_SCALE,
    // As the test harness does: the sweep also notices nodes that turn Ready after their nodeRef was recorded.
    sweepSeconds: 30,
    taskMiddleware: (task, _input, run) => {
      invocations.set(task, (invocations.get(task) ?? 0) + 1);
      return run();
    },
    onEvent: (workflow: WorkflowName, event) => {
      if (event.type === 'StateEntered' || event.type === 'StateRetried') entered.set(workflow, (entered.get(workflow) ?? 0) + 1);
    },
  });
  await runtime.start();
});

afterEach(async () => {
  await runtime.stop();
});

async function converge(): Promise<void> {
  for (const m of clusterManifests({ name: 'm1', controlPlaneReplicas: 1, workers: 2, bootSeconds: 2 })) {
    const r = await handleRequest(
      { method: 'POST', path: `${NS_PATH}/default/${m.plural}`, query: {}, headers: { 'content-type': 'application/json' }, body: JSON.stringify(m.object) },
      { store: runtime.store },
    );
    expect(r.status, r.body).toBe(201);
  }
  await waitUntil(
    'the 3 machines of m1 Ready',
    async () => {
      const machines = (await inner.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === 'm1');
      return machines.length === 3 && machines.every((m) => isTrue(m.status?.conditions, 'Ready'));
    },
    60_000,
    25,
  );
  await runtime.workflows.idle();
}

describe('the cost meter on the runtime', () => {
  it('counts transitions and executions for every workflow that ran, as the engine saw them', async () => {
    await converge();

    const ran = [...new Set(runtime.workflows.list().map((e) => e.workflow))].sort();
    expect(ran).toEqual(['provision-machine', 'reconcile-cluster']);
    for (const workflow of ran) {
      expect(meter.transitionCount(workflow), workflow).toBeGreaterThan(0);
      expect(meter.transitionCount(workflow), workflow).toBe(entered.get(workflow));
      expect(meter.executionCount(workflow), workflow).toBe(runtime.workflows.list(workflow).length);
    }
    const report = meter.report();
    expect(report.standardTransitions).toBe(meter.transitionCount('provision-machine'));
    // Every Express execution that ended was billed for its duration.
    expect(report.items.find((i) => i.operation === 'ExpressDuration')!.requests).toBe(runtime.workflows.list('reconcile-cluster').length);
  });

  it('counts every task invocation once, as a Lambda invocation of its function', async () => {
    await converge();

    expect(invocations.size).toBeGreaterThan(0);
    for (const [task, n] of invocations) expect(meter.lambdaInvocations(task), task).toBe(n);
    expect(meter.lambdaInvocations()).toBe([...invocations.values()].reduce((a, b) => a + b, 0));
  });

  it("counts a DynamoDB object write (and its index entry) for every write the store made, in the items' write units", async () => {
    await converge();

    const objectWrites = meter.dynamoDb('PutItem', 'object').requests + meter.dynamoDb('DeleteItem', 'object').requests;
    expect(objectWrites).toBe(counted.writes());
    expect(meter.dynamoDb('PutItem', 'object').writeUnits + meter.dynamoDb('DeleteItem', 'object').writeUnits).toBe(counted.units());
    expect(meter.dynamoDb('PutItem', 'kind-index').requests + meter.dynamoDb('DeleteItem', 'kind-index').requests).toBe(counted.writes());
    // Every reconcile took and gave back its lease.
    expect(meter.dynamoDb('PutItem', 'lease').requests).toBe(meter.dynamoDb('DeleteItem', 'lease').requests);
  });

  it("adds every task invocation to its cluster's usage record of the month, as the Lambda functions do", async () => {
    await converge();

    const [record, ...others] = await inner.listUsage(usagePeriod(runtime.deps.clock.now()));
    expect(others).toEqual([]);
    expect(record).toMatchObject({ namespace: 'default', clusterName: 'm1' });
    const usage = usageCounters(record!);
    // Every task here works on m1: its record holds every invocation, and the provider calls they made.
    expect(usage.lambdaRequests).toBe(meter.lambdaInvocations());
    expect(usage.expressRequests).toBe(invocations.get('reconcile'));
    expect(usage.ec2Calls).toBeGreaterThanOrEqual(meter.ec2Calls('RunInstances'));
    expect(usage.ec2Calls).toBeLessThanOrEqual(meter.ec2Calls());
    expect(usage.writeUnits).toBeGreaterThan(0);
    // One usage write per invocation, counted by the installation's meter too.
    expect(meter.dynamoDb('UpdateItem', 'usage').requests).toBe(meter.lambdaInvocations());
  });

  it('counts one RunInstances per instance the cloud launched', async () => {
    await converge();

    expect(meter.ec2Calls('RunInstances')).toBe(cloud.instances().length);
    expect(meter.ec2Calls('DescribeInstances')).toBeGreaterThan(meter.ec2Calls('RunInstances'));
  });
});
