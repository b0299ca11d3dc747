/**
 * The DeleteOptions body of a DELETE, as kubectl and client-go send it:
 * `{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"],"propagationPolicy":"Background",...}`.
 * Every key is either honoured or refused; none is dropped silently, above all not dryRun, which kubectl puts
 * in the body (`kubectl delete --dry-run=server`) rather than the query.
 * Learnt from kubernetes staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go (DeleteOptions) and
 * .../meta/v1/validation/validation.go (ValidateDeleteOptions).
 */
import { cause, type FieldCause } from '../kind.js';
import { isPlainObject } from './merge-patch.js';
import { DRY_RUN_ALL, dryRunCause, invalidOptions } from './query.js';
import { ApiError } from './status.js';

export interface DeleteOptions {
  /** The object is deleted only if it still has this uid and resourceVersion. */
  preconditions: { uid?: string; resourceVersion?: string };
  /** `dryRun: ["All"]`: the delete is checked and answered, nothing is deleted. */
  dryRun: boolean;
}

const KNOWN = ['kind', 'apiVersion', 'preconditions', 'propagationPolicy', 'orphanDependents', 'gracePeriodSeconds', 'dryRun'] as const;
const API_VERSIONS = ['v1', 'meta.k8s.io/v1'] as const;
/** Both cascade here: what a deleted object owns is always torn down with it. */
const PROPAGATION = ['Foreground', 'Background'] as const;

/** A value of the wrong type: Kubernetes' decoder refuses these with 400 before any validation. */
const wrongType = (field: string, expected: string) =>
  new ApiError('BadRequest', `DeleteOptions.${field} must be ${expected}`, {
    group: 'meta.k8s.io',
    kind: 'DeleteOptions',
    causes: [{ reason: 'FieldValueInvalid', message: `must be ${expected}`, field }],
  });

const absent = (v: unknown) => v === undefined || v === null;

/** Reads a DELETE's body (already parsed; {} when there is none); throws the Status to answer. */
export function parseDeleteOptions(body: Record<string, unknown>): DeleteOptions {
  // A dry run first: a list of strings, each of them All (ValidateDryRun); anything else is refused before
  // anything is read, so that a dry run misspelt is never carried out for real.
  const dryRun = body['dryRun'];
  if (!absent(dryRun) && !(Array.isArray(dryRun) && dryRun.every((v) => typeof v === 'string'))) throw wrongType('dryRun', 'a list of strings');
  const dryRunValues = absent(dryRun) ? [] : (dryRun as string[]);
  if (dryRunValues.some((v) => v !== DRY_RUN_ALL)) throw invalidOptions('DeleteOptions', [dryRunCause(dryRunValues)]);

  const { kind, apiVersion } = body;
  if (!absent(kind) && kind !== 'DeleteOptions') throw wrongType('kind', '"DeleteOptions"');
  if (!absent(apiVersion) && !(API_VERSIONS as readonly unknown[]).includes(apiVersion))
    throw wrongType('apiVersion', API_VERSIONS.map((v) => JSON.stringify(v)).join(' or '));

  const preconditions = readPreconditions(body['preconditions']);

  const causes: FieldCause[] = Object.keys(body)
    .filter((k) => !(KNOWN as readonly string[]).includes(k))
    .map((k) => cause.unknownField(k));

  const policy = body['propagationPolicy'];
  if (!absent(policy) && typeof policy !== 'string') throw wrongType('propagationPolicy', 'a string');
  if (policy === 'Orphan')
    causes.push(
      cause.forbidden('propagationPolicy', 'orphaning is not supported: deleting an object always deletes what it owns; use Background or Foreground'),
    );
  else if (typeof policy === 'string' && !(PROPAGATION as readonly string[]).includes(policy))
    causes.push(cause.notSupported('propagationPolicy', policy, PROPAGATION));

  const orphan = body['orphanDependents'];
  if (!absent(orphan) && typeof orphan !== 'boolean') throw wrongType('orphanDependents', 'a boolean');
  if (orphan === true) causes.push(cause.forbidden('orphanDependents', 'orphaning is not supported: deleting an object always deletes what it owns'));
  // As ValidateDeleteOptions: the deprecated flag and its replacement together are ambiguous, even when they agree.
  if (!absent(orphan) && !absent(policy)) causes.push(cause.invalid('propagationPolicy', policy, 'orphanDependents and propagationPolicy cannot both be set'));

  // Accepted and ignored: an object here goes when its teardown (finalizers) ends, never after a grace period.
  const grace = body['gracePeriodSeconds'];
  if (!absent(grace) && !(typeof grace === 'number' && Number.isSafeInteger(grace))) throw wrongType('gracePeriodSeconds', 'a whole number');

  if (causes.length) throw invalidOptions('DeleteOptions', causes);
  return { preconditions, dryRun: dryRunValues.length > 0 };
}

function readPreconditions(pre: unknown): DeleteOptions['preconditions'] {
  if (absent(pre)) return {};
  if (!isPlainObject(pre)) throw wrongType('preconditions', 'an object');
  const out: DeleteOptions['preconditions'] = {};
  const unknown = Object.keys(pre).filter((k) => k !== 'uid' && k !== 'resourceVersion');
  if (unknown.length)
    throw invalidOptions(
      'DeleteOptions',
      unknown.map((k) => cause.unknownField(`preconditions.${k}`)),
    );
  for (const f of ['uid', 'resourceVersion'] as const) {
    const v = pre[f];
    if (absent(v)) continue;
    if (typeof v !== 'string') throw wrongType(`preconditions.${f}`, 'a string');
    out[f] = v;
  }
  return out;
}
