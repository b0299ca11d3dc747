/**
 * fast-check arbitraries for fuzzing the HTTP API: objects generated from each kind's JSON schema (which is
 * generated from its zod schema), valid objects with a few mutations, hostile values (control characters,
 * huge strings, numbers out of range, prototype keys, wrong types) and hostile bodies (deep nesting, YAML
 * alias bombs, duplicate keys, scalars, several documents), plus the requests that carry them.
 */
import fc from 'fast-check';
import { KINDS } from '../../functions/api/kinds.js';
import { kindJsonSchema, type JsonSchema } from '../../functions/api/openapi.js';
import { clusterManifests } from '../../soak/manifests.js';

export const API_VERSION = 'clusterless.dev/v1alpha1';
export const NS = 'fuzz';
export const PREFIX = `/apis/clusterless.dev/v1alpha1/namespaces/${NS}`;

// --- values ------------------------------------------------------------------------------------------------

const controlChars = fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 1, maxLength: 8 }).map((cs) => String.fromCharCode(...cs));

/** Strings a parser or a validator may choke on. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  controlChars,
  fc.constantFrom('', ' ', '\u0000', '\u202e', '\ufeff', '\ud800', '\udfff', 'a\u0000b', '💥'.repeat(40), '%00', '../..', '\\', '"', "'", '${x}', '{{x}}'),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e309', '-0', '0x10', '9007199254740993', 'true', 'null', '[]', '{}'),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 64, max: 70_000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 1, max: 300 }).map((n) => 'a.'.repeat(n) + 'b'),
);

/** Numbers out of every range a field has. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(-0, -1, 0.5, -1e308, 1e308, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER - 2, 2 ** 31, -(2 ** 31) - 1, 1e-320),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Any value of the wrong type, nested a little. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.constantFrom(null, true, false, [], {}, [null], { '': '' }, { toString: 'x' }, { valueOf: 1, toString: 1 }),
  fc.array(fc.oneof(hostileString, hostileNumber), { maxLength: 4 }),
  fc.dictionary(hostileString, fc.oneof(hostileString, hostileNumber), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);

// --- objects from the JSON schemas ---------------------------------------------------------------------------

const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);

/** A value for a JSON schema (the structural schema of the CRDs), small and mostly valid. */
export function fromSchema(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 8) return fc.constant({});
  const anyOf = (schema['anyOf'] ?? schema['oneOf']) as JsonSchema[] | undefined;
  if (anyOf) return fc.oneof(...anyOf.map((s) => fromSchema(s, depth + 1)));
  const enumValues = schema['enum'] as unknown[] | undefined;
  if (enumValues?.length) return fc.constantFrom(...enumValues);
  switch (schema['type']) {
    case 'string': {
      const max = Math.min(Number(schema['maxLength'] ?? 40), 80);
      const pattern = schema['pattern'] as string | undefined;
      if (pattern) {
        try {
          return fc.stringMatching(new RegExp(pattern)).filter((s) => s.length <= max);
        } catch {
          // A pattern JavaScript cannot read: any short string.
        }
      }
      return fc.string({ minLength: Number(schema['minLength'] ?? 0), maxLength: max });
    }
    case 'integer':
      return fc.integer({ min: Number(schema['minimum'] ?? -5), max: Number(schema['maximum'] ?? 20) });
    case 'number':
      return fc.double({ min: Number(schema['minimum'] ?? -5), max: Number(schema['maximum'] ?? 20), noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fromSchema((schema['items'] as JsonSchema) ?? {}, depth + 1), { maxLength: 3 });
    case 'object': {
      const props = schema['properties'] as Record<string, JsonSchema> | undefined;
      if (props) {
        const required = new Set((schema['required'] as string[] | undefined) ?? []);
        const model: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, s] of Object.entries(props)) model[k] = fromSchema(s, depth + 1);
        return fc.record(model, { requiredKeys: [...required].filter((k) => k in model) });
      }
      const additional = schema['additionalProperties'];
      if (additional && typeof additional === 'object') return fc.dictionary(dnsLabel, fromSchema(additional as JsonSchema, depth + 1), { maxKeys: 3 });
      return fc.constant({});
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const metadata = fc.record(
  {
    name: fc.oneof(dnsLabel, fc.constantFrom('c1', 'c1-md', 'c1-cp', 'c1-class')),
    namespace: fc.constant(NS),
    labels: fc.dictionary(fc.stringMatching(/^[a-z]([-a-z0-9.]{0,8}[a-z0-9])?$/), fc.stringMatching(/^[a-z0-9]{0,8}$/), { maxKeys: 3 }),
    annotations: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 20 }), { maxKeys: 2 }),
    resourceVersion: fc.constantFrom('1', '0', '99999999999999999999', 'x'),
    finalizers: fc.array(fc.constantFrom('clusterless.dev/cluster', 'example.com/keep'), { maxLength: 2 }),
  },
  { requiredKeys: ['name'] },
);

