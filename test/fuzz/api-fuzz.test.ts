/**
 * Input fuzzing of the HTTP API (the router both hosts share), with fixed seeds and a bounded number of runs:
 * objects generated from every kind's schema, valid objects mutated, hostile values and bodies, lying content
 * types, nonsense paths and methods. Whatever comes in:
 * - the answer is 2xx, or a Kubernetes Status with a 4xx code (never a 5xx, never a thrown error);
 * - a refused request changes nothing in the store (snapshot before and after);
 * - whatever the store holds afterwards still parses under its kind's schema (no partial or invalid write).
 */
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../functions/adapters/memory/index.js';
import { handleRequest, type HttpRequest, type HttpResponse } from '../../functions/api/http/index.js';
import { KINDS, kindByName } from '../../functions/api/kinds.js';
import type { Store } from '../../functions/ports.js';
import { FakeClock } from '../support/fake-clock.js';
import { NS, PREFIX, accept, hostileBody, method, mutatedObject, nestedJson, path, schemaObject, validObjects, yamlBomb } from './arbitraries.js';

const SEED = 20_261_010;

let store: Store;
const internalErrors: unknown[] = [];

async function snapshot(s: Store): Promise<string> {
  const all = await Promise.all(KINDS.map((k) => s.list(k.kind as never)));
  return JSON.stringify(all);
}

// Every test of this file, whichever runs: no request may end in an internal error.
afterEach(() => {
  expect(internalErrors.splice(0).map((e) => (e as Error).message)).toEqual([]);
});

async function send(req: HttpRequest): Promise<HttpResponse> {
  return handleRequest(req, { store, onInternalError: (err) => internalErrors.push(err) });
}

/** Checks one exchange; returns a message for the first broken rule (fast-check shrinks on it). */
async function exchange(req: HttpRequest): Promise<void> {
  const before = await snapshot(store);
  let res: HttpResponse;
  try {
    res = await send(req);
  } catch (err) {
    throw new Error(`the router threw on ${req.method} ${req.path}: ${(err as Error).message}`);
  }
  const label = `${req.method} ${req.path.slice(0, 120)} (${req.headers?.['content-type'] ?? 'no content type'}, body ${req.body?.length ?? 0} chars) -> ${res.status} ${res.body.slice(0, 200)}`;
  expect((res.status >= 200 && res.status < 300) || (res.status >= 400 && res.status < 500), label).toBe(true);
  if (res.status >= 400) {
    const status = /yaml/.test(res.headers['content-type'] ?? '') ? parseYaml(res.body) : JSON.parse(res.body);
    expect(status, label).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: res.status });
    expect(typeof status.reason, label).toBe('string');
    expect(await snapshot(store), `a refused request changed the store: ${label}`).toBe(before);
  }
  // Nothing invalid ever lands: every stored object still parses as its kind.
  if (res.status < 300 && req.method.toUpperCase() !== 'GET')
    for (const k of KINDS)
      for (const o of await store.list(k.kind as never)) {
        const parsed = kindByName(o.kind)!.schema.safeParse(o);
        expect(
          parsed.success,
          `stored ${o.kind} ${o.metadata.name} no longer parses after ${label}: ${parsed.success ? '' : parsed.error.message.slice(0, 300)}`,
        ).toBe(true);
      }
}

const json = (
  method: string,
  p: string,
  body: unknown,
  contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
): HttpRequest => ({
  method,
  path: p,
  query: {},
  headers: { 'content-type': contentType },
  body: JSON.stringify(body),
});

beforeAll(async () => {
  store = new MemoryStore({ clock: new FakeClock('2030-01-01T00:00:00Z') });
  // A cluster to aim at: every kind has an object of its own to replace, patch and delete.
  for (const { plural, object } of validObjects()) {
    const res = await send(json('POST', `${PREFIX}/${plural}`, object));
    expect(res.status, res.body).toBe(201);
  }
});

