/**
 * The steps of the provision-machine state machine. Each one re-reads the Machine and records what it is about
 * to do before doing it (DESIGN section 4), so a crash between any two steps, a retried step or a second
 * execution resumes the same launch: the ClientToken is recorded first, each launch attempt (instance type and
 * zone) before its request, and the provider adopts an instance already tagged with the machine's uid or, when
 * DescribeInstances does not list it yet, sends the recorded attempt again first (same token, same parameters:
 * EC2 returns the same instance). Never two instances for one Machine.
 */
import { API_VERSION, Annotations } from '../api/common.js';
import { EventReason, type EventType } from '../api/event.js';
import type { Cluster } from '../api/cluster.js';
import type { MachineClass } from '../api/machine-class.js';
import type { Machine, MachineStatus } from '../api/machine.js';
import { isControlPlaneMachine } from '../core/cluster/objects.js';
import { joinRegistration } from '../core/machine/node-registration.js';
import { unavailableUntil } from '../core/machine/offerings.js';
import { launchCapacityOf } from '../core/machineset/capacity.js';
import type { InstanceFact, NodeFact } from '../core/observed.js';
import { ConflictError, InvalidSpecError, NodeReaderUnavailableError, type LaunchAttempt, type LaunchSpec, type Offering } from '../ports.js';
// The kubeadm bootstrap (secret before launch, target registration, cleanup once joined).
import { bindSecretToInstance, bootstrapsCluster, initialisesControlPlane, registerControlPlaneTarget } from './bootstrap-hooks.js';
import { hostBootstraps, hostRegistersTargets, type WorkflowDeps } from './deps.js';
import { PollLimitError, ValidationError, optionalNumber, requireString } from './errors.js';

export type ProvisionNext = 'Launch' | 'WaitForInstance' | 'WaitForNode' | 'Done';

export interface ProvisionState {
  next: ProvisionNext;
  wakeAt: string;
  polls: number;
}

/** Polls while the instance boots before the execution gives up on it (then the launch is tried again). */
export const MAX_INSTANCE_POLLS = 60;
/** Polls while waiting for the node; past them the health check's nodeStartupTimeout decides. */
export const MAX_NODE_POLLS = 240;
export const INSTANCE_POLL_SECONDS = 5;
/** Launches of one machine whose instance never showed up, before the machine is marked Failed. */
export const MAX_LAUNCH_ATTEMPTS = 3;
export const NODE_POLL_SECONDS = 5;

interface MachineRef {
  namespace: string;
  clusterName: string;
  machineName: string;
  machineUid: string;
}

function refOf(input: Record<string, unknown>): MachineRef {
  return {
    namespace: requireString(input, 'namespace'),
    clusterName: requireString(input, 'clusterName'),
    machineName: requireString(input, 'machineName'),
    machineUid: requireString(input, 'machineUid'),
  };
}

/** An event on the Machine this execution is for, by the provision-machine workflow. */
function machineEvent(deps: WorkflowDeps, ref: MachineRef, type: EventType, reason: EventReason, note: string): Promise<void> {
  const regarding = { kind: 'Machine', namespace: ref.namespace, name: ref.machineName, uid: ref.machineUid, apiVersion: API_VERSION };
  return deps.events.record({ regarding, type, reason, action: 'Create', note, workflow: 'provision-machine' });
}

/** The Machine this execution is for, or undefined when it is gone, replaced, deleting or failed for good. */
async function liveMachine(deps: WorkflowDeps, ref: MachineRef): Promise<Machine | undefined> {
  const m = await deps.store.get<Machine>('Machine', ref.namespace, ref.machineName);
  if (!m || m.metadata.uid !== ref.machineUid || m.metadata.deletionTimestamp || m.status?.failureReason) return undefined;
  return m;
}

/** A status change of the Machine, re-read and retried when it loses a race with the reconcile. */
async function updateMachineStatus(deps: WorkflowDeps, ref: MachineRef, change: (m: Machine) => MachineStatus | undefined): Promise<Machine | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const m = await deps.store.get<Machine>('Machine', ref.namespace, ref.machineName);
    if (!m || m.metadata.uid !== ref.machineUid) return undefined;
    const status = change(m);
    if (!status) return m;
    try {
      return await deps.store.updateStatus({ ...m, status });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  throw new ConflictError({ kind: 'Machine', namespace: ref.namespace, name: ref.machineName }, undefined);
}

