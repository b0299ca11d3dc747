/**
 * A faked world for simulation tests: the store (objects with finalizers and deletion), instances that boot,
 * nodes that register, and the workflows, reduced to what they do to the world. Planners run against it step by
 * step, as the reconcile workflow runs them, so that whole rollouts and remediation storms can be checked
 * against invariants and compared with golden logs.
 *
 * Like the real store, one plan may write an object once: a second write of the same object in the same plan
 * loses the race (Conflict) and is dropped, to be planned again on the next step.
 */
import { Finalizers } from '../../../../functions/api/common.js';
import type { ApiObject } from '../../../../functions/api/kind.js';
import type { Machine } from '../../../../functions/api/machine.js';
import { timestamp } from '../../../../functions/core/conditions.js';
import type { ClusterObjects } from '../../../../functions/core/cluster/objects.js';
import { planCluster } from '../../../../functions/core/cluster/planner.js';
import { planControlPlane } from '../../../../functions/core/controlplane/planner.js';
import { planMachineHealthChecks } from '../../../../functions/core/healthcheck/planner.js';
import { failureDomainOf } from '../../../../functions/core/machine/facts.js';
import { planMachines } from '../../../../functions/core/machine/planner.js';
import type { InstanceFact, NodeFact, Observed } from '../../../../functions/core/observed.js';
import { mergePlans, type Action, type Plan, type Write } from '../../../../functions/core/plan.js';

/** Small seeded generator (mulberry32): the same seed replays the same world. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorldOptions {
  seed: number;
  /** Seconds an instance stays pending. */
  bootSeconds?: [number, number];
  /** Seconds from running to a Ready node. */
  nodeSeconds?: [number, number];
  /** Recreate deleted workers, standing in for the MachineSet planner. */
  keepWorkers?: number;
}

type Collection = 'machineDeployments' | 'machineSets' | 'machines' | 'machineHealthChecks';

interface Boot {
  runningAt: number;
  nodeAt: number;
}

export class World {
  readonly random: () => number;
  now: Date;
  readonly instances = new Map<string, InstanceFact>();
  readonly nodes = new Map<string, NodeFact>();
  readonly boots = new Map<string, Boot>();
  /** Names of machines whose node is held NotReady by a fault. */
  readonly sick = new Set<string>();
  nodesReadable = true;
  private uid = 0;
  readonly log: string[] = [];

  constructor(
    public objects: ClusterObjects,
    private readonly opts: WorldOptions,
    start: Date,
  ) {
    this.random = rng(opts.seed);
    this.now = start;
  }

  observed(): Observed {
    return {
      instances: [...this.instances.values()].map((i) => ({ ...i })),
      ...(this.nodesReadable ? { nodes: [...this.nodes.values()].map((n) => ({ ...n, conditions: n.conditions.map((c) => ({ ...c })) })) } : {}),
    };
  }

  /** What the reconcile workflow asks of the planners in one pass. */
  plan(): Plan {
    const observed = this.observed();
    // The Machine planner owns the machines' status; the health checks' condition writes come after it (and
    // lose the race on a machine whose status changed in the same pass, to be planned again).
    return mergePlans(
      planCluster(this.objects, observed, this.now),
      planControlPlane(this.objects, observed, this.now),
      planMachines(this.objects, observed, this.now),
      planMachineHealthChecks(this.objects, observed, this.now),
    );
  }

  private between([lo, hi]: [number, number]): number {
    return Math.round(lo + this.random() * (hi - lo));
  }

  private all(): ApiObject[] {
    const o = this.objects;
    return [o.cluster, ...(o.controlPlane ? [o.controlPlane] : []), ...o.machineDeployments, ...o.machineSets, ...o.machines, ...o.machineHealthChecks];
  }

  find(kind: string, name: string): ApiObject | undefined {
    return this.all().find((x) => x.kind === kind && x.metadata.name === name);
  }

