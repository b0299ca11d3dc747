import { describe, expect, it } from 'vitest';
import { KINDS } from '../../../functions/api/kinds.js';
import { kindJsonSchema, openApiDocument, type JsonSchema } from '../../../functions/api/openapi.js';
import { parseDeleteOptions } from '../../../functions/api/http/delete-options.js';
import { checkQuery } from '../../../functions/api/http/query.js';
import { created, full, minimal, withValue } from './fixtures.js';

const PREFIX = '/apis/clusterless.dev/v1alpha1';

/** Every node of a JSON document, with its JSON pointer. */
function* walk(node: unknown, pointer = ''): Generator<[string, unknown]> {
  yield [pointer, node];
  if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) yield* walk(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
}

function resolve(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node = doc as Record<string, unknown> | undefined;
  for (const part of ref.slice(2).split('/')) node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')] as Record<string, unknown> | undefined;
  return node;
}

/**
 * A small validator for the subset of JSON schema the generated schemas use, so that the tests can check
 * the schemas say what the API does. Returns the pointers of the values that break the schema.
 */
function violations(schema: JsonSchema, value: unknown, doc: unknown, at = ''): string[] {
  if (typeof schema['$ref'] === 'string') return violations(resolve(doc, schema['$ref']) as JsonSchema, value, doc, at);
  const out: string[] = [];
  const type = schema['type'];
  const anyOf = schema['anyOf'] as JsonSchema[] | undefined;
  if (anyOf && !anyOf.some((s) => violations(s, value, doc, at).length === 0)) out.push(`${at} (anyOf)`);
  const oneOf = schema['oneOf'] as JsonSchema[] | undefined;
  if (oneOf && oneOf.filter((s) => violations(s, value, doc, at).length === 0).length !== 1) out.push(`${at} (oneOf)`);
  const is: Record<string, (v: unknown) => boolean> = {
    object: (v) => !!v && typeof v === 'object' && !Array.isArray(v),
    array: Array.isArray,
    string: (v) => typeof v === 'string',
    integer: (v) => Number.isInteger(v),
    number: (v) => typeof v === 'number',
    boolean: (v) => typeof v === 'boolean',
  };
  if (typeof type === 'string' && !is[type]!(value)) return [...out, `${at} (type ${type})`];
  const e = schema['enum'] as unknown[] | undefined;
  if (e && !e.some((x) => JSON.stringify(x) === JSON.stringify(value))) out.push(`${at} (enum)`);
  if (typeof value === 'string') {
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value)) out.push(`${at} (pattern)`);
    if (typeof schema['minLength'] === 'number' && value.length < schema['minLength']) out.push(`${at} (minLength)`);
    if (typeof schema['maxLength'] === 'number' && value.length > schema['maxLength']) out.push(`${at} (maxLength)`);
  }
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) out.push(`${at} (minimum)`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) out.push(`${at} (maximum)`);
  }
  if (Array.isArray(value)) {
    if (typeof schema['minItems'] === 'number' && value.length < schema['minItems']) out.push(`${at} (minItems)`);
    if (typeof schema['maxItems'] === 'number' && value.length > schema['maxItems']) out.push(`${at} (maxItems)`);
    if (schema['items']) for (const [i, v] of value.entries()) out.push(...violations(schema['items'] as JsonSchema, v, doc, `${at}/${i}`));
  }
  if (is['object']!(value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
    for (const r of (schema['required'] as string[] | undefined) ?? []) if (!(r in obj)) out.push(`${at}/${r} (required)`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) out.push(...violations(props[k], v, doc, `${at}/${k}`));
      else if (schema['additionalProperties'] === false) out.push(`${at}/${k} (additionalProperties)`);
      else if (schema['additionalProperties'] && typeof schema['additionalProperties'] === 'object')
        out.push(...violations(schema['additionalProperties'] as JsonSchema, v, doc, `${at}/${k}`));
    }
  }
  return out;
}

const examples = [...KINDS.map((k) => minimal[k.kind as keyof typeof minimal]()), ...Object.values(full).map((f) => f())];

