/**
 * The MachineDeployment planner: one reconcile of a deployment, as data.
 *
 * Learnt from cluster-api core/reconcilers/machinedeployment/ (machinedeployment_controller.go reconcile:
 * paused -> sync, else the strategy; machinedeployment_rollout_planner.go: new and old sets, desired
 * MachineSets with the annotations derived from the deployment, revision numbers; the strategies in
 * rolling-update.ts; status in status.ts) and from Kubernetes' Deployment controller for what Cluster API
 * lacks (Recreate, revisionHistoryLimit, proportional scaling while paused).
 *
 * The plan creates, scales and annotates MachineSets and writes the deployment's revision and status. The
 * machines themselves are the MachineSet planners' business: reconcile.ts runs them on the sets as this
 * plan leaves them, in the same reconcile.
 */
import { API_VERSION, Annotations, Finalizers, Labels, selectorMatches, type LabelSelector } from '../../api/common.js';
import type { Cluster } from '../../api/cluster.js';
import type { ControlPlane } from '../../api/control-plane.js';
import { canonicalJson } from '../../api/kind.js';
import type { Machine } from '../../api/machine.js';
import type { MachineClass } from '../../api/machine-class.js';
import type { MachineDeployment, MachineDeploymentStatus } from '../../api/machine-deployment.js';
import type { MachineSet } from '../../api/machine-set.js';
import type { MachineTemplate } from '../../api/template.js';
import { setConditions } from '../conditions.js';
import { withTeardownTimeouts } from '../machine/deletion.js';
import { failureDomainPlacement } from '../machineset/failure-domains.js';
import { availableAt, indexMachines, notLeaving, type MachineIndex } from '../machineset/machine-health.js';
import { adopted, controllerOf, controllerReference, isControlledBy } from '../machineset/ownership.js';
import { listNames, pausedBy, pausedCondition } from '../machineset/paused.js';
import { compileSelector } from '../machineset/selector.js';
import { countReplicas, type ReplicaCounts } from '../machineset/status.js';
import { epochMillis } from '../machineset/time.js';
import type { Observed } from '../observed.js';
import { emptyPlan, refOf, type Plan } from '../plan.js';
import { machineSetsBeyondHistoryLimit } from './history.js';
import { scaleProportionally } from './proportional-scaling.js';
import { oldMachinesLeft, scaleDownOldForRecreate, scaleUpNewForRecreate } from './recreate.js';
import { newRevisionAnnotations, revisionOf } from './revisions.js';
import { newRolloutState, planOnDelete, planRollingUpdate } from './rolling-update.js';
import { deploymentComplete, maxSurge, maxUnavailable, type MachineSetReplicas } from './rollout-math.js';
import { machineSetName, machineSetTemplate, templateDifferences, templateHash, templateIdentity } from './template-hash.js';
import { machineDeploymentStatus } from './status.js';
import { chainWrites } from './writes.js';

export interface MachineDeploymentPlanInput {
  machineDeployment: MachineDeployment;
  /** MachineSets of the cluster, whoever owns them: the planner finds its own and adopts matching orphans. */
  machineSets: readonly MachineSet[];
  /** Machines of the cluster. */
  machines: readonly Machine[];
  cluster: Cluster;
  /** The MachineClasses of the namespace; a template whose class is missing cannot get new machines. */
  machineClasses: readonly MachineClass[];
  /** The cluster's ControlPlane: its sets' preflight checks read it (machineset/preflight.ts). */
  controlPlane?: ControlPlane | undefined;
  observed: Observed;
  now: Date;
  /** The machines indexed once per reconcile (indexMachines); built from machines, observed and now if absent. */
  index?: MachineIndex;
}

export interface MachineDeploymentPlan extends Plan {
  /**
   * The MachineSets of the deployment as this plan leaves them: created (no uid yet), scaled, annotated.
   * Sets this plan deletes are left out. The MachineSet planners of the same reconcile run on these.
   */
  machineSets: MachineSet[];
  /** The status as this plan leaves it (written only when it changed). */
  status: MachineDeploymentStatus | undefined;
}

/** A MachineSet of the deployment during planning. */
interface SetRecord {
  ms: MachineSet;
  /** This plan creates it. */
  created: boolean;
  /** This plan adopts it (it matched the selector and had no controller). */
  adopted: boolean;
  deleting: boolean;
  machines: readonly Machine[];
  counts: ReplicaCounts;
  view: MachineSetReplicas;
}

