/** Server-side printing: the Table kubectl get asks for, computed as kube-apiserver computes a CRD's. */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { handleRequest, type RouterDeps } from '../../../functions/api/http/index.js';
import { cell, columnDefinitions, humanDuration, objectTable, parseIncludeObject, tableVersionAsked } from '../../../functions/api/http/table.js';
import { ApiError } from '../../../functions/api/http/status.js';
import { ClusterKind } from '../../../functions/api/cluster.js';
import { MachineDeploymentKind } from '../../../functions/api/machine-deployment.js';
import { MachineClassKind } from '../../../functions/api/machine-class.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { FakeClock } from '../../support/fake-clock.js';
import { cluster, machineDeployment, ns } from './fixtures.js';

const KUBECTL_GET_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const NOW = Date.parse('2026-01-01T01:00:00Z');

describe('tableVersionAsked', () => {
  it.each([
    { name: 'what kubectl get sends', accept: KUBECTL_GET_ACCEPT, want: 'v1' },
    { name: 'v1beta1 alone', accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io', want: 'v1beta1' },
    { name: 'parameters in another order, with spaces', accept: 'application/json; g=meta.k8s.io; as=Table; v=v1', want: 'v1' },
    {
      name: 'an unknown Table version, then v1beta1',
      accept: 'application/json;as=Table;v=v9;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io',
      want: 'v1beta1',
    },
    { name: 'plain JSON first', accept: 'application/json,application/json;as=Table;v=v1;g=meta.k8s.io', want: undefined },
    { name: 'YAML', accept: 'application/yaml', want: undefined },
    { name: 'no header', accept: undefined, want: undefined },
  ])('$name', ({ accept, want }) => {
    expect(tableVersionAsked(accept)).toBe(want);
  });
});

describe('parseIncludeObject', () => {
  it.each([
    [undefined, 'Metadata'],
    ['', 'Metadata'],
    ['Metadata', 'Metadata'],
    ['Object', 'Object'],
    ['None', 'None'],
  ])('%s reads as %s', (value, want) => {
    expect(parseIncludeObject(value)).toBe(want);
  });

  it('refuses anything else with a 400 naming the parameter', () => {
    const err = (() => {
      try {
        parseIncludeObject('Bogus');
      } catch (e) {
        return e;
      }
    })() as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(err.status.message).toContain('includeObject: Invalid value: "Bogus"');
  });
});

describe('humanDuration (Go duration.HumanDuration)', () => {
  it.each([
    [-5_000, '<invalid>'],
    [-1_500, '0s'],
    [0, '0s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [192_000, '3m12s'],
    [11 * 60_000, '11m'],
    [179 * 60_000, '179m'],
    [(5 * 60 + 3) * 60_000, '5h3m'],
    [6 * 3600_000, '6h'],
    [30 * 3600_000, '30h'],
    [(3 * 24 + 4) * 3600_000, '3d4h'],
    [12 * 24 * 3600_000, '12d'],
    [(2 * 365 + 30) * 24 * 3600_000, '2y30d'],
    [9 * 365 * 24 * 3600_000, '9y'],
  ])('%d ms is %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });
});

describe('cells', () => {
  const obj = {
    metadata: { creationTimestamp: '2026-01-01T00:58:00Z' },
    spec: { replicas: 3, aws: { instanceTypes: ['t3.small', 't3.medium'] }, strategy: { type: 'RollingUpdate' }, paused: false, ratio: 2.5 },
    status: { phase: 'Running' },
  };
  it.each([
    { name: 'a string', column: { type: 'string', jsonPath: '.status.phase' }, want: 'Running' },
    { name: 'an index into a list', column: { type: 'string', jsonPath: '.spec.aws.instanceTypes[1]' }, want: 't3.medium' },
    { name: 'an object in a string column, as JSON', column: { type: 'string', jsonPath: '.spec.strategy' }, want: '{"type":"RollingUpdate"}' },
    { name: 'a number in a string column, printed', column: { type: 'string', jsonPath: '.spec.replicas' }, want: '3' },
    { name: 'an integer', column: { type: 'integer', jsonPath: '.spec.replicas' }, want: 3 },
    { name: 'a fraction in an integer column, truncated', column: { type: 'integer', jsonPath: '.spec.ratio' }, want: 2 },
    { name: 'a number', column: { type: 'number', jsonPath: '.spec.ratio' }, want: 2.5 },
    { name: 'false stays a boolean', column: { type: 'boolean', jsonPath: '.spec.paused' }, want: false },
    { name: 'a string in an integer column is null', column: { type: 'integer', jsonPath: '.status.phase' }, want: null },
    { name: 'a missing field is null', column: { type: 'string', jsonPath: '.status.readyReplicas' }, want: null },
    { name: 'a date, as an age on the server', column: { type: 'date', jsonPath: '.metadata.creationTimestamp' }, want: '2m' },
  ] as const)('$name', ({ column, want }) => {
    expect(cell(column, obj, NOW)).toEqual(want);
  });
});

describe('objectTable', () => {
  const md = {
    ...machineDeployment('md1'),
    metadata: { name: 'md1', namespace: 'default', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z' },
  } as ApiObject;

  it('starts with a Name column, then the printer columns with their priority (1: only -o wide)', () => {
    const cols = columnDefinitions(ClusterKind as never);
    expect(cols.map((c) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0],
      ['Phase', 'string', 0],
      ['Paused', 'boolean', 1],
      ['Age', 'date', 0],
    ]);
    expect(cols[0]!.format).toBe('name');
    expect(cols[1]!.description).toBe('Cluster lifecycle phase');
    expect(cols[2]!.description).toBe('Custom resource definition column (in JSONPath format): .spec.paused');
  });

  it('makes a row per list item, keeping the list resourceVersion and continue token', () => {
    const t = objectTable(
      MachineDeploymentKind as never,
      { metadata: { resourceVersion: '9', continue: 'abc' }, items: [md, md] },
      { version: 'v1', includeObject: 'Metadata', now: NOW },
    );
    expect(t).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '9', continue: 'abc' } });
    expect(t.rows).toHaveLength(2);
    expect(t.rows[0]!.cells).toEqual(['md1', 'c1', null, null, null, null, null, '60m', 'v1.31.2']);
  });

  it.each([
    { include: 'Metadata', want: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: md.metadata } },
    { include: 'Object', want: md },
    { include: 'None', want: null },
  ] as const)('includeObject=$include puts that in each row', ({ include, want }) => {
    const t = objectTable(MachineDeploymentKind as never, md, { version: 'v1beta1', includeObject: include, now: NOW });
    expect(t.apiVersion).toBe('meta.k8s.io/v1beta1');
    expect(t.metadata).toEqual({ resourceVersion: '7' });
    expect(t.rows[0]!.object).toEqual(want);
  });

  it('every printer column of every kind has a JSONPath the table understands', () => {
    for (const k of [ClusterKind, MachineDeploymentKind, MachineClassKind]) expect(() => columnDefinitions(k as never)).not.toThrow();
  });
});