  private replace(obj: ApiObject): void {
    const o = this.objects;
    if (obj.kind === 'Cluster') o.cluster = obj as ClusterObjects['cluster'];
    else if (obj.kind === 'ControlPlane') o.controlPlane = obj as NonNullable<ClusterObjects['controlPlane']>;
    else {
      const key = collection(obj.kind);
      const list = o[key] as ApiObject[];
      const i = list.findIndex((x) => x.metadata.name === obj.metadata.name);
      if (i >= 0) list[i] = obj;
      else list.push(obj);
    }
  }

  private remove(obj: ApiObject): void {
    const o = this.objects;
    if (obj.kind === 'ControlPlane') delete o.controlPlane;
    else if (obj.kind !== 'Cluster')
      (o[collection(obj.kind)] as ApiObject[]).splice(
        (o[collection(obj.kind)] as ApiObject[]).findIndex((x) => x.metadata.name === obj.metadata.name),
        1,
      );
  }

  private markDeleted(obj: ApiObject): void {
    if (obj.metadata.deletionTimestamp) return;
    if ((obj.metadata.finalizers ?? []).length === 0) this.remove(obj);
    else this.replace({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: timestamp(this.now) } });
  }

  apply(plan: Plan): { conflicts: number } {
    const written = new Set<string>();
    let conflicts = 0;
    for (const w of plan.writes) if (!this.write(w, written)) conflicts++;
    for (const a of plan.actions) this.act(a);
    return { conflicts };
  }

  private write(w: Write, written: Set<string>): boolean {
    if (w.type === 'Create') {
      if (this.find(w.object.kind, w.object.metadata.name)) return false;
      this.replace({ ...w.object, metadata: { ...w.object.metadata, uid: `uid-${++this.uid}`, generation: 1, creationTimestamp: timestamp(this.now) } });
      return true;
    }
    if (w.type === 'Delete' || w.type === 'RemoveFinalizer') {
      const obj = this.find(w.ref.kind, w.ref.name);
      if (!obj) return true;
      if (w.type === 'Delete') this.markDeleted(obj);
      else {
        const finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== w.finalizer);
        if (obj.metadata.deletionTimestamp && finalizers.length === 0) this.remove(obj);
        else this.replace({ ...obj, metadata: { ...obj.metadata, finalizers } });
      }
      return true;
    }
    const key = `${w.object.kind}/${w.object.metadata.name}`;
    const current = this.find(w.object.kind, w.object.metadata.name);
    if (!current || written.has(key)) return false;
    written.add(key);
    if (w.type === 'Update') this.replace({ ...w.object, status: current.status } as ApiObject);
    else this.replace({ ...current, status: w.object.status } as ApiObject);
    return true;
  }

  private machine(name: string): Machine | undefined {
    return this.objects.machines.find((m) => m.metadata.name === name);
  }

  private act(a: Action): void {
    if (a.type === 'LaunchInstance') {
      const m = this.machine(a.machine.name);
      if (!m || [...this.instances.values()].some((i) => i.machineUid === m.metadata.uid)) return;
      // What provision-machine records before it launches: the intent.
      this.replace({
        ...m,
        status: { ...m.status, infrastructure: { clientToken: `${m.metadata.uid}-1`, attempt: 1, launchRequestedAt: timestamp(this.now) } },
      } as Machine);
      const id = `i-${m.metadata.name}`;
      const zone = failureDomainOf(m);
      this.instances.set(id, {
        machineUid: m.metadata.uid!,
        instanceId: id,
        providerID: `sim:///${zone ?? 'zone'}/${id}`,
        state: 'pending',
        ...(zone ? { availabilityZone: zone } : {}),
      });
      const runningAt = this.now.getTime() + this.between(this.opts.bootSeconds ?? [20, 60]) * 1000;
      this.boots.set(id, { runningAt, nodeAt: runningAt + this.between(this.opts.nodeSeconds ?? [10, 40]) * 1000 });
    } else if (a.type === 'TerminateInstance' || a.type === 'RemediateMachine') {
      const m = this.machine(a.machine.name);
      if (a.type === 'RemediateMachine') {
        if (m) this.markDeleted(m);
        return;
      }
      const inst = [...this.instances.values()].find((i) => i.machineUid === m?.metadata.uid);
      if (inst) {
        this.instances.set(inst.instanceId, { ...inst, state: 'terminated' });
        for (const [name, n] of this.nodes) if (n.providerID === inst.providerID) this.nodes.delete(name);
      }
    } else if (a.type === 'DrainNode') {
      const m = this.machine(a.machine.name);
      if (m)
        this.replace({
          ...m,
          status: {
            ...m.status,
            conditions: [...(m.status?.conditions ?? []), { type: 'DrainingSucceeded', status: 'True', lastTransitionTime: timestamp(this.now) }],
          },
        } as Machine);
    } else if (a.type === 'DeleteInfrastructure') {
      for (const id of a.instanceIds) {
        const inst = this.instances.get(id);
        if (inst) this.instances.set(id, { ...inst, state: 'terminated' });
      }
    }
  }

  /** Time passes: instances boot, nodes register, sick nodes stay NotReady, healed ones come back. */
  advance(seconds: number): void {
    this.now = new Date(this.now.getTime() + seconds * 1000);
    const t = this.now.getTime();
    for (const [id, inst] of this.instances) {
      const boot = this.boots.get(id);
      if (!boot || inst.state === 'terminated') continue;
      if (inst.state === 'pending' && t >= boot.runningAt) this.instances.set(id, { ...inst, state: 'running' });
      const m = this.objects.machines.find((x) => x.metadata.uid === inst.machineUid);
      const nodeName = `node-${m?.metadata.name ?? id}`;
      if (t >= boot.nodeAt && !this.nodes.has(nodeName) && this.instances.get(id)!.state === 'running')
        this.nodes.set(nodeName, {
          name: nodeName,
          providerID: inst.providerID,
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: timestamp(this.now) }],
        });
    }
    for (const [name, n] of this.nodes) {
      const machineName = name.replace(/^node-/, '');
      const want = this.sick.has(machineName) ? 'False' : 'True';
      const ready = n.conditions.find((c) => c.type === 'Ready')!;
      if (ready.status !== want) this.nodes.set(name, { ...n, conditions: [{ type: 'Ready', status: want, lastTransitionTime: timestamp(this.now) }] });
    }
    if (this.opts.keepWorkers !== undefined) this.recreateWorkers(this.opts.keepWorkers);
  }

  private recreateWorkers(count: number): void {
    const live = this.objects.machines.filter((m) => !m.metadata.deletionTimestamp && !Object.hasOwn(m.metadata.labels ?? {}, 'clusterless.dev/control-plane'));
    for (let i = live.length; i < count; i++) {
      const name = `worker-${++this.uid}`;
      this.objects.machines.push({
        apiVersion: 'clusterless.dev/v1alpha1',
        kind: 'Machine',
        metadata: {
          name,
          namespace: 'default',
          uid: `uid-${name}`,
          generation: 1,
          creationTimestamp: timestamp(this.now),
          labels: { 'clusterless.dev/cluster-name': this.objects.cluster.metadata.name, role: 'worker' },
          finalizers: [Finalizers.machine],
        },
        spec: { clusterName: this.objects.cluster.metadata.name, version: 'v1.31.0', machineClassRef: { name: 'small' }, nodeDrainTimeoutSeconds: 300 },
      });
    }
  }

  /** Instance ids of the world's etcd: control-plane machines with a live instance. */
  controlPlaneMachines(): Machine[] {
    return this.objects.machines.filter((m) => Object.hasOwn(m.metadata.labels ?? {}, 'clusterless.dev/control-plane'));
  }

  instanceOf(m: Machine): InstanceFact | undefined {
    return [...this.instances.values()].find((i) => i.machineUid === m.metadata.uid);
  }

  nodeOf(m: Machine): NodeFact | undefined {
    return this.nodes.get(`node-${m.metadata.name}`);
  }
}

function collection(kind: string): Collection {
  switch (kind) {
    case 'MachineDeployment':
      return 'machineDeployments';
    case 'MachineSet':
      return 'machineSets';
    case 'Machine':
      return 'machines';
    case 'MachineHealthCheck':
      return 'machineHealthChecks';
    default:
      throw new Error(`no collection for ${kind}`);
  }
}