const state = (deps: WorkflowDeps, next: ProvisionNext, waitSeconds: number, polls: number): ProvisionState => ({
  next,
  wakeAt: deps.timer.wakeAt(waitSeconds),
  polls,
});

export async function recordIntent(deps: WorkflowDeps, input: Record<string, unknown>): Promise<ProvisionState> {
  const ref = refOf(input);
  const machine = await liveMachine(deps, ref);
  if (!machine || machine.status?.nodeRef) return state(deps, 'Done', 0, 0);
  const infra = machine.status?.infrastructure;
  if (!infra?.clientToken) {
    const now = deps.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
    await updateMachineStatus(deps, ref, (m) =>
      m.status?.infrastructure?.clientToken
        ? undefined
        : {
            ...m.status,
            infrastructure: {
              ...m.status?.infrastructure,
              // The token is the machine's uid: the same on every retry and resumption of this machine's launch.
              clientToken: ref.machineUid,
              attempt: (m.status?.infrastructure?.attempt ?? 0) + 1,
              launchRequestedAt: now,
            },
          },
    );
  }
  return state(deps, infra?.instanceId ? 'WaitForInstance' : 'Launch', 0, 0);
}

export async function launch(deps: WorkflowDeps, input: Record<string, unknown>): Promise<{ instanceId?: string }> {
  const ref = refOf(input);
  const machine = await liveMachine(deps, ref);
  if (!machine) return {};
  const [cluster, machineClass] = await Promise.all([
    deps.store.get<Cluster>('Cluster', ref.namespace, ref.clusterName),
    deps.store.get<MachineClass>('MachineClass', ref.namespace, machine.spec.machineClassRef.name),
  ]);
  if (!cluster) throw new InvalidSpecError(`Cluster ${ref.namespace}/${ref.clusterName} does not exist`);
  if (!machineClass) throw new InvalidSpecError(`MachineClass ${ref.namespace}/${machine.spec.machineClassRef.name} does not exist`);
  const role = isControlPlaneMachine(machine) ? 'control-plane' : 'worker';
  // The machine's taints with its class's node labels and taints (a GPU pool's), as its Node registers.
  const registration = joinRegistration(machine.spec.taints, machineClass.spec);
  // The machine's bootstrap secret is written before the launch; the user data only fetches (and deletes) it.
  let userData: string | undefined;
  let init: boolean | undefined;
  if (bootstrapsCluster(deps, cluster)) {
    // Only a control-plane machine may initialise: a worker's launch needs no read of the whole cluster.
    init = role === 'control-plane' && initialisesControlPlane(machine, cluster, await deps.store.listCluster(ref.namespace, ref.clusterName));
    ({ userData } = await deps.bootstrap.prepare({
      namespace: ref.namespace,
      clusterName: ref.clusterName,
      ...(cluster.metadata.uid ? { clusterUid: cluster.metadata.uid } : {}),
      machineName: ref.machineName,
      machineUid: ref.machineUid,
      role,
      version: machine.spec.version,
      init,
      clusterSpec: cluster.spec,
      ...registration,
    }));
  }
  // The instance type and zone in status name the last attempt: the one in flight, or the one that made the
  // recorded instance. Note: that instance may be the one that never showed up (checkInstance launches again),
  // and a fallback's request then has to be recorded as much as on the first launch.
  const infra = machine.status?.infrastructure;
  const recordedAttempt =
    infra?.instanceType && infra.availabilityZone
      ? { instanceType: infra.instanceType, availabilityZone: infra.availabilityZone, ...(infra.capacityType ? { capacityType: infra.capacityType } : {}) }
      : undefined;
  // The market the MachineSet planner chose (spec.capacity of the deployment); unset for other machines.
  const capacity = launchCapacityOf(machine);
  const unavailableOfferings = await listUnavailableOfferings(deps);
  const spec: LaunchSpec = {
    namespace: ref.namespace,
    clusterName: ref.clusterName,
    machineName: ref.machineName,
    machineUid: ref.machineUid,
    role,
    version: machine.spec.version,
    clientToken: machine.status?.infrastructure?.clientToken ?? ref.machineUid,
    machineClass: machineClass.spec,
    clusterProvider: cluster.spec.provider,
    ...(machine.spec.failureDomain ? { failureDomain: machine.spec.failureDomain } : {}),
    ...(machine.metadata.annotations?.[Annotations.preferredFailureDomain]
      ? { preferredFailureDomain: machine.metadata.annotations[Annotations.preferredFailureDomain] }
      : {}),
    ...(userData !== undefined ? { userData } : {}),
    ...(init !== undefined ? { bootstrap: init ? 'init' : 'join' } : {}),
    ...(recordedAttempt ? { recordedAttempt } : {}),
    ...registration,
    ...(capacity ? { capacity } : {}),
    ...(unavailableOfferings.length ? { unavailableOfferings } : {}),
  };
  const instance = await deps.provider.create(spec, {
    recordAttempt: (attempt) => recordAttempt(deps, ref, attempt),
    offeringUnavailable: (offering, reason) => markUnavailable(deps, ref, offering, reason),
  });
  await recordInstance(deps, ref, instance);
  await machineEvent(deps, ref, 'Normal', EventReason.SuccessfulCreate, `Created new ${role} instance with id "${instance.instanceId}"`);
  await bindSecretToInstance(deps, cluster, ref, instance.instanceId);
  return { instanceId: instance.instanceId };
}

