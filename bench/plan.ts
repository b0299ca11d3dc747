/**
 * Plan time of one MachineDeployment reconcile (the deployment planner and the planners of its MachineSets,
 * as reconcileMachineDeployment runs them) for deployments of 10 to 5,000 machines, in these situations:
 * - steady: one MachineSet, every machine available, nothing to do;
 * - rolling: half-way through a rolling update (maxSurge 10%, maxUnavailable 10%), the old set being scaled
 *   down with exact availability counts, i.e. its full deletion order computed;
 * - scale-down: the deployment halved, the MachineSet picking half its machines across 3 failure domains;
 * - deleting: the reconcile after that scale-down, its Delete writes stored: half the machines deleting, as every
 *   reconcile finds them until they are gone (the scale-down is planned once, this many times);
 * - machines: the Machine planner (planMachines: every machine's own plan, which planClusterReconcile runs besides
 *   the deployments') over the steady deployment's machines, each with its running instance and Ready node, as
 *   a first pass's status writes leave them (nothing to do). Each reconcile gets fresh copies of the Machines,
 *   instances and nodes, as a store read and the observers give them (copied untimed; `--same-objects`: the same
 *   objects each time; `--churn`: an instance and a node come and go between reconciles), and the MachinePlanMemo
 *   the last reconcile left.
 *
 * Each reconcile is timed as planClusterReconcile runs it: the machines indexed (with the IndexMemo the cluster's
 * last reconcile left, as reconcile-cluster.ts keeps one per cluster; `--no-memo` without, and the Machine planner
 * without its MachinePlanMemo), then the plan.
 *
 * `--own-domains` puts each machine of the deployment situations in a failure domain of its own; `--iterations N` times N
 * reconciles per size.
 *
 * `npx tsx bench/plan.ts` or `npm run bench -- plan`. One JSON object per line
 * {"scenario":"plan","metric":"<situation>.<machines>.<p50|p95>","value":N,"unit":"ms"}, then a summary.
 */
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { API_VERSION, Labels } from '../functions/api/common.js';
import { clusterSchema, type Cluster } from '../functions/api/cluster.js';
import { machineClassSchema } from '../functions/api/machine-class.js';
import { machineDeploymentSchema, type MachineDeployment } from '../functions/api/machine-deployment.js';
import type { Machine } from '../functions/api/machine.js';
import type { MachineSet } from '../functions/api/machine-set.js';
import { reconcileMachineDeployment } from '../functions/core/machinedeployment/reconcile.js';
import { planMachines } from '../functions/core/machine/planner.js';
import { MachinePlanMemo } from '../functions/core/machine/plan-memo.js';
import type { ClusterObjects } from '../functions/core/cluster/objects.js';
import type { Plan } from '../functions/core/plan.js';
import { IndexMemo, indexMachines } from '../functions/core/machineset/machine-health.js';
import { planMachineDeployment } from '../functions/core/machinedeployment/rollout-planner.js';
import type { MachineDeploymentPlanInput } from '../functions/core/machinedeployment/rollout-planner.js';
import type { NodeFact } from '../functions/core/observed.js';

const SIZES = [10, 100, 1_000, 5_000];
/** `plan-50k` (not quick: its inputs take seconds to build) measures one MachineDeployment of 50,000 machines. */
const LARGE_SIZES = [50_000];
const TARGET_MS = 20;
const NOW = new Date('2026-03-01T12:00:00Z');
const DOMAINS = ['zone-a', 'zone-b', 'zone-c'];

const cluster: Cluster = clusterSchema.parse({
  apiVersion: API_VERSION,
  kind: 'Cluster',
  metadata: { name: 'bench', uid: 'cluster-uid' },
  spec: { provider: { sim: { failureDomains: DOMAINS } } },
});
const machineClass = machineClassSchema.parse({ apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name: 'small', uid: 'mc' }, spec: { sim: {} } });

function deployment(replicas: number, version: string): MachineDeployment {
  return machineDeploymentSchema.parse({
    apiVersion: API_VERSION,
    kind: 'MachineDeployment',
    metadata: { name: 'workers', uid: 'md-uid', generation: 1, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      clusterName: 'bench',
      replicas,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '10%', maxUnavailable: '10%' } },
      template: { spec: { version, machineClassRef: { name: 'small' } } },
    },
  }) as MachineDeployment;
}

