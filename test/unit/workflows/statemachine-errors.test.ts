/**
 * The error names of the state machines: each ErrorEquals names an error that exists (one of the States
 * Language, one Lambda or Step Functions raises, or the `name` of an error class of the tasks' code), and every
 * such class that marks a transient failure is retried, by name, in the states where its task can throw it.
 * A retrier that names a renamed class, or a typo, matches nothing and silently stops retrying.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkloadTimeoutError } from '../../../functions/adapters/kubernetes/workload.js';
import { KubernetesApiError, KubernetesTimeoutError } from '../../../functions/adapters/kubernetes-client/rest-client.js';
import { ExecutionAlreadyExistsError } from '../../../functions/adapters/stepfunctions/local-workflows.js';
import { ClusterNameChangeError } from '../../../functions/adapters/store/base-store.js';
import { InvalidCertificatesError } from '../../../functions/adapters/kubeadm/certificates.js';
import { UnsupportedVersionError } from '../../../functions/bootstrap/kubeadm-config.js';
import { Ec2ServiceError, Ec2TimeoutError } from '../../../functions/adapters/aws/ec2-query/client.js';
import { TokenRejectedError } from '../../../functions/adapters/aws/sts-token.js';
import { EtcdApiError, EtcdConnectionError } from '../../../functions/adapters/etcd/client.js';
import { AddonApplyError } from '../../../functions/adapters/kubernetes/addon-applier.js';
import { PayloadMissingError } from '../../../functions/adapters/payloads/offloading-store.js';
import { PayloadStoreError } from '../../../functions/adapters/payloads/s3-payload-store.js';
import { CorefileMigrationError, InvalidKubeadmObjectError } from '../../../functions/bootstrap/kubeadm-upgrade.js';
import { WorkloadUnavailableError } from '../../../functions/adapters/kubeadm/workload-api.js';
import {
  AlreadyExistsError,
  ConflictError,
  ExpiredContinueTokenError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidContinueTokenError,
  InvalidSpecError,
  AddonApplierUnavailableError,
  EtcdUnavailableError,
  PayloadDigestError,
  KubeadmObjectsUnavailableError,
  NodeReaderUnavailableError,
  NotFoundError,
  ProviderError,
  QuotaExceededError,
  StoreError,
  StoreUnavailableError,
  ThrottledError,
} from '../../../functions/ports.js';
import { LeaseHeldError, PollLimitError, ValidationError, WorkflowError } from '../../../functions/workflows/errors.js';
import { STATE_MACHINES, TASK_FUNCTIONS, readDefinitionText, type TaskFunctionName } from '../../../statemachines/loader.js';
import { errorName } from '../../../statemachines/retry-policies.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The States Language's own error names (its Appendix A, and Step Functions' "Error names"). */
const STATES_ERRORS = [
  'States.ALL',
  'States.DataLimitExceeded',
  'States.ExceedToleratedFailureThreshold',
  'States.HeartbeatTimeout',
  'States.Http.Socket',
  'States.IntrinsicFailure',
  'States.ItemReaderFailed',
  'States.NoChoiceMatched',
  'States.ParameterPathFailure',
  'States.Permissions',
  'States.ResultPathMatchFailure',
  'States.ResultWriterFailed',
  'States.Runtime',
  'States.TaskFailed',
  'States.Timeout',
  'States.BranchFailed',
];

/**
 * Lambda's failures to run a function, as a Lambda task reports them (Step Functions guide, "Handle Lambda
 * service exceptions"), and StartExecution's errors as the states:startExecution integration reports them.
 */
const SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
  'StepFunctions.ExecutionAlreadyExistsException',
  'StepFunctions.ExecutionLimitExceededException',
  'StepFunctions.InvalidArnException',
  'StepFunctions.InvalidExecutionInputException',
  'StepFunctions.InvalidNameException',
  'StepFunctions.StateMachineDeletingException',
  'StepFunctions.StateMachineDoesNotExistException',
  'StepFunctions.SdkClientException',
  'StepFunctions.AWSStepFunctionsException',
];

type ErrorClass = new (...args: never[]) => Error;

