/**
 * A small world for the topology planner: a Cluster with a topology, its ClusterClass, and the generated objects,
 * changed only by the planner's writes and by the test settling a rollout (what the other planners would report).
 */
import { expect } from 'vitest';
import type { ClusterClass } from '../../../../functions/api/cluster-class.js';
import type { Cluster } from '../../../../functions/api/cluster.js';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import { jsonEqual, type ApiObject } from '../../../../functions/api/kind.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineHealthCheck } from '../../../../functions/api/machine-health-check.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { validateCreate } from '../../../../functions/api/validate.js';
import { getCondition } from '../../../../functions/core/conditions.js';
import type { Plan, Write } from '../../../../functions/core/plan.js';
import { planTopology } from '../../../../functions/core/topology/planner.js';
import { standardClass, topologyCluster } from '../../api/cluster-class-fixtures.js';

export const T0 = new Date('2026-01-01T00:00:00Z');

export function parsed<T extends ApiObject>(manifest: unknown): T {
  const v = validateCreate(manifest);
  if (!v.ok) expect.fail(JSON.stringify(v.causes));
  return v.object as T;
}

/** A class whose second worker class differs from the first, so that a change of one leaves the other alone. */
export function twoWorkerClass(): Record<string, unknown> {
  const c = standardClass() as { spec: { workers: { machineDeployments: unknown[] } } };
  c.spec.workers.machineDeployments.push({ class: 'gpu-worker', template: { machineClassRef: { name: 'worker-g5' } } });
  return c as unknown as Record<string, unknown>;
}

export class World {
  cluster: Cluster;
  clusterClass: ClusterClass | undefined;
  objects = new Map<string, ApiObject>();
  /** Every write of every pass, in order. */
  log: Write[] = [];
  private uid = 0;

  constructor(options: { topology?: Record<string, unknown>; clusterClass?: Record<string, unknown> | null; annotations?: Record<string, string> } = {}) {
    const c = parsed<Cluster>(topologyCluster(options.topology));
    this.cluster = {
      ...c,
      metadata: { ...c.metadata, uid: 'cluster-uid', generation: 1, ...(options.annotations ? { annotations: options.annotations } : {}) },
    };
    const cc = options.clusterClass === null ? undefined : parsed<ClusterClass>(options.clusterClass ?? twoWorkerClass());
    this.clusterClass = cc && { ...cc, metadata: { ...cc.metadata, generation: 1 } };
  }

  of<T extends ApiObject>(kind: string): T[] {
    return [...this.objects.values()].filter((o) => o.kind === kind) as T[];
  }

  get<T extends ApiObject>(kind: string, name: string): T | undefined {
    return this.objects.get(`${kind}/${name}`) as T | undefined;
  }

  put(o: ApiObject): void {
    this.objects.set(`${o.kind}/${o.metadata.name}`, o);
  }

  condition() {
    return getCondition(this.cluster.status?.conditions, 'TopologyReconciled');
  }

  /** One planner pass, its writes applied as the store would (generation up on a spec change). */
  pass(): Plan {
    const cp = this.of<ControlPlane>('ControlPlane')[0];
    const plan = planTopology(
      {
        cluster: this.cluster,
        ...(this.clusterClass ? { clusterClass: this.clusterClass } : {}),
        ...(cp ? { controlPlane: cp } : {}),
        machineDeployments: this.of<MachineDeployment>('MachineDeployment'),
        machineSets: this.of<MachineSet>('MachineSet'),
        machineHealthChecks: this.of<MachineHealthCheck>('MachineHealthCheck'),
      },
      T0,
    );
    for (const w of plan.writes) this.apply(w);
    this.log.push(...plan.writes);
    return plan;
  }

  private apply(w: Write): void {
    if (w.type === 'Create') this.put({ ...w.object, metadata: { ...w.object.metadata, uid: `uid-${++this.uid}`, generation: 1 } });
    else if (w.type === 'Update') {
      const old = this.objects.get(`${w.object.kind}/${w.object.metadata.name}`)!;
      const generation = (old.metadata.generation ?? 1) + (jsonEqual(old.spec, w.object.spec) ? 0 : 1);
      this.put({ ...w.object, metadata: { ...w.object.metadata, generation }, ...(old.status ? { status: old.status } : {}) });
    } else if (w.type === 'UpdateStatus' && w.object.kind === 'Cluster') this.cluster = w.object as Cluster;
    else if (w.type === 'Delete') {
      const o = this.objects.get(`${w.ref.kind}/${w.ref.name}`)!;
      this.put({ ...o, metadata: { ...o.metadata, deletionTimestamp: T0.toISOString() } });
    }
  }

  /** The user edits the Cluster's spec (generation up). */
  editCluster(change: (c: Cluster) => Cluster): void {
    const next = change(structuredClone(this.cluster));
    this.cluster = { ...next, metadata: { ...next.metadata, generation: (this.cluster.metadata.generation ?? 1) + 1 } };
  }

  /** A hand edit of a generated object (generation up). */
  edit<T extends ApiObject>(kind: string, name: string, change: (o: T) => T): void {
    const o = this.get<T>(kind, name)!;
    const next = change(structuredClone(o));
    this.put({ ...next, metadata: { ...next.metadata, generation: (o.metadata.generation ?? 1) + 1 } });
  }

  /** The control plane's planner has rolled every machine to its spec. */
  settleControlPlane(): void {
    const cp = this.of<ControlPlane>('ControlPlane')[0]!;
    const n = cp.spec.replicas;
    this.put({ ...cp, status: { observedGeneration: cp.metadata.generation, version: cp.spec.version, replicas: n, updatedReplicas: n, readyReplicas: n } });
  }

  /** A MachineDeployment has rolled every machine to its template. */
  settleMachineDeployment(name: string): void {
    const md = this.get<MachineDeployment>('MachineDeployment', name)!;
    const n = md.spec.replicas;
    this.put({ ...md, status: { observedGeneration: md.metadata.generation, replicas: n, updatedReplicas: n, availableReplicas: n, readyReplicas: n } });
  }

  settleAll(): void {
    this.settleControlPlane();
    for (const md of this.of<MachineDeployment>('MachineDeployment')) this.settleMachineDeployment(md.metadata.name);
  }

  /** Which objects a pass wrote: `Update ControlPlane prod-control-plane`. */
  static described(plan: Plan): string[] {
    return plan.writes
      .filter((w) => w.type !== 'UpdateStatus')
      .map((w) => ('ref' in w ? `${w.type} ${w.ref.kind} ${w.ref.name}` : `${w.type} ${w.object.kind} ${w.object.metadata.name}`));
  }
}