describe('openApiDocument', () => {
  const doc = openApiDocument();
  const paths = doc['paths'] as Record<string, Record<string, unknown>>;

  it('is an OpenAPI 3.0 document', () => {
    expect(doc['openapi']).toMatch(/^3\.0\.\d$/);
    expect(doc['info']).toMatchObject({ title: 'clusterless', version: 'v1alpha1' });
  });

  it.each(KINDS.map((k) => ({ kind: k.kind, plural: k.plural })))('$kind: every path and verb of DESIGN section 3 is there', ({ kind, plural }) => {
    const collection = `${PREFIX}/namespaces/{namespace}/${plural}`;
    expect(Object.keys(paths[`${PREFIX}/${plural}`] ?? {})).toEqual(['get']);
    expect(Object.keys(paths[collection] ?? {}).sort()).toEqual(['get', 'parameters', 'post']);
    expect(Object.keys(paths[`${collection}/{name}`] ?? {}).sort()).toEqual(['delete', 'get', 'parameters', 'patch', 'put']);
    expect(Object.keys(paths[`${collection}/{name}/status`] ?? {}).sort()).toEqual(['get', 'parameters', 'patch', 'put']);
    expect((paths[collection]!['post'] as { operationId: string }).operationId).toBe(`create${kind}`);
  });

  it('has the rollback verb for MachineDeployments only', () => {
    const rollbacks = Object.keys(paths).filter((p) => p.endsWith('/rollback'));
    expect(rollbacks).toEqual([`${PREFIX}/namespaces/{namespace}/machinedeployments/{name}/rollback`]);
    const body = (paths[rollbacks[0]!]!['post'] as { requestBody: { content: Record<string, { schema: JsonSchema }> } }).requestBody;
    const schema = body.content['application/json']!.schema;
    expect(violations(schema, { toRevision: 2 }, doc)).toEqual([]);
    expect(violations(schema, { toRevision: -1 }, doc)).not.toEqual([]);
    expect(violations(schema, { revision: 2 }, doc)).not.toEqual([]);
  });

  it.each(KINDS.map((k) => ({ kind: k.kind, plural: k.plural })))(
    '$kind: lists take limit and continue, writes fieldManager, fieldValidation and pretty',
    ({ plural }) => {
      const names = (op: unknown) => ((op as { parameters?: { $ref: string }[] }).parameters ?? []).map((x) => x.$ref.split('/').pop());
      const collection = `${PREFIX}/namespaces/{namespace}/${plural}`;
      for (const list of [paths[`${PREFIX}/${plural}`]!['get'], paths[collection]!['get']]) {
        expect(names(list)).toEqual(expect.arrayContaining(['labelSelector', 'fieldSelector', 'limit', 'continue']));
        expect(Object.keys((list as { responses: object }).responses)).toContain('410');
      }
      for (const write of [paths[collection]!['post'], paths[`${collection}/{name}`]!['put'], paths[`${collection}/{name}`]!['patch']])
        expect(names(write)).toEqual(['dryRun', 'fieldManager', 'fieldValidation', 'pretty']);
    },
  );

  it.each([
    { name: 'the kubectl form', body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } },
    { name: 'foreground with meta.k8s.io/v1', body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Foreground' } },
    { name: 'preconditions and a grace period', body: { preconditions: { uid: 'u', resourceVersion: '3' }, gracePeriodSeconds: 30 } },
    { name: 'an empty dryRun and orphanDependents false', body: { dryRun: [], orphanDependents: false } },
    { name: 'a dry run', body: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] } },
    { name: 'Orphan', body: { propagationPolicy: 'Orphan' } },
    { name: 'orphanDependents true', body: { orphanDependents: true } },
    { name: 'an unknown key', body: { force: true } },
    { name: 'an unknown precondition', body: { preconditions: { generation: '1' } } },
    { name: 'another API version', body: { apiVersion: 'apps/v1' } },
  ])('the DeleteOptions schema takes a body exactly when DELETE does: $name', ({ body }) => {
    const op = paths[`${PREFIX}/namespaces/{namespace}/clusters/{name}`]!['delete'] as { requestBody: { content: Record<string, { schema: JsonSchema }> } };
    const schemaAccepts = violations(op.requestBody.content['application/json']!.schema, body, doc).length === 0;
    let routerAccepts = true;
    try {
      parseDeleteOptions(body);
    } catch {
      routerAccepts = false;
    }
    expect(schemaAccepts).toBe(routerAccepts);
  });

  it('says DELETE takes no query parameter but dryRun and pretty', () => {
    const op = paths[`${PREFIX}/namespaces/{namespace}/clusters/{name}`]!['delete'] as { parameters: { $ref: string }[] };
    expect(op.parameters.map((x) => x.$ref.split('/').pop())).toEqual(['dryRun', 'pretty']);
    const pretty = (doc['components'] as { parameters: Record<string, { description: string }> }).parameters['pretty']!;
    expect(pretty.description).toMatch(/DELETE none but dryRun and pretty/);
    expect(() => checkQuery('DELETE', { fieldManager: 'me' })).toThrow(/not supported on DELETE; this API takes dryRun, pretty$/);
  });

  it('has /openapi/v3, /healthz and discovery', () => {
    for (const p of ['/openapi/v3', '/healthz', '/apis', '/apis/clusterless.dev', PREFIX]) expect(paths[p]?.['get'], p).toBeDefined();
  });

  it('resolves every $ref', () => {
    const refs = [...walk(doc)].filter(([p]) => p.endsWith('/$ref')).map(([, v]) => v as string);
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of new Set(refs)) expect(resolve(doc, ref), ref).toBeDefined();
  });

  it('has no JSON schema keywords that OpenAPI 3.0 lacks', () => {
    const bad = [...walk(doc)].filter(([p]) => /\/(\$id|\$schema|\$defs|const|propertyNames)$/.test(p));
    expect(bad.map(([p]) => p)).toEqual([]);
  });

  it('describes errors as Kubernetes Status objects', () => {
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'Invalid',
      code: 422,
      details: { causes: [{ field: 'spec', reason: 'FieldValueRequired', message: 'Required value' }] },
    };
    expect(violations(ref('Status'), status, doc)).toEqual([]);
    expect(violations(ref('Status'), { ...status, reason: 'Teapot' }, doc)).not.toEqual([]);
    const create = (paths[`${PREFIX}/namespaces/{namespace}/clusters`]!['post'] as { responses: Record<string, unknown> }).responses;
    expect(Object.keys(create).sort()).toEqual(['201', '400', '404', '409', '413', '415', '422', '500']);
  });

  it.each(examples.map((e) => ({ kind: e['kind'] as string, name: (e['metadata'] as { name: string }).name, e })))(
    '$kind $name: what the API returns fits the schema',
    ({ kind, e }) => {
      expect(violations(ref(kind), created(e), doc)).toEqual([]);
    },
  );

  it.each(examples.map((e) => ({ kind: e['kind'] as string, name: (e['metadata'] as { name: string }).name, e })))(
    '$kind $name: what a user writes fits the schema',
    ({ kind, e }) => {
      expect(violations(ref(kind), e, doc)).toEqual([]);
    },
  );

  it.each([
    { name: 'an unknown field', body: withValue(minimal.Cluster(), 'spec.extra', 1) },
    { name: 'a bad name', body: withValue(minimal.Cluster(), 'metadata.name', 'Bad') },
    { name: 'a bad version', body: withValue(minimal.Machine(), 'spec.version', '1.31') },
    { name: 'a negative replica count', body: withValue(minimal.MachineDeployment(), 'spec.replicas', -1) },
    { name: 'a bad maxSurge', body: withValue(minimal.MachineDeployment(), 'spec.strategy', { rollingUpdate: { maxSurge: '150%' } }) },
    { name: 'no spec', body: withValue(minimal.MachineSet(), 'spec', undefined) },
  ])('refuses $name, as the API does', ({ body }) => {
    expect(violations(ref(body['kind'] as string), body, doc)).not.toEqual([]);
  });

  it('lists every kind', () => {
    const list = { apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineList', metadata: {}, items: [created(minimal.Machine())] };
    expect(violations(ref('MachineList'), list, doc)).toEqual([]);
  });

  it('returns a fresh copy each time', () => {
    const a = openApiDocument();
    (a['paths'] as Record<string, unknown>)['/healthz'] = 'changed';
    expect(openApiDocument()['paths']).toEqual(paths);
  });
});

