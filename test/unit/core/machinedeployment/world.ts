/**
 * A small simulated world for the MachineDeployment planner, in the spirit of Cluster API's
 * Test_RollingUpdateSequences: a store that applies plans as the real one would (uids, resourceVersions,
 * finalizers, deletionTimestamp), machines that get a node after a random boot time and become Ready after
 * a random delay, deletions that take time, random failures remediated by a stand-in MachineHealthCheck, and
 * (for OnDelete) a user who deletes old machines. Everything is driven by one seeded generator.
 */
import { Annotations } from '../../../../functions/api/common.js';
import type { Cluster } from '../../../../functions/api/cluster.js';
import { canonicalJson, type ApiObject } from '../../../../functions/api/kind.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineClass } from '../../../../functions/api/machine-class.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { isControlledBy } from '../../../../functions/core/machineset/ownership.js';
import { indexMachines, isAvailable } from '../../../../functions/core/machineset/machine-health.js';
import { reconcileMachineDeployment, type MachineDeploymentReconcile } from '../../../../functions/core/machinedeployment/reconcile.js';
import { templateIdentity } from '../../../../functions/core/machinedeployment/template-hash.js';
import { revisionOf } from '../../../../functions/core/machinedeployment/revisions.js';
import type { NodeFact } from '../../../../functions/core/observed.js';
import type { Write } from '../../../../functions/core/plan.js';
import { cluster as makeCluster, iso, machineClass, T0 } from '../machineset/fixtures.js';

/** mulberry32: a tiny seeded generator, good enough to shuffle a simulated world. */
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

export interface WorldConfig {
  seed: number;
  machineDeployment: MachineDeployment;
  cluster?: Cluster;
  machineClasses?: MachineClass[];
  stepSeconds?: number;
  /** Seconds from creation to a (NotReady) node, and from there to Ready. */
  bootSeconds?: [number, number];
  readySeconds?: [number, number];
  /** Seconds a deletion takes (drain, terminate). */
  deleteSeconds?: [number, number];
  /** Probability that a machine fails at some point after its creation. */
  failureRate?: number;
  /** No machine fails after this many seconds of simulated time (so that every run can converge). */
  failuresUntilSeconds?: number;
  /** The stand-in MachineHealthCheck deletes a failed machine after this long. */
  remediateAfterSeconds?: number;
  /** OnDelete: probability per step that a user deletes one old machine. */
  userDeletesOldPerStep?: number;
}

interface Fate {
  nodeAt: number;
  readyAt: number;
  failAt?: number;
  goneAt?: number;
}

export class ConflictInWorld extends Error {
  override name = 'ConflictInWorld';
}

export interface StepObservation {
  /** Machines of the deployment before the plan, and after its writes were applied. */
  before: Counts;
  after: Counts;
  reconcile: MachineDeploymentReconcile;
  deadlockBroken: boolean;
}

export interface Counts {
  machines: number;
  available: number;
  /** Machines of sets whose template is the deployment's, and of the others. */
  newMachines: number;
  oldMachines: number;
}

export class World {
  now: Date = T0;
  md: MachineDeployment;
  cluster: Cluster;
  classes: MachineClass[];
  machineSets: MachineSet[] = [];
  machines: Machine[] = [];
  nodes = new Map<string, NodeFact>();
  readonly log: string[] = [];
  private fates = new Map<string, Fate>();
  private random: () => number;
  private counter = 0;
  private step = 0;
  private cfg: Required<Omit<WorldConfig, 'cluster' | 'machineClasses' | 'machineDeployment'>>;

  constructor(config: WorldConfig) {
    this.random = rng(config.seed);
    this.md = { ...config.machineDeployment, metadata: { ...config.machineDeployment.metadata, resourceVersion: '1' } };
    this.cluster = config.cluster ?? makeCluster();
    this.classes = config.machineClasses ?? [machineClass('small'), machineClass('large')];
    this.cfg = {
      seed: config.seed,
      stepSeconds: config.stepSeconds ?? 10,
      bootSeconds: config.bootSeconds ?? [10, 60],
      readySeconds: config.readySeconds ?? [0, 30],
      deleteSeconds: config.deleteSeconds ?? [5, 40],
      failureRate: config.failureRate ?? 0,
      failuresUntilSeconds: config.failuresUntilSeconds ?? Number.POSITIVE_INFINITY,
      remediateAfterSeconds: config.remediateAfterSeconds ?? 30,
      userDeletesOldPerStep: config.userDeletesOldPerStep ?? 0,
    };
  }

  private between([lo, hi]: [number, number]): number {
    return Math.round(lo + (hi - lo) * this.random());
  }

