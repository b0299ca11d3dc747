/** The sweep (functions/workflows/sweep.ts) over a store and node readers, and the sweep function's kubeconfig keeping. */
import { describe, expect, it } from 'vitest';
import type { NodeFact } from '../../../functions/core/observed.js';
import { API_VERSION } from '../../../functions/api/common.js';
import { KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import { KUBECONFIG_KEEP_SECONDS, keptKubeconfigs, sweepDepsFromEnvironment } from '../../../functions/handlers/sweep.js';
import type { FleetSnapshot } from '../../../functions/core/trigger/index.js';
import { sweep } from '../../../functions/workflows/sweep.js';
import { NodeReaderUnavailableError, type NodeReader, type Store, type Workflows } from '../../../functions/ports.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { fleetOf, settled, withHealthCheck } from '../../unit/core/trigger/fleet-fixtures.js';

describe('sweep', () => {
  it('reads the fleet from the store and starts reconcile-cluster for the drifting clusters only', async () => {
    const store: Store = new MemoryStore();
    await store.create({ apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'fresh', namespace: 'default' }, spec: {} } as never);
    const started: Record<string, unknown>[] = [];
    const workflows: Workflows = { start: async (_w, _n, input) => (started.push(input), { started: true }) };
    const result = await sweep({ store, workflows });
    expect(result).toEqual({ clusters: 1, probed: 0, started: 1, failed: 0 });
    expect(started).toEqual([{ namespace: 'default', clusterName: 'fresh', trigger: 'sweep' }]);
  });
});

const quiet = { debug: () => {}, info: () => {}, error: () => {} };

/** Five nodes per cluster (3 control plane, 2 workers), all Ready, unless `conditions` says otherwise. */
function readyNodes(ready: NodeFact['conditions'][0]['status'] = 'True'): NodeFact[] {
  return ['cp-0', 'cp-1', 'cp-2', 'w-0', 'w-1'].map((name, i) => ({
    name,
    conditions: [{ type: 'Ready', status: i === 4 ? ready : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  }));
}

/** A NodeReader over a table of clusters; an Error entry is thrown; records the most reads in flight at once. */
function tableReader(table: Record<string, NodeFact[] | Error | (() => Promise<NodeFact[]>)>) {
  const stats = { reads: [] as string[], inFlight: 0, maxInFlight: 0 };
  const reader: NodeReader = {
    async listNodes(namespace, clusterName) {
      const key = `${namespace}/${clusterName}`;
      stats.reads.push(key);
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        await new Promise((r) => setImmediate(r));
        const entry = table[key];
        if (entry === undefined) throw new Error(`no such cluster ${key}`);
        if (entry instanceof Error) throw entry;
        return typeof entry === 'function' ? await entry() : entry;
      } finally {
        stats.inFlight--;
      }
    },
  };
  return { reader, stats };
}

async function storeWith(s: FleetSnapshot): Promise<Store> {
  const store = new MemoryStore();
  for (const o of [...s.clusters, ...s.controlPlanes, ...s.machineDeployments, ...s.healthChecks]) await store.create(o as never);
  return store;
}

function recordingWorkflows() {
  const started: string[] = [];
  const workflows: Workflows = {
    start: async (_w, _n, input) => (started.push(`${String(input['namespace'])}/${String(input['clusterName'])}`), { started: true }),
  };
  return { workflows, started };
}

describe('sweep with a node reader', () => {
  it('reconciles only the health-checked cluster whose node is NotReady', async () => {
    // Prepare
    const store = await storeWith(fleetOf(withHealthCheck('healthy'), withHealthCheck('sick')));
    const { reader, stats } = tableReader({ 'default/healthy': readyNodes(), 'default/sick': readyNodes('False') });
    const { workflows, started } = recordingWorkflows();
    // Act
    const result = await sweep({ store, workflows, nodes: reader, log: quiet });
    // Assess
    expect(started).toEqual(['default/sick']);
    expect(result).toEqual({ clusters: 2, probed: 2, started: 1, failed: 0 });
    expect(stats.reads.sort()).toEqual(['default/healthy', 'default/sick']);
  });

  it('reconciles a cluster whose nodes cannot be read, whatever the error', async () => {
    const store = await storeWith(fleetOf(withHealthCheck('a'), withHealthCheck('b'), withHealthCheck('c')));
    const { reader } = tableReader({ 'default/a': new NodeReaderUnavailableError('refused'), 'default/b': new TypeError('boom'), 'default/c': readyNodes() });
    const { workflows, started } = recordingWorkflows();
    await sweep({ store, workflows, nodes: reader, log: quiet });
    expect(started.sort()).toEqual(['default/a', 'default/b']);
  });

  it('reconciles a cluster whose probe fails in a way nobody foresaw (a reader answering nonsense)', async () => {
    const store = await storeWith(withHealthCheck());
    const reader: NodeReader = { listNodes: async () => null as unknown as NodeFact[] };
    const { workflows, started } = recordingWorkflows();
    await sweep({ store, workflows, nodes: reader, log: quiet });
    expect(started).toEqual(['default/c1']);
  });

  it('reconciles a cluster whose node went away', async () => {
    const store = await storeWith(withHealthCheck());
    const { reader } = tableReader({ 'default/c1': readyNodes().slice(1) });
    const { workflows, started } = recordingWorkflows();
    await sweep({ store, workflows, nodes: reader, log: quiet });
    expect(started).toEqual(['default/c1']);
  });

  it('does not ask the nodes of a cluster that drifts anyway, nor of one without a health check, nor of a paused one', async () => {
    // Prepare: "busy" is short of a control-plane replica, "plain" has no health check, "paused" is paused.
    const busy = withHealthCheck('busy');
    busy.controlPlanes[0]!.status!.readyReplicas = 2;
    const paused = withHealthCheck('paused');
    paused.clusters[0]!.spec.paused = true;
    const store = await storeWith(fleetOf(busy, settled('plain'), paused));
    const { reader, stats } = tableReader({});
    const { workflows, started } = recordingWorkflows();
    // Act
    const result = await sweep({ store, workflows, nodes: reader, log: quiet });
    // Assess
    expect(stats.reads).toEqual([]);
    expect(started).toEqual(['default/busy']);
    expect(result.probed).toBe(0);
  });

  it('without a node reader, reconciles every health-checked cluster as before', async () => {
    const store = await storeWith(fleetOf(withHealthCheck('a'), withHealthCheck('b')));
    const { workflows, started } = recordingWorkflows();
    const result = await sweep({ store, workflows, log: quiet });
    expect(started.sort()).toEqual(['default/a', 'default/b']);
    expect(result.probed).toBe(0);
  });

  it('reads at most probeConcurrency clusters at once', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `c${i}`);
    const store = await storeWith(fleetOf(...names.map((n) => withHealthCheck(n))));
    const { reader, stats } = tableReader(Object.fromEntries(names.map((n) => [`default/${n}`, readyNodes()])));
    const { workflows, started } = recordingWorkflows();
    const result = await sweep({ store, workflows, nodes: reader, probeConcurrency: 4, log: quiet });
    expect(stats.reads).toHaveLength(40);
    expect(stats.maxInFlight).toBe(4);
    expect(started).toEqual([]);
    expect(result.probed).toBe(40);
  });

  it('reconciles the clusters whose nodes are not read within the budget', async () => {
    const store = await storeWith(fleetOf(withHealthCheck('fast'), withHealthCheck('hung')));
    const { reader } = tableReader({ 'default/fast': readyNodes(), 'default/hung': () => new Promise<NodeFact[]>(() => {}) });
    const { workflows, started } = recordingWorkflows();
    await sweep({ store, workflows, nodes: reader, probeBudgetMs: 50, log: quiet });
    expect(started).toEqual(['default/hung']);
  });
});