function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

describe('kindJsonSchema (for CRDs)', () => {
  it.each(KINDS.map((k) => k.kind))('%s: is structural', (kind) => {
    const schema = kindJsonSchema(kind);
    const nodes = [...walk(schema)];
    // No references, no strict objects, no keywords a CRD refuses.
    expect(nodes.filter(([p]) => /\/(\$ref|\$id|\$schema|\$defs|const|propertyNames|oneOf|allOf|not|nullable)$/.test(p)).map(([p]) => p)).toEqual([]);
    expect(nodes.filter(([p, v]) => p.endsWith('/additionalProperties') && v === false).map(([p]) => p)).toEqual([]);
    // Every field has a type, except int-or-string ones, which say so.
    for (const [p, v] of nodes) {
      if (!/\/(properties\/[^/]+|items|additionalProperties)$/.test(p) || typeof v !== 'object') continue;
      const s = v as JsonSchema;
      if (s['x-kubernetes-int-or-string'] === true) expect(s['anyOf'], p).toBeDefined();
      // Free-form JSON (variable values and schemas, patch values) is kept whole, as Cluster API's JSON fields are.
      else if (s['x-kubernetes-preserve-unknown-fields'] === true) expect(p).toMatch(/\/(value|openAPIV3Schema)$/);
      else expect(s['type'], p).toBeTypeOf('string');
    }
    // anyOf only in int-or-string nodes.
    for (const [p] of nodes.filter(([p]) => p.endsWith('/anyOf')))
      expect(resolve({ root: schema }, `#/root${p.slice(0, -'/anyOf'.length)}`), p).toMatchObject({ 'x-kubernetes-int-or-string': true });
  });

  it.each(KINDS.map((k) => k.kind))('%s: leaves metadata to the API server and requires spec', (kind) => {
    const schema = kindJsonSchema(kind);
    expect(schema).toMatchObject({ type: 'object', properties: { metadata: { type: 'object' } }, required: ['spec'] });
    expect(Object.keys((schema['properties'] as JsonSchema)['metadata'] as object)).toEqual(['type']);
    expect(schema['description']).toBeTypeOf('string');
  });

  it('marks maxSurge and maxUnavailable as int-or-string and keeps their defaults', () => {
    const s = kindJsonSchema('MachineDeployment');
    const ru = resolve({ s }, '#/s/properties/spec/properties/strategy/properties/rollingUpdate/properties') as Record<string, JsonSchema>;
    expect(ru['maxSurge']).toMatchObject({ 'x-kubernetes-int-or-string': true, default: 1 });
    expect(ru['maxUnavailable']).toMatchObject({ 'x-kubernetes-int-or-string': true, default: 0 });
    expect(resolve({ s }, '#/s/properties/spec/properties/revisionHistoryLimit')).toMatchObject({ type: 'integer', default: 10, minimum: 0 });
  });

  it('writes integer enums as integers', () => {
    const s = kindJsonSchema('ControlPlane');
    expect(resolve({ s }, '#/s/properties/spec/properties/rollout/properties/maxSurge')).toMatchObject({ type: 'integer', enum: [0, 1], default: 1 });
  });

  it.each(examples.map((e) => ({ kind: e['kind'] as string, name: (e['metadata'] as { name: string }).name, e })))(
    '$kind $name: the stored object fits',
    ({ kind, e }) => {
      const schema = kindJsonSchema(kind);
      expect(violations(schema, created(e), schema)).toEqual([]);
    },
  );

  it.each(KINDS.filter((k) => k.scale).map((k) => ({ kind: k.kind, scale: k.scale! })))(
    '$kind: the scale subresource paths exist in the schema',
    ({ kind, scale }) => {
      const schema = kindJsonSchema(kind);
      for (const path of [scale.specReplicasPath, scale.statusReplicasPath, scale.labelSelectorPath!]) {
        const pointer = path
          .split('.')
          .slice(1)
          .map((p) => `properties/${p}`)
          .join('/');
        expect(resolve({ schema }, `#/schema/${pointer}`), path).toHaveProperty('type');
      }
    },
  );

  it('refuses an unknown kind', () => {
    expect(() => kindJsonSchema('Pod')).toThrow(/unknown kind/);
  });
});
