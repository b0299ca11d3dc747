/**
 * The CLI's failures, one class per exit code, so that scripts can tell "the API said no" from "you typed it
 * wrong" from "nothing answered". Each becomes one `error: <reason>` line on stderr.
 */

export const ExitCode = {
  ok: 0,
  /** The API refused the request, or the operation failed or timed out. */
  failed: 1,
  /** The command line or an input file is wrong; nothing was sent. */
  usage: 2,
  /** The server could not be reached. */
  unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.usage, options);
  }
}

export class UnreachableError extends CliError {
  override name = 'UnreachableError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.unreachable, options);
  }
}

/** A failure that is not the API's answer: a rollout that timed out, an object that vanished while waited on. */
export class OperationError extends CliError {
  override name = 'OperationError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.failed, options);
  }
}

/** The subset of a Kubernetes Status the CLI reads. */
export interface StatusBody {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { field?: string; message?: string; reason?: string }[] };
}

/** A non-2xx answer from the server; `status` is the Kubernetes Status when the server sent one. */
export class ApiRequestError extends CliError {
  override name = 'ApiRequestError';
  readonly httpStatus: number;
  readonly status: StatusBody | undefined;
  constructor(message: string, httpStatus: number, status: StatusBody | undefined) {
    super(message, ExitCode.failed);
    this.httpStatus = httpStatus;
    this.status = status;
  }
  get reason(): string | undefined {
    return this.status?.reason;
  }
}

/** What the user reads: the Status message, with the first cause's field when the message does not name it. */
export function statusMessage(status: StatusBody | undefined, fallback: string): string {
  const message = status?.message?.trim() || fallback;
  const first = status?.details?.causes?.[0];
  if (first?.field && !message.includes(first.field)) return `${message} (field ${first.field}${first.message ? `: ${first.message}` : ''})`;
  return message;
}

/** The single line printed for a failure: no newlines, so that `2>&1 | tail -1` always finds it. */
export function errorLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return `error: ${text.replace(/\s*\n\s*/g, ' ').trim()}`;
}

export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof CliError ? err.exitCode : ExitCode.failed;
}

/** A failure whose `error:` lines were printed as they happened; only the exit code is left to give. */
export class AlreadyReported extends CliError {
  override name = 'AlreadyReported';
  constructor(exitCode: ExitCode) {
    super('', exitCode);
  }
}
