/**
 * The soak's eyes: a shadow of every object, built from the writes as they land (FaultStore's onWrite), and
 * the invariants that must hold at every step, not only at the end:
 * - a rollout never takes a MachineDeployment's available machines below replicas - maxUnavailable, but for
 *   Cluster API's documented deadlock breaker (checked on every Machine deletion a reconcile makes);
 * - a remediation never runs past its health check's short-circuit (maxUnhealthy / unhealthyRange), counted
 *   from facts the soak knows independently of the planner: machines already deleting and machines whose
 *   instance the soak killed or whose node it made NotReady before the remediating task began;
 * - a Machine never has two live instances (checked after every launch).
 * A machine deleted on a spot interruption notice (InterruptionNotice) is neither a rollout's nor a
 * remediation's deletion: its replacement is made outside maxSurge and maxUnavailable, as Cluster API's
 * remediations are, and EC2 takes its instance whatever the rollout would allow.
 *
 * Both of the first two are judged only from what was true when the writing task began, so that a fault
 * injected while a reconcile runs (a kill between its read and its write) is never blamed on the planner.
 */
import { scaledValue, selectorMatches } from '../functions/api/common.js';
import type { ApiObject } from '../functions/api/kind.js';
import type { ControlPlane } from '../functions/api/control-plane.js';
import type { MachineDeployment } from '../functions/api/machine-deployment.js';
import type { MachineHealthCheck } from '../functions/api/machine-health-check.js';
import type { Machine } from '../functions/api/machine.js';
import type { WriteContext } from './context.js';
import type { WriteEvent } from './fault-store.js';

export interface Violation {
  invariant: string;
  message: string;
  detail?: Record<string, unknown>;
}

const keyOf = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;
const objKey = (o: ApiObject) => keyOf(o.kind, o.metadata.namespace || 'default', o.metadata.name);