describe('the HTTP API under fuzzed input', () => {
  it('answers objects generated from every kind schema with 2xx or a 4xx Status, and refusals change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(schemaObject, fc.constantFrom('POST', 'PUT', 'PATCH'), async ({ plural, object }, m) => {
        const name = String((object['metadata'] as { name?: unknown })?.name ?? 'x');
        await exchange(json(m, m === 'POST' ? `${PREFIX}/${plural}` : `${PREFIX}/${plural}/${name}`, object));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('answers valid objects with hostile mutations (control characters, huge strings, out-of-range numbers, wrong types, prototype keys) safely', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedObject, fc.constantFrom('POST', 'PUT', 'PATCH'), fc.boolean(), async ({ plural, object }, m, asYaml) => {
        const meta = (object as { metadata?: { name?: unknown } })?.metadata;
        const name = typeof meta?.name === 'string' && /^[a-z0-9-]{1,63}$/.test(meta.name) ? meta.name : 'c1';
        const p = m === 'POST' ? `${PREFIX}/${plural}` : `${PREFIX}/${plural}/${name}`;
        // JSON cannot carry every hostile value (undefined, lone surrogates survive as escapes); YAML the same way.
        const req = json(m, p, object);
        if (asYaml && m !== 'PATCH') req.headers = { 'content-type': 'application/yaml' };
        await exchange(req);
      }),
      { seed: SEED + 1, numRuns: 400 },
    );
  });

  it('answers hostile bodies (deep nesting, YAML bombs, duplicate keys, scalars, lying content types) with 4xx or 2xx, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileBody,
        fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'),
        fc.constantFrom('clusters', 'clusters', 'machinedeployments', 'machineclasses'),
        async ({ body, contentType }, m, plural) => {
          const name = { clusters: 'c1', machinedeployments: 'c1-md', machineclasses: 'c1-class' }[plural];
          const p = m === 'POST' ? `${PREFIX}/${plural}` : `${PREFIX}/${plural}/${name}`;
          // DELETE with a body would delete the object when the body is acceptable; aim it at a name that never exists.
          const target = m === 'DELETE' ? `${PREFIX}/${plural}/no-such-object` : p;
          await exchange({ method: m, path: target, query: {}, headers: contentType ? { 'content-type': contentType } : {}, body });
        },
      ),
      { seed: SEED + 2, numRuns: 250 },
    );
  });

  it('answers random paths, methods, queries and Accept headers with 2xx or a 4xx Status', async () => {
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        accept,
        fc.dictionary(
          fc.constantFrom('labelSelector', 'fieldSelector', 'watch', 'limit', 'continue', 'pretty', 'dryRun', 'fieldManager', 'fieldValidation'),
          fc.oneof(
            fc.string({ maxLength: 30 }),
            fc.constantFrom(
              'a=b',
              'a in (b,c)',
              '!a',
              'metadata.name=c1',
              'spec.x==1',
              'a,,b',
              '=',
              'a notin ()',
              '1',
              '-1',
              '1001',
              'true',
              'Strict',
              'eyJ2IjoxfQ',
              'eyJ2IjowfQ',
            ),
          ),
        ),
        async (m, p, acc, query) => {
          // Only reads and refusals here: an accepted DELETE of the fixtures would starve the other properties.
          if (m.toUpperCase() === 'DELETE' && /\/(c1|c1-md|c1-cp|c1-class|c1-workers)$/.test(p)) return;
          await exchange({ method: m, path: p, query, headers: acc ? { accept: acc } : {} });
        },
      ),
      { seed: SEED + 3, numRuns: 400 },
    );
  });

  it('ends with the fixtures still there', async () => {
    expect((await store.list('Cluster', NS)).map((c) => c.metadata.name)).toContain('c1');
  });
});