/** Where the tasks' code lives: its ports, the workflows, and the adapters and bootstrap it runs on. */
const TASK_CODE = ['functions/ports.ts', 'functions/workflows', 'functions/adapters', 'functions/bootstrap'];

/** Every exported error class of the tasks' code, found by importing each module. */
async function errorClassesOfTheTasks(): Promise<Set<ErrorClass>> {
  const files = TASK_CODE.flatMap((p) =>
    p.endsWith('.ts') ? [p] : (readdirSync(join(ROOT, p), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(p, f)),
  );
  const classes = new Set<ErrorClass>();
  for (const file of files) {
    const module = (await import(join(ROOT, file))) as Record<string, unknown>;
    for (const value of Object.values(module))
      if (typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error) classes.add(value as ErrorClass);
  }
  return classes;
}

/** Where a task can throw an error: every step of every task function, or the named steps of some. */
type Where = 'every step' | Partial<Record<TaskFunctionName, readonly string[]>>;

/** The same step may succeed later: retried by a retrier that names it. */
const TRANSIENT: readonly { error: ErrorClass; where: Where; why: string }[] = [
  { error: ThrottledError, where: 'every step', why: 'EC2, ELBv2, Secrets Manager or a workload API refused for load (the adapters map their codes to it)' },
  { error: StoreUnavailableError, where: 'every step', why: "DynamoDB refused past the adapter's own retries" },
  { error: ConflictError, where: 'every step', why: 'a conditional write lost a race; the next attempt reads again' },
  {
    error: LeaseHeldError,
    where: { reconcile: ['reconcile'] },
    why: "another reconcile holds the cluster's lease (the stepping steps wait for it themselves)",
  },
  { error: InsufficientCapacityError, where: { provision: ['launch'] }, why: 'no capacity now for any instance type and zone the machine allows' },
  { error: InstanceNotFoundError, where: { provision: ['launch'] }, why: 'EC2 does not know an instance yet right after its launch' },
];

/** Can never succeed as it is: not retried by the steps, so the Catch takes it at once. */
const PERMANENT: readonly { error: ErrorClass; why: string }[] = [
  { error: InvalidSpecError, why: 'a request that can never succeed as it is (bad AMI, subnet, instance type, a missing Cluster)' },
  { error: QuotaExceededError, why: 'an account limit' },
  { error: ValidationError, why: 'the task input is not what the task needs: a bug' },
];

/** Raised by the startExecution integration (the local engine raises it by Step Functions' name). */
const ALREADY_STARTED: ErrorClass = ExecutionAlreadyExistsError;

/** Never reaches a state machine by its own name, or ends a step through States.TaskFailed and the Catch on purpose. */
const NOT_NAMED: readonly { error: ErrorClass; why: string }[] = [
  { error: StoreError, why: 'a base class' },
  { error: ProviderError, why: 'a base class, thrown alone for an answer EC2 should never give' },
  { error: WorkflowError, why: 'a base class' },
  { error: NotFoundError, why: 'caught where a write races a delete; anywhere else a bug' },
  { error: AlreadyExistsError, why: 'caught where a create races another' },
  { error: InvalidContinueTokenError, why: "the API's list paging: the tasks never pass a client's token" },
  { error: ExpiredContinueTokenError, why: "the API's list paging: the tasks never pass a client's token" },
  { error: ClusterNameChangeError, why: 'the tasks never move an object to another cluster' },
  {
    error: EtcdUnavailableError,
    why: 'a read that fails becomes a fact the planners wait on; a member removal that fails is an action error, repeated by the next reconcile',
  },
  { error: KubeadmObjectsUnavailableError, why: 'an UpdateKubeadmObjects action error, repeated by the next reconcile' },
  { error: InvalidKubeadmObjectError, why: 'an UpdateKubeadmObjects action error: reported, and repeated by the next reconcile' },
  { error: CorefileMigrationError, why: 'the kubeadm objects adapter leaves CoreDNS alone and says so (skipped)' },
  { error: EtcdApiError, why: "EtcdMembershipOverClient wraps etcd's refusals in EtcdUnavailableError (its cause)" },
  { error: EtcdConnectionError, why: 'an EtcdUnavailableError, handled as that' },
  { error: AddonApplierUnavailableError, why: 'recorded on the cluster binding (RemoteClusterClientFailed) and retried by the next reconcile' },
  { error: AddonApplyError, why: 'recorded on the cluster binding (ApplyFailed) and retried by the next reconcile' },
  { error: PayloadDigestError, why: 'recorded on the cluster binding as a resource that failed, and retried; the API refuses such a write' },
  { error: PayloadStoreError, why: 'recorded on the cluster binding as a resource that failed, and retried' },
  { error: PayloadMissingError, why: "the API's store only: the tasks read the references and record a missing payload on the binding" },
  { error: Ec2ServiceError, why: "named after EC2's own error code; the provider maps it to the ports' errors (adapters/aws/errors.ts)" },
  { error: Ec2TimeoutError, why: "the SDK's TimeoutError, as before: retried by the client, then reported as the SDK's was" },
  { error: NodeReaderUnavailableError, why: 'caught by reconcile and provision: the nodes are unknown and nothing is concluded from them' },
  { error: WorkloadTimeoutError, why: 'the node reader turns it into NodeReaderUnavailableError; the drainer reports the node not drained' },
  { error: WorkloadUnavailableError, why: 'the bootstrapper turns it into ThrottledError' },
  {
    error: KubernetesApiError,
    why: 'the workload adapters map it: NodeReaderUnavailableError, a drain not done yet, or WorkloadUnavailableError (then ThrottledError)',
  },
  { error: KubernetesTimeoutError, why: 'mapped by the workload adapters as KubernetesApiError is' },
  { error: PollLimitError, why: 'provision gives up on purpose: the Catch records the Machine Failed' },
  { error: InvalidCertificatesError, why: 'stored certificates in another format: a retry reads the same' },
  { error: UnsupportedVersionError, why: 'the bootstrapper turns it into InvalidSpecError' },
  { error: TokenRejectedError, why: "the kubectl door's token authorizer only (functions/handlers/token-authorizer.ts); no task verifies tokens" },
];

/** Error classes whose name is the service's error code, set per instance: no state machine names them. */
const NAMED_BY_THE_SERVICE: readonly ErrorClass[] = [Ec2ServiceError];

type Retrier = { ErrorEquals: string[]; MaxAttempts?: number };
type Catcher = { ErrorEquals: string[]; Next: string };
type State = {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Retry?: Retrier[];
  Catch?: Catcher[];
  Iterator?: { States: Record<string, State> };
  ItemProcessor?: { States: Record<string, State> };
};
type Located = { machine: string; name: string; state: State; siblings: Record<string, State> };

/** Every state of every committed definition, nested ones with the states of their own level. */
function allStates(): Located[] {
  const walk = (machine: string, states: Record<string, State>): Located[] =>
    Object.entries(states).flatMap(([name, state]) => [
      { machine, name, state, siblings: states },
      ...walk(machine, (state.Iterator ?? state.ItemProcessor)?.States ?? {}),
    ]);
  return STATE_MACHINES.flatMap(({ name }) => walk(name, (JSON.parse(readDefinitionText(name)) as { States: Record<string, State> }).States));
}

/** The task function and step a Task state runs, when it runs one (not a startExecution). */
function taskOf(state: State): { task: TaskFunctionName; step: string } | undefined {
  const placeholder = /^\$\{(\w+)\}$/.exec(state.Resource ?? '')?.[1];
  if (state.Type !== 'Task' || !placeholder || !(placeholder in TASK_FUNCTIONS)) return undefined;
  return { task: TASK_FUNCTIONS[placeholder as keyof typeof TASK_FUNCTIONS], step: String(state.Parameters?.['step']) };
}

/** The States Language's matching: the first entry naming the error, States.ALL, or States.TaskFailed (any but States.Timeout). */
function firstMatch<T extends { ErrorEquals: string[] }>(entries: readonly T[] | undefined, error: string): T | undefined {
  return (entries ?? []).find(
    (e) => e.ErrorEquals.includes(error) || e.ErrorEquals.includes('States.ALL') || (e.ErrorEquals.includes('States.TaskFailed') && error !== 'States.Timeout'),
  );
}

const covers = (where: Where, run: { task: TaskFunctionName; step: string }) => where === 'every step' || (where[run.task] ?? []).includes(run.step);

const TASK_ERROR_CLASSES = errorClassesOfTheTasks();
const STATES = allStates();
const TASK_STATES = STATES.flatMap((s) => {
  const run = taskOf(s.state);
  return run ? [{ ...s, run }] : [];
});
const START_STATES = STATES.filter((s) => s.state.Type === 'Task' && s.state.Resource === 'arn:aws:states:::states:startExecution');

describe('the error classes of the tasks', () => {
  it('are each decided: retried, refused, or never named by a state machine, with the reason', async () => {
    const found = await TASK_ERROR_CLASSES;
    const decided = [...TRANSIENT, ...PERMANENT, ...NOT_NAMED].map((d) => d.error).concat(ALREADY_STARTED);
    // A new error class must be put in one of the tables above; a class that went away must leave them.
    expect([...found].filter((c) => !decided.includes(c)).map((c) => c.name)).toEqual([]);
    expect(decided.filter((c) => !found.has(c)).map((c) => c.name)).toEqual([]);
    expect(new Set(decided).size).toBe(decided.length);
  });
});

describe.each(STATE_MACHINES.map(({ name }) => ({ name })))('$name', ({ name }) => {
  it("names in ErrorEquals only the States Language's errors, Lambda's and Step Functions' own, and the names of the tasks' error classes", async () => {
    const classNames = new Set([...(await TASK_ERROR_CLASSES)].filter((c) => !NAMED_BY_THE_SERVICE.includes(c)).map(errorName));
    const named = STATES.filter((s) => s.machine === name).flatMap((s) => [...(s.state.Retry ?? []), ...(s.state.Catch ?? [])].flatMap((r) => r.ErrorEquals));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((e) => !STATES_ERRORS.includes(e) && !SERVICE_ERRORS.includes(e) && !classNames.has(e))).toEqual([]);
  });
});

