/** The sweep's drift test: which clusters need a reconcile, and why. Pure: the fleet is plain objects. */
import { describe, expect, it } from 'vitest';
import type { NodeFact } from '../../../functions/core/observed.js';
import { API_VERSION, Annotations } from '../../../functions/api/common.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { ControlPlane } from '../../../functions/api/control-plane.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { MachineHealthCheck } from '../../../functions/api/machine-health-check.js';
import { KubernetesNodeReader } from '../../../functions/adapters/kubernetes/index.js';
import { KUBECONFIG_KEEP_SECONDS, keptKubeconfigs, sweepDepsFromEnvironment } from '../../../functions/handlers/sweep.js';
import { clustersWithDrift, type FleetSnapshot } from '../../../functions/core/trigger/index.js';
import { sweep } from '../../../functions/workflows/sweep.js';
import { NodeReaderUnavailableError, type NodeReader, type Store, type Workflows } from '../../../functions/ports.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'default', generation: 1, ...extra });

/** A settled cluster: everything observed, provisioned, running and complete. */
function settled(name = 'c1'): FleetSnapshot {
  return {
    clusters: [
      {
        apiVersion: API_VERSION,
        kind: 'Cluster',
        metadata: meta(name),
        spec: { paused: false },
        status: { phase: 'Provisioned', observedGeneration: 1 },
      } as unknown as Cluster,
    ],
    controlPlanes: [
      {
        apiVersion: API_VERSION,
        kind: 'ControlPlane',
        metadata: meta(`${name}-cp`),
        spec: { clusterName: name, replicas: 3 },
        status: { observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3 },
      } as unknown as ControlPlane,
    ],
    machineDeployments: [
      {
        apiVersion: API_VERSION,
        kind: 'MachineDeployment',
        metadata: meta(`${name}-md`),
        spec: { clusterName: name, replicas: 2, paused: false },
        status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 },
      } as unknown as MachineDeployment,
    ],
    healthChecks: [],
  };
}

const drifting = (s: FleetSnapshot) => clustersWithDrift(s).map((d) => `${d.namespace}/${d.clusterName}`);

