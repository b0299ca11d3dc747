/** Errors the workflow tasks throw; the state machines retry or catch them by `name`. */

export class WorkflowError extends Error {
  override name = 'WorkflowError';
}

/** Another reconcile of the cluster holds its lease; retried with jitter by the state machine. */
export class LeaseHeldError extends WorkflowError {
  override name = 'LeaseHeldError';
}

/** The task input is not what the state machine should send: a bug, never retried. */
export class ValidationError extends WorkflowError {
  override name = 'ValidationError';
}

/** A wait loop ran out of its bounded number of polls. */
export class PollLimitError extends WorkflowError {
  override name = 'PollLimitError';
}

export function requireString(input: Record<string, unknown>, key: string): string {
  const v = input[key];
  if (typeof v !== 'string' || v.length === 0) throw new ValidationError(`task input needs a non-empty string ${key}`);
  return v;
}

export function optionalNumber(input: Record<string, unknown>, key: string, fallback: number): number {
  const v = input[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(`task input ${key} must be a number`);
  return v;
}
