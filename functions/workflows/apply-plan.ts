/**
 * Applies a plan: its writes to the store, one conditional write each, in order; its actions as inline effects
 * (terminate, drain) or as child workflows to start. Level-triggered: a write that loses a race is skipped
 * and counted, and the caller plans again from a fresh read.
 */
import { Annotations } from '../api/common.js';
import type { ApiObject } from '../api/kind.js';
import type { Cluster } from '../api/cluster.js';
import type { KindName } from '../api/kinds.js';
import type { Machine } from '../api/machine.js';
import type { Action, Write } from '../core/plan.js';
import { eventsOfWrite } from '../core/events.js';
import { EventReason, regardingOf, type EventInput } from '../api/event.js';
import { setCondition, timestamp } from '../core/conditions.js';
import { DRAIN_MARGIN_SECONDS, InfrastructureOwnedCondition, InfrastructureOwnedReason, drainBound } from '../core/machine/index.js';
import { AlreadyExistsError, ConflictError, EtcdUnavailableError, NotFoundError, ProviderError, type WorkflowName } from '../ports.js';
import type { WorkflowDeps } from './deps.js';
import { applyClusterResourceSet } from './addons.js';
import { deleteLoadBalancer, provisionLoadBalancer } from './load-balancer.js';
import { removeEtcdMember } from './etcd.js';
import { updateKubeadmObjects } from './kubeadm-objects.js';
// The kubeadm bootstrap: control-plane targets leave the load balancer before their instance goes; orphans' secrets go too.
import { bootstrapsCluster, deregisterTarget } from './bootstrap-hooks.js';

export interface ChildStart {
  workflow: WorkflowName;
  name: string;
  input: Record<string, unknown>;
}

export interface WritesResult {
  applied: number;
  conflicts: number;
  /** Objects created in this pass: their children can be planned now that they have a uid. */
  created: ApiObject[];
}

const keyOf = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;

async function removeFinalizer(
  deps: WorkflowDeps,
  ref: { kind: KindName; namespace: string; name: string; uid?: string },
  finalizer: string,
): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await deps.store.get(ref.kind, ref.namespace, ref.name);
    if (!current || (ref.uid && current.metadata.uid !== ref.uid)) return true;
    const finalizers = current.metadata.finalizers ?? [];
    if (!finalizers.includes(finalizer)) return true;
    try {
      await deps.store.update({ ...current, metadata: { ...current.metadata, finalizers: finalizers.filter((f) => f !== finalizer) } });
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return true;
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return false;
}

/** What the events of applied writes need: the objects before the plan (core/events.ts) and the workflow that acts. */
export interface WriteEvents {
  before: ReadonlyMap<string, ApiObject>;
  workflow: string;
}

export async function applyWrites(deps: WorkflowDeps, writes: readonly Write[], events?: WriteEvents): Promise<WritesResult> {
  const result: WritesResult = { applied: 0, conflicts: 0, created: [] };
  // Later writes of one object are guarded by the resourceVersion the earlier write returned.
  const latest = new Map<string, string>();
  const lost = new Set<string>();
  for (const w of writes) {
    const key =
      w.type === 'Create' || w.type === 'Update' || w.type === 'UpdateStatus'
        ? keyOf(w.object.kind, w.object.metadata.namespace, w.object.metadata.name)
        : keyOf(w.ref.kind, w.ref.namespace, w.ref.name);
    if (lost.has(key)) continue;
    try {
      switch (w.type) {
        case 'Create': {
          const created = await deps.store.create(w.object);
          result.created.push(created);
          latest.set(key, created.metadata.resourceVersion!);
          break;
        }
        case 'Update':
        case 'UpdateStatus': {
          const rv = latest.get(key) ?? w.object.metadata.resourceVersion;
          const object = { ...w.object, metadata: { ...w.object.metadata, ...(rv ? { resourceVersion: rv } : {}) } };
          const written = w.type === 'Update' ? await deps.store.update(object) : await deps.store.updateStatus(object);
          latest.set(key, written.metadata.resourceVersion!);
          break;
        }
        case 'Delete': {
          const r = await deps.store.delete(w.ref.kind, w.ref.namespace, w.ref.name, w.ref.uid ? { uid: w.ref.uid } : {});
          if (!r.removed) latest.set(key, r.object.metadata.resourceVersion!);
          break;
        }
        case 'RemoveFinalizer':
          if (!(await removeFinalizer(deps, w.ref, w.finalizer)))
            throw new ConflictError({ kind: w.ref.kind, namespace: w.ref.namespace, name: w.ref.name }, undefined);
          latest.delete(key);
          break;
      }
      result.applied++;
      if (events) for (const e of eventsOfWrite(w, events.before)) await deps.events.record({ ...e, workflow: events.workflow });
    } catch (err) {
      if (err instanceof ConflictError || err instanceof AlreadyExistsError || err instanceof NotFoundError) {
        result.conflicts++;
        lost.add(key);
        deps.log.info('write lost a race; the next pass plans again', { write: w.type, object: key, error: (err as Error).name });
        continue;
      }
      throw err;
    }
  }
  return result;
}