// Deployment annotations that are not copied to its MachineSets (mdutil annotationsToSkip, plus paused:
// a paused deployment must not leave paused MachineSets behind).
const NOT_COPIED = new Set<string>([
  Annotations.revision,
  Annotations.revisionHistory,
  Annotations.desiredReplicas,
  Annotations.maxReplicas,
  Annotations.paused,
  'kubectl.kubernetes.io/last-applied-configuration',
]);

function intAnnotation(ms: MachineSet, key: string): number | undefined {
  const raw = ms.metadata.annotations?.[key];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/**
 * The rollout math's view of a set. `availableRemovedAt` walks the set's deletion order (the one its
 * MachineSet planner will use: the deployment's deletePolicy, the same machine facts) lazily, only when
 * the rollout actually scales this set down.
 */
function viewOf(
  ms: MachineSet,
  machines: readonly Machine[],
  counts: ReplicaCounts,
  md: MachineDeployment,
  index: MachineIndex,
  opts: { created: boolean; deleting: boolean },
): MachineSetReplicas {
  // The available machines among the first i of the deletion order, worked out as far as asked: a scale-down by k
  // reads the order's first k only (index.deletionOrderPrefix).
  const prefix = [0];
  const availableRemovedAt = (replicas: number): number => {
    const k = Math.min(Math.max(machines.length - replicas, 0), machines.length);
    if (k === 0 || opts.deleting) return 0;
    if (k >= prefix.length) {
      const order = index.deletionOrderPrefix(machines, md.spec.deletePolicy, k);
      for (let i = prefix.length - 1; i < k; i++) prefix.push(prefix[i]! + (availableAt(index, order[i]!, md.spec.minReadySeconds) ? 1 : 0));
    }
    return prefix[k]!;
  };
  const maxReplicas = intAnnotation(ms, Annotations.maxReplicas);
  const desiredReplicas = intAnnotation(ms, Annotations.desiredReplicas);
  return {
    name: ms.metadata.name,
    createdAt: opts.created ? index.now : epochMillis(ms.metadata.creationTimestamp, index.now),
    replicas: opts.created || opts.deleting ? 0 : ms.spec.replicas,
    actual: machines.length,
    // Note: a deleting set's machines are about to go; the rollout does not count on them.
    available: opts.deleting ? 0 : counts.availableReplicas,
    availableRemovedAt,
    ...(maxReplicas !== undefined ? { maxReplicasAnnotation: maxReplicas } : {}),
    ...(desiredReplicas !== undefined ? { desiredReplicasAnnotation: desiredReplicas } : {}),
  };
}

function defaultSelector(md: MachineDeployment): LabelSelector {
  return md.spec.selector ?? { matchLabels: { [Labels.clusterName]: md.spec.clusterName, [Labels.deploymentName]: md.metadata.name } };
}

function annotationsFromDeployment(md: MachineDeployment, surge: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.metadata.annotations ?? {})) if (!NOT_COPIED.has(k)) out[k] = v;
  out[Annotations.desiredReplicas] = String(md.spec.replicas);
  out[Annotations.maxReplicas] = String(md.spec.replicas + surge);
  return out;
}

function templateMetadataWithAnnotations<T extends { annotations?: Record<string, string> | undefined }>(
  meta: T,
  annotations: Record<string, string> | undefined,
): T {
  const { annotations: _old, ...rest } = meta;
  return (annotations && Object.keys(annotations).length > 0 ? { ...rest, annotations: { ...annotations } } : rest) as T;
}

/** The MachineSet the deployment creates for its current template. */
function newMachineSetObject(md: MachineDeployment, hash: string, name: string, selector: LabelSelector, surge: number): MachineSet {
  const template = machineSetTemplate(md, hash);
  return {
    apiVersion: API_VERSION,
    kind: 'MachineSet',
    metadata: {
      name,
      namespace: md.metadata.namespace,
      labels: { ...template.metadata.labels, [Labels.deploymentName]: md.metadata.name },
      annotations: annotationsFromDeployment(md, surge),
      ownerReferences: [controllerReference(md)],
      finalizers: [Finalizers.machineSet],
    },
    spec: {
      clusterName: md.spec.clusterName,
      replicas: 0,
      selector: { ...selector, matchLabels: { ...selector.matchLabels, [Labels.templateHash]: hash } },
      template,
      minReadySeconds: md.spec.minReadySeconds,
      deletePolicy: md.spec.deletePolicy,
    },
  };
}