  private nextRv(): string {
    return String(++this.counter);
  }

  /** The deployment's template changes (or any spec change): generation goes up as the store does it. */
  updateDeployment(change: (md: MachineDeployment) => MachineDeployment): void {
    const next = change(this.md);
    const specChanged = canonicalJson(next.spec) !== canonicalJson(this.md.spec);
    this.md = {
      ...next,
      metadata: { ...next.metadata, resourceVersion: this.nextRv(), generation: (this.md.metadata.generation ?? 1) + (specChanged ? 1 : 0) },
    };
    this.log.push(`[t=${this.elapsed()}s] user: ${describeChange(this.md)}`);
  }

  elapsed(): number {
    return Math.round((this.now.getTime() - T0.getTime()) / 1000);
  }

  ownedSets(): MachineSet[] {
    return this.machineSets.filter((ms) => isControlledBy(ms, this.md));
  }

  /** Counts over the deployment's machines, with availability as the deployment defines it. */
  counts(): Counts {
    const index = indexMachines(this.machines, { instances: [], nodes: [...this.nodes.values()] }, this.now);
    const identity = templateIdentity(this.md.spec.template);
    const c: Counts = { machines: 0, available: 0, newMachines: 0, oldMachines: 0 };
    for (const ms of this.ownedSets()) {
      const isNew = templateIdentity(ms.spec.template) === identity;
      for (const m of index.controlledBy(ms.metadata.uid)) {
        c.machines++;
        if (isNew) c.newMachines++;
        else c.oldMachines++;
        if (isAvailable(index.health(m), this.md.spec.minReadySeconds, index.now)) c.available++;
      }
    }
    return c;
  }

  /** One reconcile: plan against the current world, apply the plan's writes, then let time pass. */
  reconcile(): StepObservation {
    this.step++;
    const before = this.counts();
    const reconcile = reconcileMachineDeployment({
      machineDeployment: this.md,
      machineSets: this.machineSets,
      machines: this.machines,
      cluster: this.cluster,
      machineClasses: this.classes,
      observed: { instances: [], nodes: [...this.nodes.values()] },
      now: this.now,
    });
    for (const w of reconcile.writes) this.apply(w);
    const after = this.counts();
    const deadlockBroken = reconcile.notes.some((n) => n.includes('deadlock breaker'));
    this.log.push(this.describe(reconcile));
    this.advance();
    return { before, after, reconcile, deadlockBroken };
  }

  private find(kind: string, name: string): ApiObject | undefined {
    if (kind === 'MachineDeployment') return this.md.metadata.name === name ? this.md : undefined;
    const list: ApiObject[] = kind === 'MachineSet' ? this.machineSets : this.machines;
    return list.find((o) => o.metadata.name === name);
  }

  private replace(obj: ApiObject): void {
    if (obj.kind === 'MachineDeployment') this.md = obj as MachineDeployment;
    else if (obj.kind === 'MachineSet') this.machineSets = this.machineSets.map((o) => (o.metadata.name === obj.metadata.name ? (obj as MachineSet) : o));
    else this.machines = this.machines.map((o) => (o.metadata.name === obj.metadata.name ? (obj as Machine) : o));
  }

  private remove(obj: ApiObject): void {
    if (obj.kind === 'MachineSet') this.machineSets = this.machineSets.filter((o) => o.metadata.name !== obj.metadata.name);
    else if (obj.kind === 'Machine') {
      this.machines = this.machines.filter((o) => o.metadata.name !== obj.metadata.name);
      const node = (obj as Machine).status?.nodeRef?.name;
      if (node) this.nodes.delete(node);
    }
  }

  private guard(current: ApiObject, written: ApiObject): void {
    const rv = written.metadata.resourceVersion;
    if (rv !== undefined && rv !== current.metadata.resourceVersion)
      throw new ConflictInWorld(`${written.kind} ${written.metadata.name}: resourceVersion ${rv}, current ${current.metadata.resourceVersion}`);
  }