export interface ActionsResult {
  children: ChildStart[];
  /** Machines for which the plan asked remediation (the remediate workflow deletes them). */
  remediations: { machine: string; uid?: string; healthCheck?: string }[];
  errors: string[];
}

/**
 * The longest name of a stepping execution: its continuations are named `{name}-c{n}` by the state machine
 * (Init), which cannot shorten a name, and must stay within Step Functions' 80 characters.
 */
const STEPPING_NAME_MAX = 70;

/**
 * Deterministic execution names, so that a repeated start is a no-op (Step Functions: 1-80 of [A-Za-z0-9-_]).
 *
 * Note: Step Functions refuses a name for 90 days once an execution of it has closed, however it ended. So a
 * name must stand for one piece of work that ends once: an execution that ends before the work is done must
 * leave the next start a new name. Hence the remediation episode (when the machine was marked) in the
 * remediate name, and the MachineDeployment's generation in the rollout name (a pause ends the rollout's
 * execution; the resume, a spec change, starts the next one). A machine is provisioned once per uid and a
 * cluster torn down once per uid; should those executions end early, reconcile-cluster carries on their work
 * (the same planners), so their names need nothing more.
 */
export const executionNames = {
  provision: (machineUid: string) => `provision-${machineUid}`,
  remediate: (machineUid: string, markedAt?: string) => `remediate-${machineUid}${markedAt ? `-${compactTime(markedAt)}` : ''}`.slice(0, STEPPING_NAME_MAX),
  rollout: (deploymentUid: string, revision: string, generation: number) => `rollout-${deploymentUid}-r${revision}-g${generation}`.slice(0, STEPPING_NAME_MAX),
  teardown: (clusterUid: string) => `delete-${clusterUid}`,
};

/** 2026-03-01T12:00:05Z -> 20260301T120005Z: a timestamp in the characters an execution name may hold. */
function compactTime(time: string): string {
  return time.replace(/[^0-9A-Za-z]/g, '');
}

/**
 * Records how the drain of a machine's node goes (DrainingSucceeded False while pods are left, and why), on a
 * fresh read so it never loses to the planner's own status write of the same pass. A drain given up
 * at nodeDrainTimeoutSeconds leaves its reason on the Machine and in the log (Cluster API's DrainingFailed).
 */
async function recordDrainCondition(deps: WorkflowDeps, machine: Machine, reason: string, message: string): Promise<void> {
  await setMachineCondition(deps, machine, { type: 'DrainingSucceeded', status: 'False', reason, message });
}

/** Sets one condition of a Machine on a fresh read, retried on a lost race; nothing when the Machine is gone or replaced. */
async function setMachineCondition(deps: WorkflowDeps, machine: Machine, condition: Parameters<typeof setCondition>[1]): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await deps.store.get<Machine>('Machine', machine.metadata.namespace, machine.metadata.name);
    if (!current || current.metadata.uid !== machine.metadata.uid) return;
    const conditions = setCondition(current.status?.conditions, condition, deps.clock.now(), current.metadata.generation);
    if (JSON.stringify(conditions) === JSON.stringify(current.status?.conditions)) return;
    try {
      await deps.store.updateStatus({ ...current, status: { ...current.status, conditions } });
      return;
    } catch (err) {
      if (err instanceof NotFoundError) return;
      if (!(err instanceof ConflictError)) throw err;
    }
  }
}

export const DrainReason = { draining: 'Draining', failed: 'DrainingFailed' } as const;

/**
 * An instance the provider refused to terminate for a Machine: it exists but does not carry the machine's uid,
 * cluster and installation, so its id can only have come from a status write. Said on the Machine
 * (InfrastructureOwned False, InstanceNotOwned) and in the log; the machine's own instances went regardless.
 */