/** A whole object of one kind, generated from its schema. */
export const schemaObject: fc.Arbitrary<{ plural: string; object: Record<string, unknown> }> = fc.oneof(
  ...KINDS.map((def) => {
    const schema = kindJsonSchema(def);
    const spec = fromSchema(((schema['properties'] as Record<string, JsonSchema>)['spec'] ?? {}) as JsonSchema);
    const status = fromSchema(((schema['properties'] as Record<string, JsonSchema>)['status'] ?? { type: 'object' }) as JsonSchema);
    return fc.record({ metadata, spec, status: fc.option(status, { nil: undefined }) }).map(({ metadata: m, spec: s, status: st }) => ({
      plural: def.plural,
      object: { apiVersion: API_VERSION, kind: def.kind, metadata: m, spec: s, ...(st !== undefined ? { status: st } : {}) },
    }));
  }),
);

// --- valid objects, mutated ------------------------------------------------------------------------------------

/** The objects of one valid cluster, as a user would apply them (name c1). */
export function validObjects(): { plural: string; object: Record<string, unknown> }[] {
  return clusterManifests({
    name: 'c1',
    controlPlaneReplicas: 3,
    workers: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    maxUnhealthy: '40%',
  }).map((m) => ({
    plural: m.plural,
    object: { ...m.object, metadata: { ...(m.object['metadata'] as object), namespace: NS } },
  }));
}

/** Every path into a JSON value (objects and arrays), the root excluded. */
function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(value))
    for (const [i, v] of value.entries()) {
      out.push([...prefix, i]);
      pathsOf(v, [...prefix, i], out);
    }
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      pathsOf(v, [...prefix, k], out);
    }
  return out;
}

type Mutation = { kind: 'set'; value: unknown } | { kind: 'delete' } | { kind: 'add'; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const) }),
  fc.record({ kind: fc.constant('add' as const), key: hostileString, value: hostileValue }),
);

function applyMutation(root: unknown, path: (string | number)[], m: Mutation): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (m.kind === 'set') parent[last] = m.value;
  else if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (target && typeof target === 'object' && !Array.isArray(target))
      Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    else parent[last] = m.value;
  }
  return copy;
}

/** A valid object with one to three mutations at random paths. */
export const mutatedObject: fc.Arbitrary<{ plural: string; object: unknown }> = fc
  .record({ index: fc.nat(), mutations: fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 3 }) })
  .map(({ index, mutations }) => {
    const all = validObjects();
    const base = all[index % all.length]!;
    let object: unknown = base.object;
    for (const [at, m] of mutations) {
      const paths = pathsOf(object);
      if (paths.length === 0) break;
      object = applyMutation(object, paths[at % paths.length]!, m);
    }
    return { plural: base.plural, object };
  });

// --- hostile bodies ---------------------------------------------------------------------------------------------

export function nestedJson(depth: number, open = '[', close = ']', inner = ''): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** YAML anchors and aliases, each level 9 times the one below: "billion laughs". */
export function yamlBomb(levels: number): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `apiVersion: ${API_VERSION}\nkind: MachineClass\nmetadata: {name: bomb}\nspec:\n  sim: {}\n${lines.join('\n')}\n`;
}

/** Depths from harmless to far past any stack: fast-check alone would seldom pick the deep ones. */
const nestingDepth = fc.oneof(fc.integer({ min: 2, max: 200 }), fc.constantFrom(1_000, 10_000, 30_000));