/** A health check of the cluster's workers as the last reconcile left it: every target healthy. */
function settledHealthCheck(cluster = 'c1'): MachineHealthCheck {
  return {
    apiVersion: API_VERSION,
    kind: 'MachineHealthCheck',
    metadata: meta(`${cluster}-mhc`),
    spec: {
      clusterName: cluster,
      selector: { matchLabels: { 'clusterless.dev/deployment-name': `${cluster}-md` } },
      unhealthyConditions: [
        { type: 'Ready', status: 'Unknown', timeout: '300s' },
        { type: 'Ready', status: 'False', timeout: '300s' },
      ],
      nodeStartupTimeout: '10m',
      maxUnhealthy: '100%',
    },
    status: {
      observedGeneration: 1,
      expectedMachines: 2,
      currentHealthy: 2,
      conditions: [{ type: 'RemediationAllowed', status: 'True', reason: 'RemediationAllowed', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  } as unknown as MachineHealthCheck;
}

/** A settled cluster with a settled health check. */
function withHealthCheck(name = 'c1'): FleetSnapshot {
  return { ...settled(name), healthChecks: [settledHealthCheck(name)] };
}

function fleetOf(...parts: FleetSnapshot[]): FleetSnapshot {
  return {
    clusters: parts.flatMap((p) => p.clusters),
    controlPlanes: parts.flatMap((p) => p.controlPlanes),
    machineDeployments: parts.flatMap((p) => p.machineDeployments),
    healthChecks: parts.flatMap((p) => p.healthChecks),
  };
}

describe('clustersWithDrift', () => {
  it('finds none in a settled fleet', () => {
    expect(clustersWithDrift(settled())).toEqual([]);
  });

  it.each<[string, (s: FleetSnapshot) => void]>([
    ['a spec change not observed yet', (s) => (s.clusters[0]!.metadata.generation = 2)],
    ['a cluster never reconciled (no status)', (s) => delete (s.clusters[0] as { status?: unknown }).status],
    ['a cluster being deleted', (s) => (s.clusters[0]!.metadata.deletionTimestamp = '2026-01-01T00:00:00Z')],
    ['a cluster not Provisioned', (s) => (s.clusters[0]!.status!.phase = 'Provisioning')],
    ['a worker not Running (its deployment short of available replicas)', (s) => (s.machineDeployments[0]!.status!.availableReplicas = 1)],
    ['a worker being deleted (its deployment has one replica too many)', (s) => (s.machineDeployments[0]!.status!.replicas = 3)],
    ['a MachineDeployment not complete', (s) => (s.machineDeployments[0]!.status!.availableReplicas = 1)],
    ['a MachineDeployment scaled but not observed', (s) => (s.machineDeployments[0]!.metadata.generation = 2)],
    ['a control plane short of ready replicas', (s) => (s.controlPlanes[0]!.status!.readyReplicas = 2)],
    [
      'a MachineHealthCheck, whose timeouts must be evaluated',
      (s) =>
        s.healthChecks.push({
          apiVersion: API_VERSION,
          kind: 'MachineHealthCheck',
          metadata: meta('c1-mhc'),
          spec: { clusterName: 'c1' },
        } as unknown as MachineHealthCheck),
    ],
  ])('finds %s', (_what, change) => {
    const s = settled();
    change(s);
    expect(drifting(s)).toEqual(['default/c1']);
  });

  it('marks a cluster whose only drift is a settled health check, for the node probe', () => {
    expect(clustersWithDrift(withHealthCheck())).toEqual([
      { namespace: 'default', clusterName: 'c1', reasons: ['health check c1-mhc has timeouts to evaluate'], onlyHealthChecks: true },
    ]);
  });

  it('does not mark a cluster that also drifts otherwise: the probe must not talk it out of its reconcile', () => {
    const s = withHealthCheck();
    s.controlPlanes[0]!.status!.readyReplicas = 2;
    expect(clustersWithDrift(s)).toEqual([
      {
        namespace: 'default',
        clusterName: 'c1',
        reasons: ['control plane c1-cp has 2/3 ready replicas', 'health check c1-mhc has timeouts to evaluate'],
        onlyHealthChecks: false,
      },
    ]);
  });

  it.each<[string, (h: MachineHealthCheck) => void, string]>([
    ['a health check whose spec change is not observed yet', (h) => (h.metadata.generation = 2), 'health check c1-mhc generation not observed yet'],
    ['a health check being deleted', (h) => (h.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'), 'health check c1-mhc is being deleted'],
    [
      'a health check whose status says a target was not healthy (a node that recovered writes nothing)',
      (h) => (h.status!.currentHealthy = 1),
      'health check c1-mhc has 1/2 healthy targets',
    ],
    [
      'a health check that could not read the nodes last time',
      (h) =>
        (h.status!.conditions = [{ type: 'RemediationAllowed', status: 'Unknown', reason: 'InspectionFailed', lastTransitionTime: '2026-01-01T00:00:00Z' }]),
      'health check c1-mhc could not read the nodes last time',
    ],
  ])('reconciles %s without asking the nodes', (_what, change, reason) => {
    const s = withHealthCheck();
    change(s.healthChecks[0]!);
    expect(clustersWithDrift(s)).toEqual([{ namespace: 'default', clusterName: 'c1', reasons: [reason], onlyHealthChecks: false }]);
  });

  it('leaves a paused health check alone', () => {
    const s = withHealthCheck();
    s.healthChecks[0]!.metadata.annotations = { [Annotations.paused]: '' };
    expect(clustersWithDrift(s)).toEqual([]);
  });

  it('says why', () => {
    const s = settled();
    s.controlPlanes[0]!.status!.readyReplicas = 2;
    expect(clustersWithDrift(s)[0]!.reasons).toEqual(['control plane c1-cp has 2/3 ready replicas']);
  });

  it('reports each drifting cluster once, and only the drifting ones', () => {
    const a = settled('a');
    const b = settled('b');
    const s: FleetSnapshot = {
      clusters: [...a.clusters, ...b.clusters],
      controlPlanes: [...a.controlPlanes, ...b.controlPlanes],
      machineDeployments: [...a.machineDeployments, ...b.machineDeployments],
      healthChecks: [],
    };
    s.machineDeployments[1]!.status!.availableReplicas = 0;
    expect(drifting(s)).toEqual(['default/b']);
  });

  it('leaves a paused cluster alone unless its spec changed or it is deleted', () => {
    const s = settled();
    s.clusters[0]!.spec.paused = true;
    s.machineDeployments[0]!.status!.availableReplicas = 0;
    expect(drifting(s)).toEqual([]);
    s.clusters[0]!.metadata.generation = 2;
    expect(drifting(s)).toEqual(['default/c1']);
  });

  it('does not confuse clusters of the same name in different namespaces', () => {
    const s = settled();
    const other = settled();
    other.clusters[0]!.metadata.namespace = 'team';
    other.clusters[0]!.status!.phase = 'Provisioning';
    s.clusters.push(other.clusters[0]!);
    expect(drifting(s)).toEqual(['team/c1']);
  });
});

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