/**
 * The template of an existing MachineSet with the deployment's in-place fields: its template labels (the set's
 * own template-hash label kept), annotations and teardown timeouts; what its machines are stays. Cluster API
 * does the same for the new and the old sets alike (internal/controllers/machinedeployment/
 * machinedeployment_rollout_planner.go computeDesiredMS). The labels stay as they are when the set's own
 * selector would no longer select them (an adopted orphan that selects on a label the deployment lacks).
 */
function inPlaceTemplate(ms: MachineSet, md: MachineDeployment): MachineTemplate {
  const current = ms.spec.template;
  const want = md.spec.template.metadata;
  const hash = current.metadata.labels?.[Labels.templateHash];
  const labels = { ...want.labels, ...(hash !== undefined ? { [Labels.templateHash]: hash } : {}) };
  const keep = !compileSelector(ms.spec.selector)(labels);
  const { labels: _labels, ...rest } = current.metadata;
  const withLabels = keep ? current.metadata : Object.keys(labels).length > 0 || current.metadata.labels ? { ...rest, labels } : rest;
  return {
    metadata: templateMetadataWithAnnotations(withLabels, want.annotations),
    spec: withTeardownTimeouts(current.spec, md.spec.template.spec),
  };
}

/**
 * A MachineSet as the deployment wants it now: its replicas, the annotations derived from the deployment,
 * the fields propagated in place (the template's labels, annotations and teardown timeouts, minReadySeconds,
 * deletePolicy), the deployment name label and, for an orphan, the controller reference. The set's own labels
 * follow its template's: a key the old template had and the new one lacks goes.
 */
function desiredMachineSet(rec: SetRecord, md: MachineDeployment, replicas: number, surge: number, extraAnnotations: Record<string, string>): MachineSet {
  const ms = rec.ms;
  const base = rec.adopted ? adopted(ms, md) : ms;
  const template = inPlaceTemplate(ms, md);
  const labels: Record<string, string> = { ...base.metadata.labels };
  for (const k of Object.keys(ms.spec.template.metadata.labels ?? {})) delete labels[k];
  Object.assign(labels, template.metadata.labels, { [Labels.deploymentName]: md.metadata.name });
  return {
    ...base,
    metadata: {
      ...base.metadata,
      labels,
      annotations: { ...base.metadata.annotations, ...annotationsFromDeployment(md, surge), ...extraAnnotations },
    },
    spec: {
      ...ms.spec,
      replicas,
      minReadySeconds: md.spec.minReadySeconds,
      deletePolicy: md.spec.deletePolicy,
      template,
    },
  };
}

function specAndMetadata(o: MachineSet | MachineDeployment): string {
  return canonicalJson({ metadata: o.metadata, spec: o.spec });
}