/** Bodies as raw text, with the content type they claim (which may be a lie). */
export const hostileBody: fc.Arbitrary<{ body: string; contentType: string | undefined }> = fc.oneof(
  // Deep nesting inside an object the API reads (not at the top, where "not an object" refuses it early).
  fc.record({
    body: nestingDepth.map((d) => `{"apiVersion":"${API_VERSION}","kind":"Cluster","metadata":{"name":"deep"},"spec":${nestedJson(d, '{"a":', '}', '1')}}`),
    contentType: fc.constantFrom('application/json', 'application/merge-patch+json'),
  }),
  fc.record({
    body: fc.oneof(
      nestingDepth.map((d) => nestedJson(d)),
      nestingDepth.map((d) => `{"apiVersion":"${API_VERSION}","kind":"Cluster","metadata":{"name":"deep"},"spec":${nestedJson(d, '{"a":', '}', '1')}}`),
      fc.constantFrom(
        '{"a":1,"a":2}',
        `{"apiVersion":"${API_VERSION}","kind":"Cluster","kind":"Machine","metadata":{"name":"dup"},"spec":{}}`,
        '{"spec":{"replicas":1e309}}',
        '{"spec":{"replicas":-0}}',
        '{"spec":{"replicas":NaN}}',
        '{"spec":{"replicas":123456789012345678901234567890}}',
        '{"__proto__":{"polluted":true}}',
        '{"constructor":{"prototype":{"polluted":true}}}',
        'null',
        '[]',
        '"a string"',
        '42',
        'true',
        '',
        '   ',
        '{',
        '{"a":"\\ud800"}',
        '\u0000\u0001\u0002',
        '\ufeff{}',
      ),
      fc.json({ maxDepth: 4 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
    ),
    contentType: fc.constantFrom(
      'application/json',
      'application/merge-patch+json',
      'application/yaml',
      undefined,
      'text/plain',
      'application/json; charset=latin1',
    ),
  }),
  fc.record({
    body: fc.oneof(
      fc.integer({ min: 2, max: 9 }).map(yamlBomb),
      fc.constantFrom(
        'a: 1\n---\nb: 2\n',
        'a: 1\na: 2\n',
        '!!js/function "function(){}"',
        '!!python/object/apply:os.system ["true"]',
        'key: !!binary aGVsbG8=',
        '&a [*a]',
        '? [a, b]\n: c\n',
        `apiVersion: ${API_VERSION}\nkind: MachineClass\nmetadata: {name: y1}\nspec: {sim: {bootSeconds: .inf}}\n`,
        `apiVersion: ${API_VERSION}\nkind: MachineClass\nmetadata: {name: y2}\nspec: {sim: {bootSeconds: 0x10}}\n`,
        `apiVersion: ${API_VERSION}\nkind: MachineClass\nmetadata: {name: y3, labels: {on: yes}}\nspec: {sim: {}}\n`,
        '- a\n- b\n',
        '%YAML 1.1\n---\na: 1\n',
      ),
      fc.integer({ min: 10, max: 5_000 }).map((d) => nestedJson(d)),
      fc.integer({ min: 10, max: 3_000 }).map((d) => `spec:\n${Array.from({ length: d }, (_, i) => `${' '.repeat(i + 2)}a:`).join('\n')} 1\n`),
      fc.integer({ min: 10, max: 100_000 }).map((d) => `${'- '.repeat(d)}a\n`),
      fc.integer({ min: 10, max: 100_000 }).map((d) => `spec:\n  - ${nestedJson(d)}\n`),
    ),
    contentType: fc.constantFrom('application/yaml', 'application/x-yaml', 'text/yaml', 'application/json'),
  }),
);

// --- requests ---------------------------------------------------------------------------------------------------

/** Percent-encodes what can be; a lone surrogate (which cannot) is sent as a broken escape instead. */
function encodePathSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
}

const plurals = KINDS.map((k) => k.plural);

/** Paths: mostly real routes, some nonsense (encoding errors, traversal, huge or odd names). */
export const path: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({
      plural: fc.constantFrom(...plurals),
      name: fc.oneof(fc.constantFrom('c1', 'c1-md', 'c1-cp', 'c1-class', 'c1-workers'), dnsLabel, hostileString.map(encodePathSegment)),
      sub: fc.constantFrom('', '/status', '/rollback', '/scale', '/x'),
    })
    .map(({ plural, name, sub }) => `${PREFIX}/${plural}/${name}${sub}`),
  fc.constantFrom(...plurals).map((p) => `${PREFIX}/${p}`),
  fc.constantFrom(...plurals).map((p) => `/apis/clusterless.dev/v1alpha1/${p}`),
  fc.constantFrom(
    '/',
    '/healthz',
    '/openapi/v3',
    '/apis',
    '/apis/clusterless.dev',
    '/apis/clusterless.dev/v1alpha1',
    '/api/v1/namespaces/default/pods',
    `${PREFIX}/clusters/%ZZ`,
    `${PREFIX}/clusters/..%2F..%2Fetc`,
    `${PREFIX}/../../etc/passwd`,
    '//',
    `${PREFIX}/clusters/c1/status/extra`,
    `/apis/clusterless.dev/v1alpha1/namespaces/${'n'.repeat(300)}/clusters`,
  ),
  fc.string({ maxLength: 60 }).map((s) => `/${s}`),
);

export const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'get', 'FOO');
export const accept = fc.constantFrom(undefined, 'application/json', 'application/yaml', '*/*', 'text/html', 'application/yaml;q=0.1, application/json');