async function reportNotOwned(
  deps: WorkflowDeps,
  namespace: string,
  clusterName: string,
  machine: Machine | undefined,
  machineUid: string,
  refused: string[],
): Promise<void> {
  const message = `Instance ${refused.join(', ')} named in status.infrastructure.instanceId is not tagged as this Machine's (machine uid, cluster and installation); it was left running`;
  deps.log.warn("refused to terminate an instance that is not the machine's own", {
    namespace,
    clusterName,
    machine: machine?.metadata.name,
    machineUid,
    instanceIds: refused,
  });
  if (!machine) return;
  await deps.events.record({
    regarding: regardingOf(machine),
    type: 'Warning',
    reason: EventReason.InstanceNotOwned,
    action: 'Delete',
    note: message,
    workflow: 'reconcile-cluster',
  });
  await setMachineCondition(deps, machine, {
    type: InfrastructureOwnedCondition,
    status: 'False',
    reason: InfrastructureOwnedReason.InstanceNotOwned,
    message,
  });
}

async function markDrained(deps: WorkflowDeps, machine: Machine, message: string): Promise<void> {
  const now = deps.clock.now();
  const conditions = setCondition(
    machine.status?.conditions,
    { type: 'DrainingSucceeded', status: 'True', reason: 'Drained', message },
    now,
    machine.metadata.generation,
  );
  try {
    await deps.store.updateStatus({ ...machine, status: { ...machine.status, conditions } });
  } catch (err) {
    if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
  }
}