  apply(w: Write): void {
    const nowIso = iso(this.now);
    switch (w.type) {
      case 'Create': {
        if (this.find(w.object.kind, w.object.metadata.name)) throw new ConflictInWorld(`${w.object.kind} ${w.object.metadata.name} already exists`);
        const uid = `${w.object.kind.toLowerCase()}-${++this.counter}`;
        const obj = {
          ...structuredClone(w.object),
          metadata: { ...structuredClone(w.object.metadata), uid, resourceVersion: this.nextRv(), generation: 1, creationTimestamp: nowIso },
        };
        if (obj.kind === 'MachineSet') this.machineSets.push(obj as MachineSet);
        else if (obj.kind === 'Machine') {
          const m = obj as Machine;
          this.machines.push({ ...m, status: { phase: 'Provisioning' } });
          const t = this.now.getTime();
          const nodeAt = t + this.between(this.cfg.bootSeconds) * 1000;
          const readyAt = nodeAt + this.between(this.cfg.readySeconds) * 1000;
          const fails = this.random() < this.cfg.failureRate;
          const failAt = fails ? t + this.between([5, 120]) * 1000 : undefined;
          this.fates.set(uid, {
            nodeAt,
            readyAt,
            ...(failAt !== undefined && failAt <= T0.getTime() + this.cfg.failuresUntilSeconds * 1000 ? { failAt } : {}),
          });
        } else throw new Error(`unexpected Create of ${obj.kind}`);
        return;
      }
      case 'Update': {
        const cur = this.find(w.object.kind, w.object.metadata.name);
        if (!cur) throw new ConflictInWorld(`Update of missing ${w.object.kind} ${w.object.metadata.name}`);
        this.guard(cur, w.object);
        const specChanged = canonicalJson(w.object.spec) !== canonicalJson(cur.spec);
        this.replace({
          ...structuredClone(w.object),
          status: cur.status,
          metadata: {
            ...structuredClone(w.object.metadata),
            uid: cur.metadata.uid,
            creationTimestamp: cur.metadata.creationTimestamp,
            ...(cur.metadata.deletionTimestamp ? { deletionTimestamp: cur.metadata.deletionTimestamp } : {}),
            resourceVersion: this.nextRv(),
            generation: (cur.metadata.generation ?? 1) + (specChanged ? 1 : 0),
          },
        } as ApiObject);
        return;
      }
      case 'UpdateStatus': {
        const cur = this.find(w.object.kind, w.object.metadata.name);
        if (!cur) throw new ConflictInWorld(`UpdateStatus of missing ${w.object.kind} ${w.object.metadata.name}`);
        this.guard(cur, w.object);
        this.replace({ ...cur, status: structuredClone(w.object.status), metadata: { ...cur.metadata, resourceVersion: this.nextRv() } } as ApiObject);
        return;
      }
      case 'Delete': {
        const cur = this.find(w.ref.kind, w.ref.name);
        if (!cur || cur.metadata.deletionTimestamp) return;
        if (!cur.metadata.finalizers?.length) {
          this.remove(cur);
          return;
        }
        this.replace({ ...cur, metadata: { ...cur.metadata, deletionTimestamp: nowIso, resourceVersion: this.nextRv() } } as ApiObject);
        if (cur.kind === 'Machine') this.fates.get(cur.metadata.uid!)!.goneAt = this.now.getTime() + this.between(this.cfg.deleteSeconds) * 1000;
        return;
      }
      case 'RemoveFinalizer': {
        const cur = this.find(w.ref.kind, w.ref.name);
        if (!cur) return;
        const finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== w.finalizer);
        if (cur.metadata.deletionTimestamp && finalizers.length === 0) {
          this.remove(cur);
          return;
        }
        this.replace({ ...cur, metadata: { ...cur.metadata, finalizers, resourceVersion: this.nextRv() } } as ApiObject);
        return;
      }
    }
  }

  /** Time passes: nodes come up and become Ready, deletions finish, machines fail and are remediated. */
  private advance(): void {
    this.now = new Date(this.now.getTime() + this.cfg.stepSeconds * 1000);
    const t = this.now.getTime();
    for (const m of [...this.machines]) {
      const fate = this.fates.get(m.metadata.uid!)!;
      if (m.metadata.deletionTimestamp) {
        if (fate.goneAt !== undefined && t >= fate.goneAt) this.remove(m);
        continue;
      }
      const nodeName = `${m.metadata.name}-node`;
      if (fate.failAt !== undefined && t >= fate.failAt) {
        if (m.status?.phase !== 'Failed') {
          this.replace({ ...m, status: { ...m.status, phase: 'Failed', failureReason: 'InstanceTerminated' } });
          if (this.nodes.has(nodeName)) this.nodes.set(nodeName, readyCondition(nodeName, 'Unknown', fate.failAt));
        }
        if (t >= fate.failAt + this.cfg.remediateAfterSeconds * 1000) {
          this.apply({ type: 'Delete', ref: { kind: 'Machine', namespace: 'default', name: m.metadata.name }, reason: 'remediation' });
          this.log.push(`[t=${this.elapsed()}s] health check: remediating failed machine ${m.metadata.name}`);
        }
        continue;
      }
      if (t >= fate.nodeAt && !this.nodes.has(nodeName)) {
        this.nodes.set(nodeName, readyCondition(nodeName, 'False', fate.nodeAt));
        this.replace({
          ...m,
          spec: { ...m.spec, providerID: `sim:///${m.metadata.name}` },
          status: { ...m.status, phase: 'Provisioned', nodeRef: { name: nodeName } },
        });
      }
      if (t >= fate.readyAt && this.nodes.get(nodeName)?.conditions[0]?.status === 'False') {
        this.nodes.set(nodeName, readyCondition(nodeName, 'True', fate.readyAt));
        const cur = this.machines.find((x) => x.metadata.name === m.metadata.name)!;
        this.replace({ ...cur, status: { ...cur.status, phase: 'Running' } });
      }
    }
    if (this.cfg.userDeletesOldPerStep > 0 && this.random() < this.cfg.userDeletesOldPerStep) {
      const identity = templateIdentity(this.md.spec.template);
      const oldSets = this.ownedSets().filter((ms) => templateIdentity(ms.spec.template) !== identity);
      const candidates = this.machines.filter((m) => !m.metadata.deletionTimestamp && oldSets.some((ms) => isControlledBy(m, ms)));
      const victim = candidates[Math.floor(this.random() * candidates.length)];
      if (victim) {
        this.apply({ type: 'Delete', ref: { kind: 'Machine', namespace: 'default', name: victim.metadata.name }, reason: 'user' });
        this.log.push(`[t=${this.elapsed()}s] user: kubectl delete machine ${victim.metadata.name}`);
      }
    }
  }

  /** Converged: replicas machines, all of the current template and available, nothing else, status Running. */
  converged(): boolean {
    const c = this.counts();
    const deleting = this.machines.some((m) => m.metadata.deletionTimestamp);
    return (
      !deleting &&
      c.oldMachines === 0 &&
      c.newMachines === this.md.spec.replicas &&
      c.available === this.md.spec.replicas &&
      this.md.status?.phase === 'Running' &&
      this.md.status?.observedGeneration === this.md.metadata.generation &&
      this.md.status?.updatedReplicas === this.md.spec.replicas &&
      this.md.status?.availableReplicas === this.md.spec.replicas
    );
  }

  /** Reconciles until converged (and one more reconcile to write the final status); false if it never does. */
  runUntilConverged(maxSteps: number, onStep?: (o: StepObservation) => void): boolean {
    for (let i = 0; i < maxSteps; i++) {
      const o = this.reconcile();
      onStep?.(o);
      if (this.converged() && o.reconcile.writes.length === 0) return true;
    }
    return false;
  }

  private describe(r: MachineDeploymentReconcile): string {
    const identity = templateIdentity(this.md.spec.template);
    const sets = this.ownedSets()
      .sort((a, b) => revisionOf(b) - revisionOf(a) || (a.metadata.name < b.metadata.name ? -1 : 1))
      .map((ms) => {
        const machines = this.machines.filter((m) => isControlledBy(m, ms));
        const deleting = machines.filter((m) => m.metadata.deletionTimestamp).length;
        const role = templateIdentity(ms.spec.template) === identity ? 'new' : 'old';
        return `${ms.metadata.name} rev ${revisionOf(ms)} ${role} ${ms.spec.template.spec.version}: spec ${ms.spec.replicas}, ${machines.length} machines${deleting ? ` (${deleting} deleting)` : ''}`;
      });
    const c = this.counts();
    const lines = [`[t=${this.elapsed()}s] reconcile ${this.step}: ${c.machines} machines, ${c.available} available | ${sets.join(' | ') || 'no MachineSets'}`];
    for (const n of r.notes) lines.push(`    ${n}`);
    const md = this.md.status;
    if (md)
      lines.push(
        `    status: phase ${md.phase}, replicas ${md.replicas}, updated ${md.updatedReplicas}, available ${md.availableReplicas}, revision ${this.md.metadata.annotations?.[Annotations.revision] ?? '-'}`,
      );
    return lines.join('\n');
  }
}

function readyCondition(name: string, status: 'True' | 'False' | 'Unknown', since: number): NodeFact {
  return { name, conditions: [{ type: 'Ready', status, lastTransitionTime: iso(new Date(since)) }] };
}

function describeChange(md: MachineDeployment): string {
  return `MachineDeployment ${md.metadata.name}: replicas ${md.spec.replicas}, version ${md.spec.template.spec.version}, class ${md.spec.template.spec.machineClassRef.name}, strategy ${md.spec.strategy.type}${md.spec.paused ? ', paused' : ''}`;
}