/**
 * Intent before action: the attempt a launch request is about to make, so that a retry sends it again first. Also
 * when status names an instance (a launch again after it never showed up): the provider moves past the recorded
 * attempt only when it adopted no instance and that attempt got no capacity or is no longer allowed, so status now
 * describes the request in flight and the id, state and launch time go, never paired with another attempt's type
 * and zone. That instance, should it show up after all, carries the machine's uid tag and is found by it.
 */
async function recordAttempt(deps: WorkflowDeps, ref: MachineRef, attempt: LaunchAttempt): Promise<void> {
  const m = await updateMachineStatus(deps, ref, (x) => {
    const infra = x.status?.infrastructure;
    if (infra?.instanceType === attempt.instanceType && infra.availabilityZone === attempt.availabilityZone && infra.capacityType === attempt.capacityType)
      return undefined;
    const { instanceId: _instanceId, state: _state, launchedAt: _launchedAt, capacityType: _capacityType, ...rest } = infra ?? {};
    return {
      ...x.status,
      infrastructure: {
        ...rest,
        instanceType: attempt.instanceType,
        availabilityZone: attempt.availabilityZone,
        ...(attempt.capacityType ? { capacityType: attempt.capacityType } : {}),
      },
    };
  });
  // A machine that is gone (or replaced) gets no instance: nothing could record it.
  if (!m)
    throw new ConflictError(
      { kind: 'Machine', namespace: ref.namespace, name: ref.machineName },
      undefined,
      `Machine ${ref.namespace}/${ref.machineName} (uid ${ref.machineUid}) is gone; not launching for it`,
    );
}

/**
 * The offerings a launch of this installation found without capacity lately, tried last. A hint: when the store
 * cannot say, the launch goes in the class's order rather than fail.
 */
async function listUnavailableOfferings(deps: WorkflowDeps): Promise<Offering[]> {
  try {
    return (await deps.unavailableOfferings.list(deps.clock.now())).map(({ instanceType, availabilityZone, capacityType }) => ({
      instanceType,
      availabilityZone,
      capacityType,
    }));
  } catch (e) {
    deps.log.warn('could not read the offerings without capacity; launching in the class order', { error: String(e) });
    return [];
  }
}

/** Marks an offering EC2 had no capacity for, for every later launch of the installation; a failed write loses a hint only. */
async function markUnavailable(deps: WorkflowDeps, ref: MachineRef, offering: Offering, reason: string): Promise<void> {
  try {
    await deps.unavailableOfferings.mark(unavailableUntil(offering, deps.clock.now()));
  } catch (e) {
    deps.log.warn('could not mark an offering without capacity', { ...offering, reason, machine: `${ref.namespace}/${ref.machineName}`, error: String(e) });
  }
}

async function recordInstance(deps: WorkflowDeps, ref: MachineRef, instance: InstanceFact): Promise<void> {
  await updateMachineStatus(deps, ref, (m) => {
    const infra = m.status?.infrastructure;
    if (infra?.instanceId === instance.instanceId && infra.state === instance.state) return undefined;
    return {
      ...m.status,
      infrastructure: {
        ...infra,
        instanceId: instance.instanceId,
        state: instance.state,
        ...(instance.instanceType ? { instanceType: instance.instanceType } : {}),
        ...(instance.availabilityZone ? { availabilityZone: instance.availabilityZone } : {}),
        ...(instance.launchTime && !infra?.launchedAt ? { launchedAt: instance.launchTime } : {}),
      },
    };
  });
}