describe('hostile bodies, one by one', () => {
  it.each([
    { name: 'JSON arrays nested 100,000 levels', body: nestedJson(100_000), type: 'application/json' },
    {
      name: 'JSON objects nested 20,000 levels in spec',
      body: `{"apiVersion":"clusterless.dev/v1alpha1","kind":"Cluster","metadata":{"name":"deep"},"spec":${nestedJson(20_000, '{"a":', '}', '1')}}`,
      type: 'application/json',
    },
    { name: 'a YAML document nested 10,000 flow levels', body: `spec: ${nestedJson(10_000)}`, type: 'application/yaml' },
    { name: 'a YAML document nested 130,000 flow levels', body: `spec: ${nestedJson(130_000)}`, type: 'application/yaml' },
    { name: 'YAML block sequences nested 120,000 levels on one line', body: `${'- '.repeat(120_000)}a\n`, type: 'application/yaml' },
  ])('refuses $name with a 4xx Status on POST, PUT and PATCH, and stores nothing', async ({ body, type }) => {
    for (const [m, p] of [
      ['POST', `${PREFIX}/clusters`],
      ['PUT', `${PREFIX}/clusters/c1`],
      ['PATCH', `${PREFIX}/clusters/c1`],
    ] as const)
      await exchange({ method: m, path: p, query: {}, headers: { 'content-type': m === 'PATCH' ? 'application/merge-patch+json' : type }, body });
  });

  it('refuses a YAML alias bomb (9^9 strings) with 400 without expanding it', async () => {
    const res = await send({ method: 'POST', path: `${PREFIX}/machineclasses`, query: {}, headers: { 'content-type': 'application/yaml' }, body: yamlBomb(9) });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toMatch(/alias/i);
  });

  it.each([
    { where: 'spec', text: '{"spec":{"__proto__":{"paused":true}}}' },
    { where: 'metadata', text: '{"metadata":{"__proto__":{"uid":"x"}}}' },
    { where: 'labels', text: '{"metadata":{"labels":{"__proto__":"x"}}}' },
    { where: 'annotations', text: '{"metadata":{"annotations":{"__proto__":"x"}}}' },
  ])('keeps a "__proto__" key in $where as data: refused, or stored as sent; never dropped, never a prototype', async ({ text }) => {
    // Raw JSON text: JSON.parse makes "__proto__" an own key, as any client's JSON does.
    const before = await snapshot(store);
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);
    const res = await send({
      method: 'PATCH',
      path: `${PREFIX}/clusters/c1`,
      query: {},
      headers: { 'content-type': 'application/merge-patch+json' },
      body: text,
    });
    expect(Object.getOwnPropertyNames(Object.prototype), 'Object.prototype polluted').toEqual(prototypeKeys);
    expect(({} as Record<string, unknown>)['paused']).toBeUndefined();
    expect(({} as Record<string, unknown>)['uid']).toBeUndefined();
    expect(res.status, res.body).toBeLessThan(500);
    if (res.status >= 400) expect(await snapshot(store)).toBe(before);
    else expect(res.body, 'accepted, and the key silently dropped').toContain('__proto__');
  });

  it.each([
    { name: '1e309', text: '{"spec":{"replicas":1e309}}' },
    { name: '-1e309', text: '{"spec":{"replicas":-1e309}}' },
    { name: 'a 30-digit integer', text: '{"spec":{"replicas":123456789012345678901234567890}}' },
    { name: '2^53 + 1', text: '{"spec":{"replicas":9007199254740993}}' },
    { name: 'a fraction', text: '{"spec":{"replicas":1.5}}' },
    { name: '"NaN" as a string', text: '{"spec":{"replicas":"NaN"}}' },
    { name: 'a negative number', text: '{"spec":{"replicas":-1}}' },
    { name: '2^31 (past int32)', text: '{"spec":{"replicas":2147483648}}' },
    { name: 'a million (past the installation limit of 1000)', text: '{"spec":{"replicas":1000000}}' },
  ])('refuses replicas of $name with 422 and changes nothing', async ({ text }) => {
    const before = await snapshot(store);
    const res = await send({
      method: 'PATCH',
      path: `${PREFIX}/machinedeployments/c1-md`,
      query: {},
      headers: { 'content-type': 'application/merge-patch+json' },
      body: text,
    });
    expect(res.status, res.body).toBe(422);
    expect(JSON.parse(res.body).details.causes[0].field).toBe('spec.replicas');
    expect(await snapshot(store)).toBe(before);
  });

  it('takes -0 replicas as 0, as JSON says they are', async () => {
    const res = await send({
      method: 'PATCH',
      path: `${PREFIX}/machinedeployments/c1-md`,
      query: {},
      headers: { 'content-type': 'application/merge-patch+json' },
      body: '{"spec":{"replicas":-0}}',
    });
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body).spec.replicas).toBe(0);
    await send(json('PATCH', `${PREFIX}/machinedeployments/c1-md`, { spec: { replicas: 2 } }));
  });

  it.each([
    { name: 'JSON sent as text/plain', type: 'text/plain', status: 415 },
    { name: 'JSON sent as form data', type: 'application/x-www-form-urlencoded', status: 415 },
    { name: 'JSON sent as multipart', type: 'multipart/form-data; boundary=x', status: 415 },
    { name: 'a merge patch sent as a JSON Patch (not a list of operations)', type: 'application/json-patch+json', status: 400 },
    { name: 'a strategic merge patch', type: 'application/strategic-merge-patch+json', status: 415 },
    { name: 'YAML sent as JSON', type: 'application/json', status: 400, body: 'spec:\n  replicas: 3\n' },
  ])('refuses $name with $status and changes nothing', async ({ type, status, body }) => {
    const before = await snapshot(store);
    const res = await send({
      method: 'PATCH',
      path: `${PREFIX}/machinedeployments/c1-md`,
      query: {},
      headers: { 'content-type': type },
      body: body ?? '{"spec":{"replicas":4}}',
    });
    expect(res.status, res.body).toBe(status);
    expect(await snapshot(store)).toBe(before);
  });

  it.each([
    { field: 'apiVersion', body: { apiVersion: { toString: 'a.b' }, kind: 'Cluster', metadata: { name: 'x' }, spec: {} } },
    { field: 'kind', body: { apiVersion: 'clusterless.dev/v1alpha1', kind: { toString: 1 }, metadata: { name: 'x' }, spec: {} } },
    {
      field: 'metadata.namespace',
      body: { apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'x', namespace: { valueOf: 1, toString: 1 } }, spec: {} },
    },
  ])('refuses an object with a non-callable toString as $field with a 4xx Status, not a 500', async ({ body }) => {
    await exchange(json('POST', `${PREFIX}/clusters`, body));
    await exchange(json('PUT', `${PREFIX}/clusters/c1`, body));
  });

  it('refuses a label of 70,000 characters and a name of 64 with 422, naming the field', async () => {
    const big = { metadata: { labels: { big: 'a'.repeat(70_000) } } };
    const r1 = await send(json('PATCH', `${PREFIX}/clusters/c1`, big));
    expect(r1.status, r1.body.slice(0, 300)).toBe(422);
    expect(JSON.parse(r1.body).details.causes[0].field).toBe('metadata.labels[big]');
    const r2 = await send(
      json('POST', `${PREFIX}/clusters`, { apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'a'.repeat(64) }, spec: {} }),
    );
    expect(r2.status, r2.body.slice(0, 300)).toBe(422);
    expect(JSON.parse(r2.body).details.causes[0].field).toBe('metadata.name');
  });

  it('refuses control characters in names and label values with 422', async () => {
    for (const bad of ['c\u0000', 'c\n1', '\u202ec1']) {
      const r = await send(json('POST', `${PREFIX}/clusters`, { apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: bad }, spec: {} }));
      expect(r.status, r.body).toBe(422);
    }
    const r = await send(json('PATCH', `${PREFIX}/clusters/c1`, { metadata: { labels: { a: 'b\u0007' } } }));
    expect(r.status, r.body).toBe(422);
  });
});
