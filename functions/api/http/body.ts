import { parseAllDocuments, stringify } from 'yaml';
import { jsonNestsDeeperThan, yamlMayNestDeeperThan } from './nesting.js';
import { badRequest, tooLarge, unsupportedMediaType } from './status.js';

/** The largest request body accepted, as DESIGN section 3 says (the local server enforces it while reading). */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * The limit for writes of ClusterResourceSets only: a CNI's manifests are hundreds of KB (Calico about 350 KB). Under
 * API Gateway's 10 MB and Lambda's 6 MB synchronous payload, with room for the event around the body and for the
 * JSON escaping of the answer, which carries the manifests back. Their store keeps the manifests as payloads.
 */
export const MAX_ADDON_BODY_BYTES = 4 * 1024 * 1024;

const ADDON_PATH = /^\/apis\/clusterless\.dev\/v1alpha1\/namespaces\/[^/]+\/clusterresourcesets(\/[^/]+)?$/;

/** The body limit of a request to `path` (as sent): larger for the ClusterResourceSet collection and objects, not their status. */
export function maxBodyBytesFor(path: string): number {
  return ADDON_PATH.test(path.split('?')[0]!) ? MAX_ADDON_BODY_BYTES : MAX_BODY_BYTES;
}

/** Aliases allowed in one YAML body: enough for real manifests, far too few for a "billion laughs" bomb. */
const MAX_YAML_ALIASES = 50;

export const JSON_TYPE = 'application/json';
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'] as const;
export const MERGE_PATCH_TYPE = 'application/merge-patch+json';
/** Server-side apply, as `kubectl apply --server-side` sends it: a YAML (or JSON) object, read by the service's apply. */
export const APPLY_PATCH_TYPE = 'application/apply-patch+yaml';

/** The media type without parameters, lower case: `application/json; charset=utf-8` -> `application/json`. */
export function mediaType(header: string | undefined): string | undefined {
  const t = header?.split(';')[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

export const isYaml = (type: string | undefined) => (YAML_TYPES as readonly string[]).includes(type ?? '');

export function checkSize(body: string, limit = MAX_BODY_BYTES): void {
  if (Buffer.byteLength(body, 'utf8') > limit) throw tooLarge(limit);
}

/**
 * The format of a create, replace, status replace, rollback or DELETE body: JSON, or YAML when the content type
 * says so. A body must say what it is: without a Content-Type it is refused (415) rather than sniffed, so that
 * a web page cannot post a form (or a bare fetch) at the API and have it read as JSON.
 */
export function objectBodyFormat(contentType: string | undefined): 'json' | 'yaml' {
  const type = mediaType(contentType);
  if (type === JSON_TYPE) return 'json';
  if (isYaml(type)) return 'yaml';
  throw unsupportedMediaType(type, [JSON_TYPE, ...YAML_TYPES]);
}

/** Parses the body of a create or replace (see objectBodyFormat). The result must be one object. */
export function parseObjectBody(body: string | undefined, contentType: string | undefined, limit = MAX_BODY_BYTES): Record<string, unknown> {
  return requireObject(objectBodyFormat(contentType) === 'yaml' ? parseYaml(body ?? '', limit) : parseJson(body ?? '', limit));
}

/** Deeper than any field of any kind: past it a body is refused before any recursive code walks it. */
export const MAX_NESTING_DEPTH = 64;

const tooDeep = () => badRequest(`the request body nests deeper than ${MAX_NESTING_DEPTH} levels`);

/**
 * Refuses what later code must never see: nesting deep enough to overflow the stack of a recursive walk
 * (validation, merge patch), and a "__proto__" key, which object copies by assignment drop or turn into a
 * prototype. Iterative, so it cannot overflow itself. The second line behind the scans of the text
 * (nesting.ts), which keep deep bodies from the parsers themselves.
 */
export function checkStructure(value: unknown): void {
  const stack: [unknown, number, string][] = [[value, 1, '']];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_NESTING_DEPTH) throw tooDeep();
    for (const [k, child] of Object.entries(v)) {
      if (k === '__proto__') throw badRequest(`the request body has a key "__proto__"${path ? ` in ${path}` : ''}, which no field is called`);
      stack.push([child, depth + 1, path ? `${path}.${k}` : k]);
    }
  }
}

export function parseJson(body: string, limit = MAX_BODY_BYTES): unknown {
  checkSize(body, limit);
  if (body.trim() === '') throw badRequest('the request body is empty; send one object');
  if (jsonNestsDeeperThan(body, MAX_NESTING_DEPTH)) throw tooDeep();
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
  checkStructure(value);
  return value;
}

export function parseYaml(body: string, limit = MAX_BODY_BYTES): unknown {
  checkSize(body, limit);
  if (body.trim() === '') throw badRequest('the request body is empty; send one object');
  // The scan counts a scalar after `key:` or `- ` as a level (it could have been a collection), so it allows
  // one level more; checkStructure then holds the exact limit. (Odd text may still count more: see nesting.ts.)
  if (yamlMayNestDeeperThan(body, MAX_NESTING_DEPTH + 1)) throw tooDeep();
  // core schema: YAML 1.2 types only, so `on`, `yes` and dates stay strings as Kubernetes reads them.
  const docs = parseAllDocuments(body, { schema: 'core', uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) throw badRequest('the request body holds no YAML document');
  if (docs.length !== 1) throw badRequest(`the request body holds ${docs.length} YAML documents; send one object per request`);
  const doc = docs[0]!;
  if (doc.errors.length > 0) throw badRequest(`the request body is not valid YAML: ${doc.errors[0]!.message}`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // The yaml package throws here on alias bombs ("Excessive alias count").
    throw badRequest(`the request body is not acceptable YAML: ${(e as Error).message}`);
  }
  checkStructure(value);
  return value;
}

export function requireObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw badRequest(`the request body must be an object, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  return value as Record<string, unknown>;
}

/** True when the client asked for YAML ahead of JSON in its Accept header. */
export function wantsYaml(accept: string | undefined): boolean {
  if (!accept) return false;
  for (const part of accept.split(',')) {
    const t = mediaType(part);
    if (isYaml(t)) return true;
    if (t === JSON_TYPE || t === '*/*' || t === 'application/*') return false;
  }
  return false;
}

/** `pretty`: JSON indented by two spaces, as kube-apiserver writes it for `?pretty=true` (YAML is always indented). */
export function serialize(value: unknown, yaml: boolean, pretty = false): { contentType: string; body: string } {
  return yaml
    ? { contentType: 'application/yaml', body: stringify(value) }
    : { contentType: JSON_TYPE, body: pretty ? `${JSON.stringify(value, null, 2)}\n` : JSON.stringify(value) };
}