export const isDeleting = (o: ApiObject) => o.metadata.deletionTimestamp !== undefined;
export const isReadyMachine = (m: Machine) => !isDeleting(m) && (m.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** An int-or-percent of `total`, rounded as Cluster API rounds it (maxUnavailable and maxUnhealthy: down). */
export function resolveIntOrPercent(value: number | string | undefined, total: number, fallback: number): number {
  return value === undefined ? fallback : scaledValue(value, total, false);
}

interface SpecPoint {
  at: number;
  replicas: number;
  minAvailable: number;
  rolling: boolean;
}

/** Facts about one machine the watch keeps beyond its last write. */
interface MachineFacts {
  firstSeenAt: number;
  deletionSeenAt?: number;
  removedAt?: number;
  last: Machine;
}

export class FleetWatch {
  readonly objects = new Map<string, ApiObject>();
  readonly violations: Violation[] = [];
  private readonly machines = new Map<string, MachineFacts>();
  private readonly specHistory = new Map<string, SpecPoint[]>();
  /** Machine uid -> when the soak killed its instance. */
  private readonly killedAt = new Map<string, number>();
  /** Machine uid -> when the soak made its node NotReady (and when it cleared that). */
  private readonly notReadyAt = new Map<string, { setAt: number; clearedAt?: number }>();
  counts = { writes: 0, machineDeletions: 0, rolloutDeletionsChecked: 0, remediationsChecked: 0, interruptionDeletions: 0 };

  /**
   * @param nodeReady whether the machine's node is Ready in the (simulated) world right now: availability is
   *   judged in the world, as the planner observes it, not from Machine status (which a lost status write can
   *   leave behind the world for a while)
   */
  constructor(
    private readonly onViolation: (v: Violation) => void = () => {},
    private readonly nodeReady: (m: Machine) => boolean = isReadyMachine,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Available as the planner could have seen it: Ready in the world now, or hit by a fault of the soak only
   * after the task began (the planner may have read it Ready just before; its record may not say so yet,
   * since a status write can lag the world or lose a race).
   */
  private available(m: Machine, since: number): boolean {
    if (isDeleting(m)) return false;
    if (this.nodeReady(m)) return true;
    const uid = m.metadata.uid ?? '';
    const hitAt = Math.min(this.killedAt.get(uid) ?? Infinity, this.notReadyAt.get(uid)?.setAt ?? Infinity);
    return hitAt >= since && hitAt !== Infinity;
  }

  private violate(v: Violation): void {
    this.violations.push(v);
    this.onViolation(v);
  }

  get<T extends ApiObject>(kind: string, namespace: string, name: string): T | undefined {
    return this.objects.get(keyOf(kind, namespace, name)) as T | undefined;
  }

  /** Every object of a kind the watch has seen and that is still in the store. */
  all<T extends ApiObject>(kind: string): T[] {
    return [...this.objects.values()].filter((o) => o.kind === kind) as T[];
  }

  noteKill(machineUid: string): void {
    if (!this.killedAt.has(machineUid)) this.killedAt.set(machineUid, this.now());
  }

  noteNodeNotReady(machineUid: string): void {
    this.notReadyAt.set(machineUid, { setAt: this.now() });
  }

  /** The soak made one machine's node Ready again. */
  noteNodeReady(machineUid: string): void {
    const v = this.notReadyAt.get(machineUid);
    if (v) v.clearedAt ??= this.now();
  }

  noteNodeConditionsCleared(): void {
    const now = this.now();
    for (const v of this.notReadyAt.values()) v.clearedAt ??= now;
  }

  /** FaultStore's onWrite. */
  seen(event: WriteEvent): void {
    this.counts.writes++;
    const obj = event.object;
    const key = objKey(obj);
    const prev = this.objects.get(key);
    const now = this.now();
    // An update that takes the last finalizer off a deleting object removes it, as Kubernetes does.
    const removed = event.removed === true || (isDeleting(obj) && !(obj.metadata.finalizers ?? []).length);
    if (removed) this.objects.delete(key);
    else this.objects.set(key, obj);
    if (obj.kind === 'MachineDeployment' && !removed) this.recordSpec(obj as MachineDeployment, now);
    if (obj.kind !== 'Machine') return;
    const m = obj as Machine;
    const uidKey = m.metadata.uid ?? key;
    const facts = this.machines.get(uidKey) ?? { firstSeenAt: now, last: m };
    this.machines.set(uidKey, facts);
    facts.last = m;
    if (removed) facts.removedAt = now;
    const deletionStarted = isDeleting(m) && !(prev && isDeleting(prev));
    if (!deletionStarted) return;
    facts.deletionSeenAt = now;
    this.counts.machineDeletions++;
    if (event.context?.actor !== 'task') return; // a user's deletion is the user's call
    const before = (prev as Machine | undefined) ?? m;
    if (this.isInterruptionDeletion(before) || this.isInterruptionDeletion(m)) {
      this.counts.interruptionDeletions++;
      return;
    }
    if (this.isRemediation(before, event.context)) this.checkRemediation(before, event.context, now);
    else this.checkRollout(before, event.context, now);
  }

  /** Warned, or recommended in a pool that replaces on a recommendation (MachineDeployment spec.spot.rebalance). */
  private isInterruptionDeletion(m: Machine): boolean {
    const notice = (m.status?.conditions ?? []).find((c) => c.type === 'InterruptionNotice' && c.status === 'True');
    if (notice?.reason === 'SpotInterruptionWarning') return true;
    if (notice?.reason !== 'RebalanceRecommendation') return false;
    const mdName = m.metadata.labels?.['clusterless.dev/deployment-name'];
    const md = mdName ? this.get<MachineDeployment>('MachineDeployment', m.metadata.namespace, mdName) : undefined;
    return md?.spec.spot?.rebalance === 'Replace';
  }

  private recordSpec(md: MachineDeployment, at: number): void {
    const k = objKey(md);
    const replicas = md.spec.replicas;
    const rolling = (md.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const maxUnavailable = resolveIntOrPercent(md.spec.strategy?.rollingUpdate?.maxUnavailable, replicas, 0);
    const point = { at, replicas, minAvailable: Math.max(0, replicas - maxUnavailable), rolling };
    const history = this.specHistory.get(k) ?? [];
    const last = history.at(-1);
    if (!last || last.replicas !== point.replicas || last.minAvailable !== point.minAvailable || last.rolling !== point.rolling) history.push(point);
    this.specHistory.set(k, history.slice(-50));
  }

  /**
   * A remediation deletion: a worker deleted by the remediate step itself (not by the reconcile it runs
   * first: that one scales sets like any other), or a control-plane machine its ControlPlane recorded as the
   * one it remediates (status.lastRemediation, the intent written before the deletion).
   */
  private isRemediation(m: Machine, ctx: WriteContext): boolean {
    const cpName = m.metadata.labels?.['clusterless.dev/control-plane-name'];
    if (m.metadata.labels?.['clusterless.dev/control-plane'] !== undefined && cpName) {
      const cp = this.get<ControlPlane>('ControlPlane', m.metadata.namespace, cpName);
      return cp?.status?.lastRemediation?.machine === m.metadata.name;
    }
    if (ctx.task !== 'remediate') return false;
    // Note: the remediate step's own deletion is a direct store call; the deletions of the reconcile it runs
    // first go through applyWrites. The stack tells them apart without the control plane's help.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 50;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    return stack.includes('remediateStep') && !stack.includes('applyWrites');
  }

  /** One machine as a violation reports it: what the world and the record say, and when the soak hit it. */
  private describe(m: Machine, since: number): string {
    const uid = m.metadata.uid ?? '';
    const facts = this.machines.get(uid);
    const rel = (t: number | undefined) => (t === undefined ? '' : `${t - since >= 0 ? '+' : ''}${t - since}ms`);
    const parts = [
      `${m.metadata.name}@${m.spec.version}`,
      m.status?.phase ?? 'no-phase',
      this.available(m, since) ? 'available' : 'unavailable',
      this.nodeReady(m) ? 'node-ready' : 'node-not-ready',
      isReadyMachine(m) ? 'ready-on-record' : '',
      isDeleting(m) ? `deleting${rel(facts?.deletionSeenAt)}` : '',
      facts ? `seen${rel(facts.firstSeenAt)}` : '',
      this.killedAt.has(uid) ? `killed${rel(this.killedAt.get(uid))}` : '',
      this.notReadyAt.has(uid) ? `made-not-ready${rel(this.notReadyAt.get(uid)!.setAt)}` : '',
      m.metadata.annotations?.['clusterless.dev/delete-machine'] !== undefined ? 'delete-annotation' : '',
    ];
    return parts.filter(Boolean).join(' ');
  }

  private existedAt(f: MachineFacts, at: number): boolean {
    return f.firstSeenAt <= at && (f.removedAt === undefined || f.removedAt > at);
  }

  private checkRemediation(m: Machine, ctx: WriteContext, now: number): void {
    this.counts.remediationsChecked++;
    const started = ctx.startedAt;
    for (const mhc of this.all<MachineHealthCheck>('MachineHealthCheck')) {
      if (mhc.metadata.namespace !== m.metadata.namespace || mhc.spec.clusterName !== m.spec.clusterName) continue;
      if (!selectorMatches(mhc.spec.selector, m.metadata.labels)) continue;
      // Targets: every machine of the selector not gone before the task began (the planner's read came later).
      const targets = [...this.machines.values()].filter(
        (f) =>
          f.last.metadata.namespace === m.metadata.namespace &&
          f.last.spec.clusterName === m.spec.clusterName &&
          selectorMatches(mhc.spec.selector, f.last.metadata.labels) &&
          (f.removedAt === undefined || f.removedAt > started) &&
          f.firstSeenAt <= now,
      );
      const uid = (f: MachineFacts) => f.last.metadata.uid ?? '';
      // Not healthy for sure when the task began, and still there now (a machine removed meanwhile may have
      // been gone already when the planner read, and then counted neither as a target nor as unhealthy):
      // already deleting, killed, or its node made NotReady.
      const unhealthy = new Set<string>([m.metadata.uid ?? m.metadata.name]);
      for (const f of targets) {
        if (!this.existedAt(f, started) || f.removedAt !== undefined) continue;
        if (f.deletionSeenAt !== undefined && f.deletionSeenAt < started) unhealthy.add(uid(f));
        const killed = this.killedAt.get(uid(f));
        if (killed !== undefined && killed < started) unhealthy.add(uid(f));
        const nr = this.notReadyAt.get(uid(f));
        if (nr && nr.setAt < started && (nr.clearedAt === undefined || nr.clearedAt > now)) unhealthy.add(uid(f));
      }
      // Every target the planner may have seen, so that a percentage is never taken of too few.
      const expected = targets.length;
      const range = mhc.spec.unhealthyRange ? /^\[(\d+)-(\d+)\]$/.exec(mhc.spec.unhealthyRange) : null;
      const max = range ? Number(range[2]) : resolveIntOrPercent(mhc.spec.maxUnhealthy, expected, expected);
      if (unhealthy.size > max)
        this.violate({
          invariant: 'remediation-short-circuit',
          message: `${m.metadata.namespace}/${m.metadata.name} remediated while at least ${unhealthy.size} of ${expected} targets of MachineHealthCheck ${mhc.metadata.name} were unhealthy (allowed ${max})`,
          detail: { machine: m.metadata.name, healthCheck: mhc.metadata.name, unhealthy: unhealthy.size, expected, max, task: ctx.task, step: ctx.step },
        });
    }
  }

  private checkRollout(m: Machine, ctx: WriteContext, now: number): void {
    const mdName = m.metadata.labels?.['clusterless.dev/deployment-name'];
    if (!mdName || !this.available(m, ctx.startedAt)) return;
    const ns = m.metadata.namespace;
    const md = this.get<MachineDeployment>('MachineDeployment', ns, mdName);
    const cluster = this.get('Cluster', ns, m.spec.clusterName);
    if (!md || isDeleting(md) || !cluster || isDeleting(cluster)) return;
    const history = this.specHistory.get(objKey(md)) ?? [];
    // The spec the planner may have read: any in force between the task's start and now.
    const window = history.filter((p, i) => p.at <= now && (history[i + 1] === undefined || history[i + 1]!.at >= ctx.startedAt));
    if (window.length === 0 || window.some((p) => !p.rolling)) return;
    this.counts.rolloutDeletionsChecked++;
    const minAvailable = Math.min(...window.map((p) => p.minAvailable));
    const mine = this.all<Machine>('Machine').filter((x) => x.metadata.namespace === ns && x.metadata.labels?.['clusterless.dev/deployment-name'] === mdName);
    const ready = (x: Machine) => this.available(x, ctx.startedAt);
    const available = mine.filter(ready).length;
    if (available >= minAvailable) return;
    // Cluster API's deadlock breaker: the new machines all available, an old one not, nothing else moving.
    const version = md.spec.template.spec.version;
    const live = mine.filter((x) => !isDeleting(x) || x.metadata.uid === m.metadata.uid);
    const fresh = live.filter((x) => x.spec.version === version);
    const old = live.filter((x) => x.spec.version !== version);
    const breaker = m.spec.version !== version && fresh.every((x) => x.metadata.uid === m.metadata.uid || ready(x)) && old.some((x) => !ready(x));
    if (breaker) return;
    this.violate({
      invariant: 'rollout-max-unavailable',
      message: `deleting ${ns}/${m.metadata.name} left MachineDeployment ${mdName} with ${available} available machines, below ${minAvailable} (replicas - maxUnavailable)`,
      detail: {
        machine: m.metadata.name,
        deployment: mdName,
        available,
        minAvailable,
        task: ctx.task,
        step: ctx.step,
        machines: mine.map((x) => this.describe(x, ctx.startedAt)),
        window,
      },
    });
  }
}