describe('GET with the Accept header of kubectl get', () => {
  const clock = new FakeClock('2026-01-01T00:00:00Z');
  const deps: RouterDeps = { store: new MemoryStore({ clock }), clock: new FakeClock(new Date(clock.now().getTime() + 3_600_000).toISOString()) };
  const send = (method: string, path: string, headers: Record<string, string>, body?: unknown, query: Record<string, string> = {}) =>
    handleRequest(
      {
        method,
        path,
        query,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      deps,
    );

  it('answers a list and an object as Tables, ages from the server clock, and plain JSON otherwise', async () => {
    expect((await send('POST', ns('default', 'clusters'), {}, cluster('c1'))).status).toBe(201);
    const list = await send('GET', ns('default', 'clusters'), { accept: KUBECTL_GET_ACCEPT });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body)).toMatchObject({ kind: 'Table', rows: [{ cells: ['c1', null, false, '60m'] }] });
    const one = await send('GET', ns('default', 'clusters', 'c1'), { accept: KUBECTL_GET_ACCEPT }, undefined, { includeObject: 'Object' });
    expect(JSON.parse(one.body).rows[0].object).toMatchObject({ kind: 'Cluster', metadata: { name: 'c1' } });
    const plain = await send('GET', ns('default', 'clusters', 'c1'), { accept: 'application/json' });
    expect(JSON.parse(plain.body).kind).toBe('Cluster');
  });

  it('refuses a bad includeObject with a 400', async () => {
    const res = await send('GET', ns('default', 'clusters'), { accept: KUBECTL_GET_ACCEPT }, undefined, { includeObject: 'All' });
    expect(res.status).toBe(400);
  });
});
