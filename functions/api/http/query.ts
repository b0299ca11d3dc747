/**
 * Query parameters, checked before anything is read or written.
 *
 * - `dryRun` on a write is `All` (the write is checked and answered, nothing is written) or a 422 as Kubernetes
 *   words it (ValidateDryRun): a client that asked for a dry run must never get a real write. A read ignores it.
 * - A write (POST, PUT, PATCH, DELETE) takes only the parameters it honours; any other is a 400 naming it,
 *   so that nothing a client asked for is silently dropped. These are what kubectl and client-go send:
 *   `fieldManager` (checked as Kubernetes checks it; managed fields are not recorded), `fieldValidation`
 *   (validation is always Strict: unknown and duplicate fields are refused whatever is asked) and `pretty`.
 * - A read keeps ignoring parameters it does not know, as kube-apiserver does: a read changes nothing, and
 *   proxies and caches add parameters of their own. Those it knows (selectors, limit, continue) are checked
 *   where they are used.
 * Learnt from kubernetes staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go
 * (ValidateFieldManager, ValidateFieldValidation) and apiserver/pkg/endpoints/handlers/rest.go.
 */
import { cause, type FieldCause } from '../kind.js';
import { ApiError, badRequest } from './status.js';

/** The options object Kubernetes names in an Invalid Status about a write's parameters. */
const OPTIONS_KIND: Record<string, string> = { POST: 'CreateOptions', PUT: 'UpdateOptions', PATCH: 'PatchOptions', DELETE: 'DeleteOptions' };

/** Parameters each write honours; DeleteOptions has neither a field manager nor field validation. */
const WRITE_PARAMETERS: Record<string, readonly string[]> = {
  POST: ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'],
  PUT: ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'],
  PATCH: ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'],
  DELETE: ['dryRun', 'pretty'],
};

/** Kubernetes' FieldManagerMaxLength: a length in bytes (Go's len), not characters. */
export const FIELD_MANAGER_MAX_BYTES = 128;

const FIELD_VALIDATION = ['Ignore', 'Warn', 'Strict'] as const;

/** Go's strconv.ParseBool, which Kubernetes reads query booleans (`pretty`, `watch`, `allowWatchBookmarks`) with. */
const BOOLEANS: Record<string, boolean> = {
  '1': true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false,
};

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const NOT_PRINTABLE = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

export interface QueryOptions {
  /** Indented JSON, as `?pretty=true` asks of kube-apiserver. */
  pretty: boolean;
  /** A write asked for a dry run (`?dryRun=All`): nothing may be written. */
  dryRun: boolean;
}

/** The one dry-run value Kubernetes knows (allowedDryRunValues). */
export const DRY_RUN_ALL = 'All';

/** The cause of a dryRun value other than All, worded as ValidateDryRun's field.NotSupported of the list sent. */
export function dryRunCause(values: readonly unknown[]): FieldCause {
  return { field: 'dryRun', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(values)}: supported values: "${DRY_RUN_ALL}"` };
}

/** Checks the query of a request whose method the route allows; throws the Status to answer. */
export function checkQuery(method: string, query: Readonly<Record<string, string | undefined>>): QueryOptions {
  const present = Object.keys(query).filter((k) => query[k] !== undefined);
  const allowed = WRITE_PARAMETERS[method];
  const dryRun = allowed !== undefined && query['dryRun'] !== undefined;
  if (allowed) {
    const unknown = present.filter((k) => !allowed.includes(k));
    if (unknown.length)
      throw badRequest(
        `the query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not supported on ${method}; this API takes ${allowed.join(', ')}`,
      );
    const causes = [
      ...(dryRun && query['dryRun'] !== DRY_RUN_ALL ? [dryRunCause([query['dryRun']])] : []),
      ...fieldManagerCauses(query['fieldManager']),
      ...fieldValidationCauses(query['fieldValidation']),
    ];
    if (causes.length) throw invalidOptions(OPTIONS_KIND[method]!, causes);
  }
  return { pretty: queryFlag(query, 'pretty') === true, dryRun };
}

/** A boolean query parameter as Go's strconv.ParseBool reads it; undefined when absent, a 400 when not a boolean. */
export function queryFlag(query: Readonly<Record<string, string | undefined>>, name: string): boolean | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (Object.hasOwn(BOOLEANS, v)) return BOOLEANS[v];
  throw badRequest(`the query parameter "${name}" must be true or false, not ${JSON.stringify(v)}`);
}

/**
 * Checks the query of a server-side apply (PATCH with application/apply-patch+yaml): a PATCH's parameters, a
 * fieldManager it must name (as Kubernetes requires for apply) and `force`, which kubectl always sends. Force is
 * accepted and changes nothing: without managed fields no manager's fields conflict with another's.
 */
export function checkApplyQuery(query: Readonly<Record<string, string | undefined>>): QueryOptions {
  const { force, ...rest } = query;
  if (force !== undefined && !(force in BOOLEANS)) throw badRequest(`the query parameter "force" must be true or false, not ${JSON.stringify(force)}`);
  const options = checkQuery('PATCH', rest);
  if (rest['fieldManager'] === undefined || rest['fieldManager'] === '')
    throw invalidOptions('PatchOptions', [cause.required('fieldManager', 'is required for apply patch')]);
  return options;
}

function fieldManagerCauses(value: string | undefined): FieldCause[] {
  if (value === undefined) return [];
  const causes: FieldCause[] = [];
  if (Buffer.byteLength(value, 'utf8') > FIELD_MANAGER_MAX_BYTES)
    causes.push(cause.tooLong('fieldManager', `may not be more than ${FIELD_MANAGER_MAX_BYTES} bytes`));
  const bad = NOT_PRINTABLE.exec(value);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    causes.push(cause.invalid('fieldManager', undefined, `invalid character U+${code} (at position ${bad.index})`));
  }
  return causes;
}

function fieldValidationCauses(value: string | undefined): FieldCause[] {
  if (value === undefined || value === '' || (FIELD_VALIDATION as readonly string[]).includes(value)) return [];
  return [cause.notSupported('fieldValidation', value, FIELD_VALIDATION)];
}

/** 422 about the options of a write, as Kubernetes words it: `CreateOptions.meta.k8s.io "" is invalid: ...`. */
export function invalidOptions(kind: string, causes: readonly FieldCause[]): ApiError {
  const statusCauses = causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field }));
  const list = statusCauses.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new ApiError('Invalid', `${kind}.meta.k8s.io "" is invalid: ${statusCauses.length > 1 ? `[${list}]` : list}`, {
    group: 'meta.k8s.io',
    kind,
    causes: statusCauses,
  });
}