export async function executeActions(
  deps: WorkflowDeps,
  namespace: string,
  clusterName: string,
  actions: readonly Action[],
  machines: ReadonlyMap<string, Machine>,
  /** The cluster, for its load balancer target group; without it no target is deregistered. */
  cluster?: Cluster,
  /** The workflow acting, the reporting controller of the events recorded. */
  workflow = 'reconcile-cluster',
): Promise<ActionsResult> {
  const record = (e: Omit<EventInput, 'workflow'>) => deps.events.record({ ...e, workflow });
  const out: ActionsResult = { children: [], remediations: [], errors: [] };
  for (const action of actions) {
    try {
      switch (action.type) {
        case 'LaunchInstance':
          if (action.machine.uid)
            out.children.push({
              workflow: 'provision-machine',
              name: executionNames.provision(action.machine.uid),
              input: { namespace, clusterName, machineName: action.machine.name, machineUid: action.machine.uid },
            });
          break;
        case 'DrainNode': {
          const machine = machines.get(action.machine.name);
          const r = await deps.drainer.drain(namespace, clusterName, action.nodeName);
          if (r.drained && machine) await markDrained(deps, machine, r.message);
          else if (machine) await recordDrainCondition(deps, machine, DrainReason.draining, r.message);
          break;
        }
        case 'DeleteNode': {
          const r = await deps.drainer.deleteNode(namespace, clusterName, action.nodeName);
          const machine = machines.get(action.machine.name);
          if (!r.deleted) {
            // The planner asks again until the machine's node deletion timeout (Cluster API's FailedDeleteNode).
            deps.log.warn('node deletion failed; asked again until the node deletion timeout', {
              namespace,
              clusterName,
              machine: action.machine.name,
              message: r.message,
            });
            if (machine)
              await record({
                regarding: regardingOf(machine),
                type: 'Warning',
                reason: EventReason.FailedDeleteNode,
                action: 'Delete',
                note: `error deleting Machine's Node: ${r.message}`,
              });
          }
          break;
        }
        case 'TerminateInstance': {
          const machine = machines.get(action.machine.name);
          const uid = action.machine.uid ?? machine?.metadata.uid;
          // The planner's instance is the one found by the machine's uid tag; status is any /status writer's to set.
          const instanceId = action.providerID?.split('/').pop();
          // A drain still going when the machine is terminated was given up at its nodeDrainTimeout, or at the end a
          // spot interruption warning left it: say which.
          const drain = machine?.status?.conditions?.find((c) => c.type === 'DrainingSucceeded');
          if (machine && drain?.status === 'False' && drain.reason === DrainReason.draining) {
            const bound = drainBound(machine, machine.status?.deletion?.nodeDrainStartTime ?? timestamp(deps.clock.now()));
            const within =
              bound.by === 'nodeDrainTimeout'
                ? `within nodeDrainTimeout (${bound.seconds}s)`
                : `within ${bound.seconds}s, all a spot interruption warning left before the instance is reclaimed at ${bound.terminationTime} (less ${DRAIN_MARGIN_SECONDS}s to terminate it first)`;
            const message = `Drain not completed ${within}; the machine is deleted anyway. Last drain: ${drain.message ?? 'unknown'}`;
            deps.log.warn('node drain timed out; deleting the machine anyway', { namespace, clusterName, machine: machine.metadata.name, message });
            await recordDrainCondition(deps, machine, DrainReason.failed, message);
            await record({ regarding: regardingOf(machine), type: 'Warning', reason: EventReason.FailedDrainNode, action: 'Drain', note: message });
          }
          if (machine) await deregisterTarget(deps, cluster, instanceId || undefined, machine);
          if (uid) {
            // The recorded id goes along: the provider terminates it only if it carries the machine's tags (a
            // lookup by tag can miss a new instance), and reports it otherwise.
            const recorded = machine?.status?.infrastructure?.instanceId;
            const { refused } = await deps.provider.delete({ namespace, clusterName, machineUid: uid, ...(recorded ? { instanceId: recorded } : {}) });
            if (refused.length > 0) await reportNotOwned(deps, namespace, clusterName, machine, uid, refused);
            if (machine) {
              const what = recorded ?? instanceId;
              const note = what ? `Terminated instance "${what}"` : 'Terminated the instances of the machine';
              await record({ regarding: regardingOf(machine), type: 'Normal', reason: EventReason.SuccessfulTerminate, action: 'Delete', note });
            }
          }
          break;
        }
        case 'UpdateKubeadmObjects':
          if (!cluster) throw new Error(`kubeadm objects of ${namespace}/${clusterName}: the cluster is needed to reach them`);
          out.errors.push(...(await updateKubeadmObjects(deps, cluster, action)));
          break;
        case 'RemoveEtcdMember':
          if (!cluster) throw new Error(`etcd member ${action.member}: the cluster is needed to reach its etcd`);
          await removeEtcdMember(deps, cluster, machines.values(), action.member);
          break;
        case 'RemediateMachine': {
          out.remediations.push({
            machine: action.machine.name,
            ...(action.machine.uid ? { uid: action.machine.uid } : {}),
            ...(action.healthCheck ? { healthCheck: action.healthCheck } : {}),
          });
          if (action.machine.uid) {
            const base = executionNames.remediate(action.machine.uid, action.markedAt);
            out.children.push({
              workflow: 'remediate',
              name: base,
              input: {
                namespace,
                clusterName,
                healthCheckName: action.healthCheck ?? '',
                machineName: action.machine.name,
                machineUid: action.machine.uid,
                // The episode this execution is for: it waits while the episode lasts, and ends with it.
                markedAt: action.markedAt ?? '',
                executionBase: base,
                continuation: 0,
              },
            });
          }
          break;
        }
        case 'TerminateOrphanInstance': {
          // Both the id and the uid are the instance's own tags, as this installation's describe found them.
          await deregisterTarget(deps, cluster, action.instanceId);
          if (bootstrapsCluster(deps, cluster)) await deps.bootstrap.release({ namespace, clusterName, machineUid: action.machineUid });
          const { refused } = await deps.provider.delete({ namespace, clusterName, machineUid: action.machineUid, instanceId: action.instanceId });
          if (refused.length > 0) await reportNotOwned(deps, namespace, clusterName, undefined, action.machineUid, refused);
          break;
        }
        case 'DeleteInfrastructure': {
          // Each instance by the machine uid its own tags carry (a Machine's status may name any instance).
          const tagged = new Map((await deps.provider.describe(namespace, clusterName)).map((i): [string, string] => [i.instanceId, i.machineUid]));
          for (const instanceId of action.instanceIds) {
            const uid = tagged.get(instanceId);
            // Not listed now: gone since, or not yet listed again; the next reconcile looks again.
            if (uid === undefined) continue;
            await deregisterTarget(deps, cluster, instanceId);
            const { refused } = await deps.provider.delete({ namespace, clusterName, machineUid: uid, instanceId });
            if (refused.length > 0) await reportNotOwned(deps, namespace, clusterName, undefined, uid, refused);
          }
          if (action.loadBalancer) await deleteLoadBalancer(deps, cluster);
          break;
        }
        case 'ApplyClusterResourceSet':
          // Failures are recorded on the binding and reported; they never stop the other actions.
          if (cluster) out.errors.push(...(await applyClusterResourceSet(deps, cluster, action)));
          break;
        case 'ProvisionInfrastructure':
          // The control-plane load balancer of an aws cluster that names no target group; nothing else is made
          // per cluster (the subnets and security groups are the user's).
          await provisionLoadBalancer(deps, cluster);
          break;
      }
    } catch (err) {
      // One failed effect must not stop the others; the next reconcile repeats it (every action is idempotent).
      if (!(err instanceof ProviderError) && !(err instanceof EtcdUnavailableError)) throw err;
      out.errors.push(`${action.type}: ${(err as Error).name}: ${(err as Error).message}`);
      deps.log.warn('action failed; it is repeated by the next reconcile', { action: action.type, error: (err as Error).name });
    }
  }
  return out;
}

export function revisionAnnotation(obj: ApiObject): string {
  return obj.metadata.annotations?.[Annotations.revision] ?? '0';
}