/** The MachineSet the planner makes for `md`, as stored, with `replicas` and a revision. */
function storedSet(md: MachineDeployment, replicas: number, revision: number, created: string): MachineSet {
  const ms = planMachineDeployment({ ...baseInput(md, [], []) }).machineSets[0]!;
  return {
    ...ms,
    metadata: {
      ...ms.metadata,
      uid: `ms-${revision}`,
      resourceVersion: '5',
      generation: 1,
      creationTimestamp: created,
      annotations: { ...ms.metadata.annotations, [`clusterless.dev/revision`]: String(revision) },
    },
    spec: { ...ms.spec, replicas },
  };
}

/** `ownDomains`: each machine in a failure domain of its own (a failureDomain is any DNS label), not one of DOMAINS. */
function machines(ms: MachineSet, n: number, nodes: NodeFact[], ownDomains = false): Machine[] {
  const out: Machine[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${ms.metadata.name}-${i.toString(36).padStart(5, '0')}`;
    nodes.push({ name: `${name}-node`, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-02-01T00:00:00Z' }] });
    out.push({
      apiVersion: API_VERSION,
      kind: 'Machine',
      metadata: {
        name,
        namespace: 'default',
        uid: `${name}-uid`,
        creationTimestamp: new Date(Date.parse('2026-02-01T00:00:00Z') + i * 1000).toISOString(),
        labels: { ...ms.spec.template.metadata.labels, [Labels.setName]: ms.metadata.name },
        ownerReferences: [
          { apiVersion: API_VERSION, kind: 'MachineSet', name: ms.metadata.name, uid: ms.metadata.uid!, controller: true, blockOwnerDeletion: true },
        ],
        finalizers: ['clusterless.dev/machine'],
      },
      spec: {
        clusterName: 'bench',
        version: ms.spec.template.spec.version,
        machineClassRef: { name: 'small' },
        failureDomain: ownDomains ? `domain-${i}` : DOMAINS[i % DOMAINS.length]!,
        nodeDrainTimeoutSeconds: 300,
      },
      status: { phase: 'Running', nodeRef: { name: `${name}-node` } },
    });
  }
  return out;
}

function baseInput(md: MachineDeployment, sets: MachineSet[], ms: Machine[], nodes: NodeFact[] = []): MachineDeploymentPlanInput {
  return { machineDeployment: md, machineSets: sets, machines: ms, cluster, machineClasses: [machineClass], observed: { instances: [], nodes }, now: NOW };
}

function situation(kind: 'steady' | 'rolling' | 'scale-down' | 'deleting', n: number, ownDomains = false): MachineDeploymentPlanInput {
  const nodes: NodeFact[] = [];
  if (kind === 'deleting') return deleting(situation('scale-down', n, ownDomains));
  if (kind === 'rolling') {
    const v1 = deployment(n, 'v1.30.5');
    const v2 = deployment(n, 'v1.31.2');
    const oldSet = storedSet(v1, n - Math.floor(n / 2), 1, '2026-01-01T00:00:00Z');
    const newSet = storedSet(v2, Math.floor(n / 2), 2, '2026-02-01T00:00:00Z');
    return baseInput(
      v2,
      [oldSet, newSet],
      [...machines(oldSet, n - Math.floor(n / 2), nodes, ownDomains), ...machines(newSet, Math.floor(n / 2), nodes, ownDomains)],
      nodes,
    );
  }
  const full = deployment(n, 'v1.31.2');
  const set = storedSet(full, n, 1, '2026-01-01T00:00:00Z');
  const md = kind === 'steady' ? full : deployment(Math.max(1, Math.floor(n / 2)), 'v1.31.2');
  const input = baseInput(md, [set], machines(set, n, nodes, ownDomains), nodes);
  return kind === 'steady' ? settled(input) : input;
}

/** The input as it is once a first reconcile's status and revision writes are stored: the next plan is empty. */
function settled(input: MachineDeploymentPlanInput, first = reconcileMachineDeployment(input)): MachineDeploymentPlanInput {
  let md = input.machineDeployment;
  let sets = [...input.machineSets];
  for (const w of first.writes) {
    if (w.type !== 'Update' && w.type !== 'UpdateStatus') continue;
    if (w.object.kind === 'MachineDeployment')
      md = w.type === 'Update' ? { ...md, metadata: (w.object as MachineDeployment).metadata } : { ...md, status: (w.object as MachineDeployment).status };
    else
      sets = sets.map((ms) =>
        ms.metadata.name === w.object.metadata.name
          ? {
              ...ms,
              ...(w.type === 'Update'
                ? { metadata: (w.object as MachineSet).metadata, spec: (w.object as MachineSet).spec }
                : { status: (w.object as MachineSet).status }),
            }
          : ms,
      );
  }
  return { ...input, machineDeployment: md, machineSets: sets };
}

/**
 * The scale-down as the next reconcile finds it once the first one's writes are stored: half the machines deleting
 * (deletionTimestamp set), as every reconcile finds them until their nodes are drained and their instances gone.
 */
function deleting(input: MachineDeploymentPlanInput): MachineDeploymentPlanInput {
  const first = reconcileMachineDeployment(input);
  const gone = new Set(first.writes.flatMap((w) => (w.type === 'Delete' ? [w.ref.name] : [])));
  const deletionTimestamp = new Date(NOW.getTime() - 60_000).toISOString();
  const machines = input.machines.map((m) => (gone.has(m.metadata.name) ? { ...m, metadata: { ...m.metadata, deletionTimestamp } } : m));
  // Settled twice: the status writes of a reconcile that finds the machines deleting are stored too.
  return settled(settled({ ...input, machines }, first));
}

/**
 * The steady deployment's machines for the Machine planner: each with its providerID, its instance running and its
 * node Ready (found by providerID), in a cluster whose infrastructure and control plane are up; then the machines
 * as the first pass's status writes leave them, so that the timed passes plan nothing.
 */
function machinesSituation(n: number): { objects: ClusterObjects; observed: MachineDeploymentPlanInput['observed']; now: Date } {
  const input = situation('steady', n);
  const instances: MachineDeploymentPlanInput['observed']['instances'] = [];
  const machines = input.machines.map((m, i) => {
    const providerID = `sim:///${m.metadata.name}`;
    instances.push({ machineUid: m.metadata.uid!, instanceId: `i-${i}`, providerID, state: 'running', availabilityZone: m.spec.failureDomain! });
    return { ...m, metadata: { ...m.metadata, resourceVersion: '1' }, spec: { ...m.spec, providerID } };
  });
  const nodes = input.observed.nodes!.map((node, i) => ({ ...node, providerID: instances[i]!.providerID }));
  const ready = { lastTransitionTime: '2026-01-01T00:00:00Z' };
  const objects: ClusterObjects = {
    cluster: {
      ...cluster,
      status: {
        infrastructureReady: true,
        conditions: [{ type: 'ControlPlaneInitialized', status: 'True', reason: 'Initialized', ...ready }],
      },
    } as Cluster,
    machineDeployments: [],
    machineSets: [],
    machines,
    machineHealthChecks: [],
  };
  const observed = { instances, nodes };
  const first = planMachines(objects, observed, NOW);
  const byName = new Map<string, Machine>(machines.map((m) => [m.metadata.name, m]));
  // Settle: the first pass's status writes stored (each a new resourceVersion, as the store gives it).
  for (const w of first.writes)
    if (w.type === 'UpdateStatus' && w.object.kind === 'Machine')
      byName.set(w.object.metadata.name, { ...(w.object as Machine), metadata: { ...w.object.metadata, resourceVersion: '2' } });
  return { objects: { ...objects, machines: [...byName.values()] }, observed, now: NOW };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** `--sizes 50000` (or `--sizes 10,100`) picks the deployment sizes; `--only steady` one situation. */