function pickInstance(instances: readonly InstanceFact[], machineUid: string): InstanceFact | undefined {
  const mine = instances.filter((i) => i.machineUid === machineUid);
  return mine.find((i) => i.state !== 'terminated' && i.state !== 'shutting-down') ?? mine[0];
}

export async function checkInstance(deps: WorkflowDeps, input: Record<string, unknown>): Promise<ProvisionState> {
  const ref = refOf(input);
  const polls = optionalNumber(input, 'polls', 0) + 1;
  const machine = await liveMachine(deps, ref);
  if (!machine) return state(deps, 'Done', 0, polls);
  const instance = pickInstance(await deps.provider.describe(ref.namespace, ref.clusterName), ref.machineUid);
  if (!instance) {
    // Right after a launch EC2 may not list the instance yet; after that, launch again (it adopts, or replaces
    // an instance that never came).
    if (polls >= MAX_INSTANCE_POLLS / 4) {
      const m = await updateMachineStatus(deps, ref, (x) => ({
        ...x.status,
        infrastructure: { ...x.status?.infrastructure, attempt: (x.status?.infrastructure?.attempt ?? 1) + 1 },
      }));
      if ((m?.status?.infrastructure?.attempt ?? 0) > MAX_LAUNCH_ATTEMPTS)
        throw new PollLimitError(`no instance appeared after ${MAX_LAUNCH_ATTEMPTS} launches`);
      return state(deps, 'Launch', 0, 0);
    }
    return state(deps, 'WaitForInstance', INSTANCE_POLL_SECONDS, polls);
  }
  if (instance.state === 'terminated' || instance.state === 'shutting-down') {
    await updateMachineStatus(deps, ref, (m) => ({
      ...m.status,
      failureReason: 'CreateError',
      failureMessage: `Instance ${instance.instanceId} is ${instance.state} before it ever ran`,
    }));
    await machineEvent(deps, ref, 'Warning', EventReason.FailedCreate, `Instance ${instance.instanceId} is ${instance.state} before it ever ran`);
    return state(deps, 'Done', 0, polls);
  }
  await recordInstance(deps, ref, instance);
  // The launch step binds the secret; the first look after a launch (or in an execution that found the instance
  // launched already) binds it again, in case the step died in between. Later looks do not: one Secrets Manager
  // TagResource per look would be up to MAX_INSTANCE_POLLS of them per machine.
  if (hostBootstraps(deps) && polls === 1)
    await bindSecretToInstance(deps, await deps.store.get<Cluster>('Cluster', ref.namespace, ref.clusterName), ref, instance.instanceId);
  if (instance.state === 'running') {
    // A control-plane instance serves the endpoint as soon as it runs: kubeadm init itself talks to it there.
    if (hostRegistersTargets(deps) && isControlPlaneMachine(machine))
      await registerControlPlaneTarget(deps, await deps.store.get<Cluster>('Cluster', ref.namespace, ref.clusterName), machine, instance.instanceId);
    return state(deps, 'WaitForNode', 0, 0);
  }
  if (polls >= MAX_INSTANCE_POLLS) throw new PollLimitError(`instance ${instance.instanceId} still ${instance.state} after ${polls} polls`);
  return state(deps, 'WaitForInstance', INSTANCE_POLL_SECONDS, polls);
}

export async function checkNode(deps: WorkflowDeps, input: Record<string, unknown>): Promise<ProvisionState> {
  const ref = refOf(input);
  const polls = optionalNumber(input, 'polls', 0) + 1;
  const machine = await liveMachine(deps, ref);
  if (!machine || machine.status?.nodeRef) return state(deps, 'Done', 0, polls);
  const instanceId = machine.status?.infrastructure?.instanceId;
  let nodes: NodeFact[];
  try {
    nodes = await deps.nodes.listNodes(ref.namespace, ref.clusterName);
  } catch (err) {
    if (!(err instanceof NodeReaderUnavailableError)) throw err;
    nodes = [];
  }
  const node = nodes.find(
    (n) => (machine.spec.providerID && n.providerID === machine.spec.providerID) || (instanceId && n.providerID?.endsWith(`/${instanceId}`)),
  );
  const ready = node?.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  if (node && ready) {
    // The node joined: what is left of its bootstrap goes first, so a failure here is retried with this step.
    if (hostBootstraps(deps)) {
      const cluster = await deps.store.get<Cluster>('Cluster', ref.namespace, ref.clusterName);
      if (bootstrapsCluster(deps, cluster))
        await deps.bootstrap.release({ namespace: ref.namespace, clusterName: ref.clusterName, machineUid: ref.machineUid, clusterSpec: cluster!.spec });
    }
    // Recording the node is the write that wakes the reconcile, which turns the Machine Running.
    await updateMachineStatus(deps, ref, (m) =>
      m.status?.nodeRef ? undefined : { ...m.status, nodeRef: { name: node.name, ...(node.uid ? { uid: node.uid } : {}) } },
    );
    return state(deps, 'Done', 0, polls);
  }
  if (polls >= MAX_NODE_POLLS) return state(deps, 'Done', 0, polls);
  return state(deps, 'WaitForNode', NODE_POLL_SECONDS, polls);
}