describe.each(TRANSIENT.map((t) => ({ ...t, name: errorName(t.error) })))('$name', ({ name, where }) => {
  it('is retried by a retrier that names it, in every state that runs a step that can throw it', () => {
    const states = TASK_STATES.filter((s) => covers(where, s.run));
    // Each step named in `where` exists somewhere, so the check below cannot pass on nothing.
    expect(states.length).toBeGreaterThan(0);
    if (where !== 'every step')
      for (const [task, steps] of Object.entries(where))
        for (const step of steps)
          expect(
            states.some((s) => s.run.task === task && s.run.step === step),
            `${task} ${step}`,
          ).toBe(true);
    for (const { machine, name: state, state: s } of states) {
      const retrier = firstMatch(s.Retry, name);
      expect(retrier?.ErrorEquals, `${machine} ${state}`).toContain(name);
      expect(retrier?.MaxAttempts, `${machine} ${state}`).toBeGreaterThan(0);
    }
  });
});

describe.each(PERMANENT.map((p) => ({ ...p, name: errorName(p.error) })))('$name', ({ name }) => {
  it('is not retried by any step: the Catch takes it at once', () => {
    const steps = TASK_STATES.filter((s) => s.run.step !== 'recordFailure');
    expect(steps.length).toBeGreaterThan(0);
    for (const { machine, name: state, state: s } of steps) {
      expect(firstMatch(s.Retry, name), `${machine} ${state}`).toMatchObject({ MaxAttempts: 0 });
      expect(firstMatch(s.Catch, name), `${machine} ${state}`).toBeDefined();
    }
  });
});

describe('a start under a name used before', () => {
  it('is not retried, and succeeds as the no-op it is, in every startExecution state', () => {
    const name = errorName(ALREADY_STARTED);
    expect(START_STATES.length).toBeGreaterThan(0);
    for (const { machine, name: state, state: s, siblings } of START_STATES) {
      expect(firstMatch(s.Retry, name), `${machine} ${state}`).toMatchObject({ MaxAttempts: 0 });
      const caught = firstMatch(s.Catch, name);
      expect(caught?.ErrorEquals, `${machine} ${state}`).toContain(name);
      expect(siblings[caught!.Next]?.Type, `${machine} ${state}`).toBe('Succeed');
    }
  });
});
