import { GROUP } from '../common.js';
import type { FieldCause } from '../kind.js';

/** Kubernetes' StatusReason values this API returns. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'InternalError'
  | 'ServiceUnavailable';

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  /** The Kind for Invalid, the resource (plural) for NotFound, AlreadyExists and Conflict, as Kubernetes has it. */
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** metav1.Status: the body of every error and of a DELETE that removed the object. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  code: number;
  details?: StatusDetails;
}

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
  ServiceUnavailable: 503,
};

/** A refusal that the router turns into a Status response; thrown anywhere below the router. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: Status;
  constructor(reason: StatusReason, message: string, details?: StatusDetails, options?: ErrorOptions) {
    super(message, options);
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code: CODES[reason],
      ...(details ? { details } : {}),
    };
  }
  get code(): number {
    return this.status.code;
  }
}

/** `machinedeployments.clusterless.dev`, the way Kubernetes names a resource in messages. */
export const qualified = (plural: string) => `${plural}.${GROUP}`;

export const badRequest = (message: string) => new ApiError('BadRequest', message);

export const notFound = (plural: string, name: string) =>
  new ApiError('NotFound', `${qualified(plural)} "${name}" not found`, { name, group: GROUP, kind: plural });

export const alreadyExists = (plural: string, name: string) =>
  new ApiError('AlreadyExists', `${qualified(plural)} "${name}" already exists`, { name, group: GROUP, kind: plural });

/** The message names the current resourceVersion, so that a user sees what to re-read. */
export const conflict = (plural: string, name: string, currentResourceVersion: string | undefined) =>
  new ApiError(
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(plural)} "${name}": the object has been modified; please apply your changes to the latest version and try again` +
      (currentResourceVersion ? ` (current resourceVersion is ${currentResourceVersion})` : ' (the object no longer exists)'),
    { name, group: GROUP, kind: plural },
  );

export function invalid(kind: string, name: string, causes: readonly FieldCause[]): ApiError {
  const statusCauses = causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field }));
  const parts = statusCauses.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError('Invalid', `${kind}.${GROUP} "${name}" is invalid: ${list}`, {
    name,
    group: GROUP,
    kind,
    causes: statusCauses,
  });
}

export const methodNotAllowed = (method: string, path: string) => new ApiError('MethodNotAllowed', `the server does not allow the method ${method} on ${path}`);

/** `contentType` undefined: the request named none (a body must say what it is; nothing is sniffed). */
export const unsupportedMediaType = (contentType: string | undefined, supported: readonly string[]) =>
  new ApiError(
    'UnsupportedMediaType',
    contentType === undefined
      ? `the request has no Content-Type; send its body as one of: ${supported.join(', ')}`
      : `the body of the request was in an unknown format ("${contentType}"); accepted media types include: ${supported.join(', ')}`,
  );

export const tooLarge = (limitBytes: number) => new ApiError('RequestEntityTooLarge', `the request body is too large: the limit is ${limitBytes} bytes`);

export const internalError = () => new ApiError('InternalError', 'an internal error occurred; the request was not completed');

export const unavailable = () => new ApiError('ServiceUnavailable', 'the store is busy; retry the request shortly', { retryAfterSeconds: 1 });

export function successStatus(plural: string, name: string, uid: string | undefined): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    code: 200,
    details: { name, group: GROUP, kind: plural, ...(uid ? { uid } : {}) },
  };
}