function flag(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

export async function run(argv: string[] = []): Promise<void> {
  const sizesFlag = flag(argv, '--sizes');
  const sizes = sizesFlag === 'large' ? LARGE_SIZES : sizesFlag ? sizesFlag.split(',').map(Number) : SIZES;
  const only = flag(argv, '--only');
  // `--no-memo`: every reconcile indexes from scratch, as one on a cold Lambda container does.
  const noMemo = argv.includes('--no-memo');
  const sameObjects = argv.includes('--same-objects');
  const churn = argv.includes('--churn');
  // `--own-domains`: every machine in a failure domain of its own (the deployment situations), as machines created by
  // hand may name them; `--iterations N`: N timed reconciles per size (a p95 of 20 is the second-slowest).
  const ownDomains = argv.includes('--own-domains');
  const iterationsFlag = flag(argv, '--iterations');
  const kinds = (['steady', 'rolling', 'scale-down', 'deleting', 'machines'] as const).filter((k) => !only || k === only);
  const summary: string[] = [];
  let worst = 0;
  for (const kind of kinds) {
    for (const n of sizes) {
      const iterations = iterationsFlag ? Number(iterationsFlag) : n >= 10_000 ? 20 : n >= 1000 ? 30 : 100;
      let reconcile: () => Plan;
      // Untimed, before each reconcile: what the store and the observers hand the next reconcile.
      let read = () => {};
      let memoNote = () => '';
      if (kind === 'machines') {
        const situation = machinesSituation(n);
        // As reconcile-cluster.ts plans: with the memo the cluster's last reconcile left (`--no-memo`: without), over
        // the objects as a real store and provider return them, fresh copies every read (`--same-objects`: the same
        // objects every time, as an in-memory store could hand them).
        const memo = noMemo ? undefined : new MachinePlanMemo();
        let { objects, observed } = situation;
        // `--churn`: every other read lists one more instance and node (of a machine of another cluster's, at the
        // front: every position moves), so that each reconcile finds facts that came or went.
        let reads = 0;
        if (!sameObjects)
          read = () => {
            objects = { ...situation.objects, machines: structuredClone(situation.objects.machines) };
            observed = structuredClone(situation.observed);
            if (churn && reads++ % 2 === 0) {
              const providerID = 'sim:///elsewhere';
              observed.instances.unshift({ machineUid: 'elsewhere-uid', instanceId: 'i-elsewhere', providerID, state: 'running' });
              observed.nodes!.unshift({ name: 'elsewhere-node', providerID, conditions: [] });
            }
          };
        reconcile = () => planMachines(objects, observed, situation.now, memo);
        memoNote = () => (memo ? `, ${memo.planned} planned and ${memo.reused} reused by the memo` : '');
      } else {
        const input = situation(kind, n, ownDomains);
        // What planClusterReconcile does for each deployment of a cluster: index the machines (with the memo the
        // cluster's last reconcile left: reconcile-cluster.ts keeps one per cluster), then plan.
        const memo = new IndexMemo();
        reconcile = () =>
          reconcileMachineDeployment({ ...input, index: indexMachines(input.machines, input.observed, input.now, undefined, noMemo ? undefined : memo) });
      }
      for (let i = 0; i < 5; i++) {
        read();
        reconcile(); // warm-up (JIT), and the memo of a first reconcile
      }
      const times: number[] = [];
      // The process's CPU time as well (GC threads included): on a machine shared with other work the wall time
      // includes the time the process waited for a core.
      const cpu: number[] = [];
      // The main thread's CPU time alone (the machines situation): without the GC threads' work on the fresh copies'
      // garbage, which the process's CPU time counts when it overlaps the plan.
      const thread: number[] = [];
      let writes = 0;
      for (let i = 0; i < iterations; i++) {
        read();
        const c0 = process.cpuUsage();
        const t0Thread = kind === 'machines' ? process.threadCpuUsage() : undefined;
        const t0 = performance.now();
        const plan = reconcile();
        times.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
        if (t0Thread) {
          const ct = process.threadCpuUsage(t0Thread);
          thread.push((ct.user + ct.system) / 1000);
        }
        writes = plan.writes.length;
      }
      times.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      thread.sort((a, b) => a - b);
      const p50 = percentile(times, 50);
      const p95 = percentile(times, 95);
      for (const [metric, value] of [
        [`${kind}.${n}.p50`, p50],
        [`${kind}.${n}.p95`, p95],
        [`${kind}.${n}.cpu.p50`, percentile(cpu, 50)],
        [`${kind}.${n}.cpu.p95`, percentile(cpu, 95)],
        ...(kind === 'machines'
          ? ([
              [`${kind}.${n}.thread.p50`, percentile(thread, 50)],
              [`${kind}.${n}.thread.p95`, percentile(thread, 95)],
            ] as const)
          : []),
      ] as const)
        console.log(JSON.stringify({ scenario: 'plan', metric, value: Math.round(value * 1000) / 1000, unit: 'ms' }));
      if (n === sizes[sizes.length - 1]) {
        summary.push(`${kind} p50 ${p50.toFixed(2)} ms / p95 ${p95.toFixed(2)} ms (${writes} writes${memoNote()})`);
        worst = Math.max(worst, p95);
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  console.log(
    `plan (load average ${loadavg()[0]!.toFixed(1)}): one MachineDeployment reconcile at ${sizes[sizes.length - 1]} machines: ${summary.join('; ')}; target < ${TARGET_MS} ms: ${worst < TARGET_MS ? 'met' : 'MISSED'}`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