export function planMachineDeployment(input: MachineDeploymentPlanInput): MachineDeploymentPlan {
  const { machineDeployment: md, cluster, now } = input;
  const index = input.index ?? indexMachines(input.machines, input.observed, now);
  const plan = emptyPlan();
  const who = `MachineDeployment ${md.metadata.name}`;
  const selector = defaultSelector(md);
  const owned = input.machineSets.filter((ms) => isControlledBy(ms, md));

  const paused = pausedBy(cluster, md);
  if (paused.length > 0) {
    const conditions = setConditions(md.status?.conditions, [pausedCondition(paused)], now, md.metadata.generation);
    const status = { ...md.status, conditions };
    if (conditions !== md.status?.conditions) plan.writes.push({ type: 'UpdateStatus', object: { ...md, status } });
    plan.notes.push(`${who}: reconciliation paused (${paused.join(', ')})`);
    return { ...plan, machineSets: owned, status };
  }
  if (!md.metadata.uid) {
    plan.notes.push(`${who}: not stored yet (no uid), nothing to plan`);
    return { ...plan, machineSets: [], status: md.status };
  }

  // Orphan sets that match the selector are adopted, as getAndAdoptMachineSetsForDeployment does.
  const orphans = input.machineSets.filter(
    (ms) =>
      !controllerOf(ms) &&
      ms.metadata.deletionTimestamp === undefined &&
      ms.metadata.namespace === md.metadata.namespace &&
      ms.spec.clusterName === md.spec.clusterName &&
      selectorMatches(selector, ms.metadata.labels),
  );
  const surge = maxSurge(md);
  const unavailable = maxUnavailable(md);
  const record = (ms: MachineSet, isAdopted: boolean): SetRecord => {
    // Machines leaving on an interruption notice are replaced by their set outside the rollout's arithmetic.
    const machines = notLeaving(index.controlledBy(ms.metadata.uid), index);
    const counts = countReplicas(machines, index, md.spec.minReadySeconds);
    const deleting = ms.metadata.deletionTimestamp !== undefined;
    return { ms, created: false, adopted: isAdopted, deleting, machines, counts, view: viewOf(ms, machines, counts, md, index, { created: false, deleting }) };
  };
  // Note: a deployment being deleted adopts nothing (Kubernetes' ClaimObject neither).
  if (md.metadata.deletionTimestamp)
    return planDeletion(
      md,
      owned.map((ms) => record(ms, false)),
      selector,
      now,
      plan,
      unavailable,
    );
  const records = [...owned.map((ms) => record(ms, false)), ...orphans.map((ms) => record(ms, true))];
  for (const o of orphans) plan.notes.push(`${who}: adopting MachineSet ${o.metadata.name}`);

  // New and old sets: the new one has the deployment's template (most replicas, then oldest, if several).
  const identity = templateIdentity(md.spec.template);
  const candidates = records
    .filter((r) => !r.deleting && templateIdentity(r.ms.spec.template) === identity)
    .sort((a, b) => b.view.replicas - a.view.replicas || a.view.createdAt - b.view.createdAt || (a.ms.metadata.name < b.ms.metadata.name ? -1 : 1));
  let current: SetRecord | undefined = candidates[0];
  const old = records.filter((r) => r !== current);

  const classRef = md.spec.template.spec.machineClassRef.name;
  const machineClass = input.machineClasses.find((c) => c.metadata.name === classRef && c.metadata.namespace === md.metadata.namespace);
  const placement = failureDomainPlacement(cluster, machineClass, md.spec.template.spec.failureDomain);
  let scaleUpBlocked = !machineClass ? `MachineClass ${classRef} does not exist` : !placement.ok ? placement.message : undefined;
  const failed = machineClass && !placement.ok ? placement.message : undefined;
  const strategy = md.spec.strategy.type;
  const state = { intents: new Map<string, number>(), notes: new Map<string, string[]>() };
  const oldViews = old.map((r) => r.view);
  const oldLeft = oldMachinesLeft(oldViews);

  // Create the new set? Not while paused (Deployments create it on resume), not when its machines could not
  // be made (Cluster API refuses to create a MachineSet whose templates do not exist), and with Recreate
  // only once the old machines are gone.
  const hash = templateHash(md.spec.template);
  if (!current && !md.spec.paused && !scaleUpBlocked && (strategy !== 'Recreate' || oldLeft === 0)) {
    const name = machineSetName(md, hash);
    const clash = input.machineSets.find((ms) => ms.metadata.name === name && ms.metadata.namespace === md.metadata.namespace);
    // Note: a set of this very template can still be on its way out (history cleanup, then a rollback to it):
    // its successor waits for the name.
    if (clash)
      scaleUpBlocked = clash.metadata.deletionTimestamp
        ? `MachineSet ${name} is still being deleted`
        : `MachineSet ${name} already exists with another template or owner`;
    else {
      const ms = newMachineSetObject(md, hash, name, selector, surge);
      const counts = { replicas: 0, readyReplicas: 0, availableReplicas: 0 };
      current = {
        ms,
        created: true,
        adopted: false,
        deleting: false,
        machines: [],
        counts,
        view: viewOf(ms, [], counts, md, index, { created: true, deleting: false }),
      };
    }
  }
  if (!current && scaleUpBlocked) plan.notes.push(`${who}: cannot create the MachineSet for the current template: ${scaleUpBlocked}`);

  const revision = newRevisionAnnotations(
    current && !current.created ? current.ms : undefined,
    old.map((r) => r.ms),
  );

  // The scale intents of this step.
  let deadlockBroken = false;
  if (md.spec.paused) {
    scaleProportionally({
      strategy,
      replicas: md.spec.replicas,
      maxSurge: surge,
      statusReplicas: md.status?.replicas ?? 0,
      newMS: current?.view,
      oldMSs: oldViews,
      ...state,
    });
    plan.notes.push(`${who}: rollout paused, scaling proportionally only`);
  } else if (strategy === 'Recreate') {
    // Note: when the new set cannot be made (its MachineClass is missing), the old machines stay: taking
    // them all down first would leave the deployment with nothing, for as long as the class is missing.
    if (!scaleUpBlocked || current) {
      scaleDownOldForRecreate({ replicas: md.spec.replicas, oldMSs: oldViews, ...state });
      if (oldLeft > 0) plan.notes.push(`${who}: Recreate waits for ${oldLeft} old machine(s) to be deleted before creating new ones`);
      else if (current) scaleUpNewForRecreate({ replicas: md.spec.replicas, oldMSs: oldViews, ...state }, current.view);
    }
  } else if (current) {
    const s = newRolloutState({ strategy, replicas: md.spec.replicas, maxSurge: surge, maxUnavailable: unavailable, newMS: current.view, oldMSs: oldViews });
    if (strategy === 'OnDelete') planOnDelete(s);
    else planRollingUpdate(s);
    for (const [k, v] of s.intents) state.intents.set(k, v);
    for (const [k, v] of s.notes) state.notes.set(k, v);
    deadlockBroken = s.deadlockBroken === true;
  }

  // Desired sets and their writes: the new set first, as Cluster API logs it.
  const desired = new Map<SetRecord, MachineSet>();
  const replicasOf = (r: SetRecord) => state.intents.get(r.view.name) ?? r.view.replicas;
  for (const r of current ? [current, ...old] : old) {
    if (r.deleting) continue;
    const extra = r === current ? revision.annotations : {};
    const d = r.created
      ? { ...r.ms, metadata: { ...r.ms.metadata, annotations: { ...r.ms.metadata.annotations, ...extra } }, spec: { ...r.ms.spec, replicas: replicasOf(r) } }
      : desiredMachineSet(r, md, replicasOf(r), surge, extra);
    desired.set(r, d);
    if (r.created) plan.writes.push({ type: 'Create', object: d });
    else if (specAndMetadata(d) !== specAndMetadata(r.ms)) plan.writes.push({ type: 'Update', object: d });
  }

  // Counters, after the intents (spec) and as observed (machines).
  let replicas = 0;
  let ready = 0;
  let available = 0;
  let specReplicas = 0;
  let nextAvailable: number | undefined;
  for (const r of records) {
    replicas += r.counts.replicas;
    ready += r.counts.readyReplicas;
    available += r.counts.availableReplicas;
    if (r.counts.nextAvailableInSeconds !== undefined) nextAvailable = Math.min(nextAvailable ?? Infinity, r.counts.nextAvailableInSeconds);
  }
  for (const [, d] of desired) specReplicas += d.spec.replicas;
  const updated = current?.counts.replicas ?? 0;
  const complete = current !== undefined && deploymentComplete(md.spec.replicas, { replicas, updatedReplicas: updated, availableReplicas: available });

  // revisionHistoryLimit, once a rollout is complete (or while paused), as Kubernetes' cleanupDeployment.
  const deleted = new Set<MachineSet>();
  if (complete || md.spec.paused) {
    const olds = old.map((r) => ({ machineSet: r.ms, replicas: replicasOf(r), actual: r.counts.replicas }));
    for (const ms of machineSetsBeyondHistoryLimit(olds, md.spec.revisionHistoryLimit)) {
      deleted.add(ms);
      plan.writes.push({ type: 'Delete', ref: refOf(ms), reason: `revision ${revisionOf(ms)} is beyond revisionHistoryLimit ${md.spec.revisionHistoryLimit}` });
      plan.notes.push(
        `${who}: deleting old MachineSet ${ms.metadata.name} (revision ${revisionOf(ms)}), beyond revisionHistoryLimit ${md.spec.revisionHistoryLimit}`,
      );
    }
  }

  // Notes, one line per set that changes, with Cluster API's reasons.
  for (const r of current ? [current, ...old] : old) {
    const why = state.notes.get(r.view.name) ?? [];
    const to = replicasOf(r);
    if (!r.created && to === r.view.replicas && why.length === 0) continue;
    const role = r === current ? `rev ${revision.revision}, current` : `rev ${revisionOf(r.ms)}, old`;
    const change = r.created ? `created with ${to} replicas` : to !== r.view.replicas ? `from ${r.view.replicas} to ${to} replicas` : `${to} replicas`;
    plan.notes.push(
      `${who}: MachineSet ${r.view.name} (${role}) ${change}, ${r.counts.replicas} machines, ${r.counts.availableReplicas} available${why.length ? `: ${why.join(', ')}` : ''}`,
    );
  }
  if (deadlockBroken) plan.notes.push(`${who}: deadlock breaker: scaling an old MachineSet down by 1 although that may breach maxUnavailable`);

  // The deployment's revision annotation follows its current set.
  if (current) {
    const rev = String(revision.revision);
    if (md.metadata.annotations?.[Annotations.revision] !== rev)
      plan.writes.push({
        type: 'Update',
        object: { ...md, metadata: { ...md.metadata, annotations: { ...md.metadata.annotations, [Annotations.revision]: rev } } },
      });
  }

  const reasons = new Set<string>();
  for (const r of old) if (r.counts.replicas > 0) for (const d of templateDifferences(r.ms.spec.template, md.spec.template)) reasons.add(d);
  const status = machineDeploymentStatus({
    machineDeployment: md,
    selector,
    now,
    replicas,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: available,
    specReplicas,
    maxUnavailable: unavailable,
    notUpToDate: old.reduce((t, r) => t + r.counts.replicas, 0),
    rolloutReasons: [...reasons].sort((a, b) => (a.startsWith('* Version') ? -1 : b.startsWith('* Version') ? 1 : a < b ? -1 : 1)),
    ...(scaleUpBlocked ? { scaleUpBlocked } : {}),
    ...(failed ? { failed } : records.some((r) => r.ms.status?.failureReason) ? { failed: 'a MachineSet reports a failure' } : {}),
  });
  if (canonicalJson(status) !== canonicalJson(md.status ?? {})) plan.writes.push({ type: 'UpdateStatus', object: { ...md, status } });
  if (nextAvailable !== undefined) plan.requeueAfterSeconds = nextAvailable;

  const machineSets = [...desired.values()].filter((ms) => ![...deleted].some((d) => d.metadata.name === ms.metadata.name));
  for (const r of records) if (r.deleting) machineSets.push(r.ms);
  return { ...plan, writes: chainWrites(plan.writes), machineSets, status };
}

