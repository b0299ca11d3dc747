/**
 * The retry policies of the state machines, once. Errors the tasks throw are named by their class (Lambda
 * reports an error's `name` as its type, and the local engine does the same), so a renamed class cannot leave
 * a retrier behind that matches nothing; the names Step Functions and Lambda raise are theirs.
 */
import {
  ConflictError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidSpecError,
  QuotaExceededError,
  StoreUnavailableError,
  ThrottledError,
} from '../functions/ports.js';
import { LeaseHeldError, ValidationError } from '../functions/workflows/errors.js';
import type { Catcher, Retrier } from './asl.js';

type ErrorClass = new (...args: never[]) => Error;

/**
 * The `name` an error class gives its instances (the classes set it as a field, so only an instance has it).
 * Some constructors need an object key: every class gets one, and the message it makes does not matter here.
 */
export function errorName(errorClass: ErrorClass): string {
  const construct = errorClass as unknown as new (...args: unknown[]) => Error;
  return new construct({ kind: 'Machine', namespace: 'default', name: 'example' }, undefined).name;
}

const named = (...classes: ErrorClass[]): string[] => classes.map(errorName);

/**
 * Every retrier waits a random time up to its backoff (full jitter), and never more than its cap: the tasks of
 * one cluster that fail together (a throttled API, a lost write) must not retry together.
 */
export const JITTER = { BackoffRate: 2, JitterStrategy: 'FULL' } as const;

function backoff(errorEquals: readonly string[], intervalSeconds: number, maxAttempts: number, maxDelaySeconds: number): Retrier {
  return {
    ErrorEquals: errorEquals,
    IntervalSeconds: intervalSeconds,
    BackoffRate: JITTER.BackoffRate,
    MaxAttempts: maxAttempts,
    MaxDelaySeconds: maxDelaySeconds,
    JitterStrategy: JITTER.JitterStrategy,
  };
}

/** Lambda's own failures to run a function: the same invocation may work a moment later. */
export const LAMBDA_SERVICE_ERRORS = ['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'] as const;

/**
 * Errors a retry cannot cure: a request that can never succeed as it is, an account limit, a task input that is
 * not what the task needs (a bug). Not retried; the Catch records the failure.
 */
export const refusePermanent: Retrier = { ErrorEquals: named(InvalidSpecError, QuotaExceededError, ValidationError), MaxAttempts: 0 };

/** Refusals for load (the provider, the store, Lambda): retried with a long backoff. */
export const retryTransient = (maxAttempts = 6): Retrier =>
  backoff([...named(ThrottledError, StoreUnavailableError), ...LAMBDA_SERVICE_ERRORS], 2, maxAttempts, 60);

/**
 * A lost conditional write, or (for the tasks that take the cluster's lease and do not wait for it themselves)
 * the lease held by another reconcile: the next attempt reads again, soon.
 */
export const retryConflicts = (options: { retryLeaseHeld: boolean }): Retrier =>
  backoff(named(ConflictError, ...(options.retryLeaseHeld ? [LeaseHeldError] : [])), 1, 6, 15);

/** Any other failure of a task, a timeout included: a few tries, then the Catch. */
export const retryTaskFailed: Retrier = backoff(['States.TaskFailed', 'States.Timeout'], 2, 3, 30);

/** No capacity for any instance type and zone the machine allows: capacity comes back in minutes, not seconds. */
export const retryInsufficientCapacity: Retrier = backoff(named(InsufficientCapacityError), 30, 4, 300);

/** An instance EC2 does not know yet right after its launch (eventual consistency), or a lost write. */
export const retryInstanceNotFound: Retrier = backoff(named(InstanceNotFoundError, ConflictError), 2, 5, 20);

/**
 * The retriers of a Lambda task's state: those of its step, or those of the RecordFailure state its Catch leads
 * to (which retries everything but refuses nothing: the failure must be recorded).
 */
export function taskRetriers(options: { retryLeaseHeld: boolean; recordFailure?: boolean }): Retrier[] {
  return [
    ...(options.recordFailure ? [] : [refusePermanent]),
    retryTransient(),
    retryConflicts({ retryLeaseHeld: options.retryLeaseHeld }),
    retryTaskFailed,
  ];
}

/** Step Functions' answer to a start under a name already used (running or closed). */
export const EXECUTION_ALREADY_EXISTS = 'StepFunctions.ExecutionAlreadyExistsException';

/**
 * A start under a name used before is never retried: children and continuations are named deterministically,
 * so the name existing means the work was started already (functions/workflows/apply-plan.ts executionNames).
 */
export const refuseExecutionAlreadyExists: Retrier = { ErrorEquals: [EXECUTION_ALREADY_EXISTS], MaxAttempts: 0 };

/** Step Functions refusing a start for load or by its own fault. */
export const retryStartExecution: Retrier = backoff(
  ['StepFunctions.ExecutionLimitExceededException', 'StepFunctions.SdkClientException', 'StepFunctions.AWSStepFunctionsException', 'States.TaskFailed'],
  1,
  4,
  20,
);

/** A repeated start is a no-op: caught and sent on to `next`. */
export const catchExecutionAlreadyExists = (next: string): Catcher => ({ ErrorEquals: [EXECUTION_ALREADY_EXISTS], ResultPath: null, Next: next });