/**
 * The state machine's Launch: the intent (recordIntent), then the launch unless an instance is recorded already or
 * the machine needs none. A retry after a crash between the two finds the token recorded and launches with it:
 * the provider adopts the instance the first try made.
 */
export async function recordIntentAndLaunch(deps: WorkflowDeps, input: Record<string, unknown>): Promise<ProvisionState> {
  const intent = await recordIntent(deps, input);
  if (intent.next !== 'Launch') return intent;
  await launch(deps, input);
  return state(deps, 'WaitForInstance', 0, 0);
}

const WAITING_FOR: readonly string[] = ['Launch', 'WaitForInstance', 'WaitForNode', 'Done'] satisfies ProvisionNext[];

/**
 * The state machine's Check: the instance until it runs, then its node. The call that sees the instance running
 * looks for the node at once (its first node poll), so a node that is already Ready costs no other wait.
 */
export async function check(deps: WorkflowDeps, input: Record<string, unknown>): Promise<ProvisionState> {
  const waitingFor = requireString(input, 'waitingFor');
  if (!WAITING_FOR.includes(waitingFor)) throw new ValidationError(`waitingFor must be one of ${WAITING_FOR.join(', ')}, not ${waitingFor}`);
  if (waitingFor === 'Done') return state(deps, 'Done', 0, optionalNumber(input, 'polls', 0));
  if (waitingFor === 'WaitForNode') return checkNode(deps, input);
  const instance = await checkInstance(deps, input);
  return instance.next === 'WaitForNode' ? checkNode(deps, { ...input, polls: 0 }) : instance;
}

/** The error Step Functions puts at ResultPath $.error of a Catch: {Error, Cause}. */
function describeError(raw: unknown): { name: string; message: string } {
  if (!raw || typeof raw !== 'object') return { name: 'Error', message: 'unknown error' };
  const e = raw as { Error?: unknown; Cause?: unknown };
  let message = typeof e.Cause === 'string' ? e.Cause : '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (parsed.errorMessage) message = parsed.errorMessage;
  } catch {
    // Cause is plain text.
  }
  return { name: typeof e.Error === 'string' ? e.Error : 'Error', message: message.slice(0, 1024) };
}

export async function recordFailure(deps: WorkflowDeps, input: Record<string, unknown>): Promise<Record<string, never>> {
  const ref = refOf(input);
  const error = describeError(input.error);
  deps.log.error('provisioning failed', { ...ref, error: error.name, message: error.message });
  await updateMachineStatus(deps, ref, (m) =>
    m.metadata.deletionTimestamp || m.status?.failureReason
      ? undefined
      : { ...m.status, failureReason: 'CreateError', failureMessage: `${error.name}: ${error.message}` },
  );
  await machineEvent(deps, ref, 'Warning', EventReason.FailedCreate, `Failed to create instance: ${error.name}: ${error.message}`);
  return {};
}

export async function provisionTask(deps: WorkflowDeps, input: Record<string, unknown>): Promise<unknown> {
  switch (input.step) {
    case 'recordIntentAndLaunch':
      return recordIntentAndLaunch(deps, input);
    case 'check':
      return check(deps, input);
    // The steps of the earlier definition, for executions started before it changed (they keep their definition).
    case 'recordIntent':
      return recordIntent(deps, input);
    case 'launch':
      return launch(deps, input);
    case 'checkInstance':
      return checkInstance(deps, input);
    case 'checkNode':
      return checkNode(deps, input);
    case 'recordFailure':
      return recordFailure(deps, input);
    default:
      throw new ValidationError(`unknown provision step ${String(input.step)}`);
  }
}