describe('keptKubeconfigs', () => {
  it("asks for a cluster's kubeconfig once per keeping period, and again after it", async () => {
    // Prepare
    let now = Date.parse('2026-01-01T00:00:00Z');
    const asked: string[] = [];
    const kubeconfigFor = keptKubeconfigs(async (ns, name) => (asked.push(`${ns}/${name}`), `kubeconfig of ${name} #${asked.length}`), {
      now: () => new Date(now),
    });
    // Act
    const first = await kubeconfigFor('default', 'a');
    now += (KUBECONFIG_KEEP_SECONDS - 1) * 1000;
    const kept = await kubeconfigFor('default', 'a');
    await kubeconfigFor('default', 'b');
    now += 2000;
    const renewed = await kubeconfigFor('default', 'a');
    // Assess
    expect([first, kept, renewed]).toEqual(['kubeconfig of a #1', 'kubeconfig of a #1', 'kubeconfig of a #3']);
    expect(asked).toEqual(['default/a', 'default/b', 'default/a']);
  });

  it('does not keep "no kubeconfig yet": the certificates may appear any minute', async () => {
    let answer: string | undefined;
    const kubeconfigFor = keptKubeconfigs(async () => answer, { now: () => new Date(0) });
    expect(await kubeconfigFor('default', 'a')).toBeUndefined();
    answer = 'now there is one';
    expect(await kubeconfigFor('default', 'a')).toBe('now there is one');
  });

  it('refuses to keep a kubeconfig past the half-life its credentials are renewed at', () => {
    expect(() => keptKubeconfigs(async () => 'x', { now: () => new Date(0) }, 1800)).toThrow(RangeError);
  });
});

describe('sweepDepsFromEnvironment', () => {
  const env = { TABLE_NAME: 't', RECONCILE_CLUSTER_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:1:stateMachine:r', AWS_REGION: 'us-east-1' };

  it('reads nodes through the kubeadm bootstrap when told the secrets key', () => {
    const deps = sweepDepsFromEnvironment({
      ...env,
      SECRETS_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:1:key/k',
      SECRETS_NAME_PREFIX: 'clusterless/',
      INSTALLATION_ID: 'test-installation',
    });
    expect(deps.nodes).toBeInstanceOf(KubernetesNodeReader);
  });

  it('reads no nodes without it (every health-checked cluster is then reconciled each sweep)', () => {
    expect(sweepDepsFromEnvironment(env).nodes).toBeUndefined();
  });
});