/**
 * A deleted deployment: its sets are deleted (their planners delete the machines), and the finalizer goes
 * once no set is left (cluster-api machinedeployment_controller.go reconcileDelete).
 */
function planDeletion(md: MachineDeployment, records: SetRecord[], selector: LabelSelector, now: Date, plan: Plan, unavailable: number): MachineDeploymentPlan {
  const who = `MachineDeployment ${md.metadata.name}`;
  const owned = records;
  for (const r of owned.filter((r) => !r.deleting))
    plan.writes.push({ type: 'Delete', ref: refOf(r.ms), reason: `MachineDeployment ${md.metadata.name} is being deleted` });
  if (owned.length === 0) {
    if (md.metadata.finalizers?.includes(Finalizers.machineDeployment))
      plan.writes.push({ type: 'RemoveFinalizer', ref: refOf(md), finalizer: Finalizers.machineDeployment });
    plan.notes.push(`${who}: deleted, no MachineSet left`);
  } else plan.notes.push(`${who}: deleting, waiting for ${listNames(owned.map((r) => r.ms.metadata.name))} to go`);
  const sum = (f: (r: SetRecord) => number) => owned.reduce((t, r) => t + f(r), 0);
  const status = machineDeploymentStatus({
    machineDeployment: md,
    selector,
    now,
    replicas: sum((r) => r.counts.replicas),
    updatedReplicas: 0,
    readyReplicas: sum((r) => r.counts.readyReplicas),
    availableReplicas: sum((r) => r.counts.availableReplicas),
    specReplicas: 0,
    maxUnavailable: unavailable,
    notUpToDate: 0,
    rolloutReasons: [],
  });
  if (canonicalJson(status) !== canonicalJson(md.status ?? {})) plan.writes.push({ type: 'UpdateStatus', object: { ...md, status } });
  return { ...plan, writes: chainWrites(plan.writes), machineSets: owned.filter((r) => r.deleting).map((r) => r.ms), status };
}
