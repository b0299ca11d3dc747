/** The routes of the HTTP API against the in-memory store: what a client of a Kubernetes-style API expects. */
import { beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { Finalizers, Labels } from '../../../functions/api/common.js';
import { KINDS } from '../../../functions/api/kinds.js';
import { openApiDocument } from '../../../functions/api/openapi.js';
import { BASE, api, cluster, machineClass, machineDeployment, ns, type Api } from './fixtures.js';

const MDS = ns('default', 'machinedeployments');
const MD = `${MDS}/md1`;

describe('discovery, health and OpenAPI', () => {
  const a = api();

  it('answers /healthz with ok', async () => {
    const res = await a.call('GET', '/healthz');
    expect(res).toMatchObject({ status: 200, body: 'ok' });
  });

  it('serves the OpenAPI index at /openapi/v3, naming the document of clusterless.dev/v1alpha1 with its hash', async () => {
    const res = await a.call('GET', '/openapi/v3');
    expect(res.status).toBe(200);
    const url: string = res.json.paths['apis/clusterless.dev/v1alpha1'].serverRelativeURL;
    const [path, hash] = url.split('?hash=') as [string, string];
    const doc = await a.call('GET', path, undefined, {}, { hash });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.json.paths)).toEqual(Object.keys(openApiDocument()['paths'] as object).filter((p) => p.startsWith(`${BASE}/`)));
  });

  it('lists every kind, its status subresource and the rollback in the APIResourceList', async () => {
    const res = await a.call('GET', BASE);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'clusterless.dev/v1alpha1' });
    const names = res.json.resources.map((r: { name: string }) => r.name);
    for (const k of KINDS) expect(names).toEqual(expect.arrayContaining([k.plural, `${k.plural}/status`]));
    expect(names).toContain('machinedeployments/rollback');
    expect(res.json.resources.find((r: { name: string }) => r.name === 'machinedeployments')).toMatchObject({
      kind: 'MachineDeployment',
      namespaced: true,
      shortNames: ['md'],
      verbs: expect.arrayContaining(['create', 'get', 'list', 'update', 'patch', 'delete']),
    });
  });

  it.each([
    { name: '/apis', path: '/apis', kind: 'APIGroupList' },
    { name: '/apis/clusterless.dev', path: '/apis/clusterless.dev', kind: 'APIGroup' },
  ])('serves $name for discovery', async ({ path, kind }) => {
    const res = await a.call('GET', path);
    expect(res.status).toBe(200);
    expect(res.json.kind).toBe(kind);
    expect(JSON.stringify(res.json)).toContain('clusterless.dev/v1alpha1');
  });
});

describe('create', () => {
  let a: Api;
  beforeEach(() => {
    a = api();
  });

  it('stores a JSON object with defaults, server fields and the kind finalizer, and answers 201', async () => {
    const res = await a.call('POST', MDS, machineDeployment());
    expect(res.status).toBe(201);
    expect(res.json.metadata).toMatchObject({ name: 'md1', namespace: 'default', generation: 1, finalizers: [Finalizers.machineDeployment] });
    expect(res.json.metadata.uid).toEqual(expect.any(String));
    expect(res.json.metadata.resourceVersion).toEqual(expect.any(String));
    expect(res.json.metadata.creationTimestamp).toBe('2026-01-01T00:00:00Z');
    expect(res.json.spec).toMatchObject({
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      deletePolicy: 'Random',
      revisionHistoryLimit: 10,
    });
    expect(await a.store.get('MachineDeployment', 'default', 'md1')).toEqual(res.json);
  });

  it('takes the namespace from the path when the body has none', async () => {
    const { namespace: _n, ...metadata } = cluster().metadata;
    const res = await a.call('POST', ns('team-a', 'clusters'), { ...cluster(), metadata });
    expect(res.status).toBe(201);
    expect(res.json.metadata.namespace).toBe('team-a');
  });

  it('takes apiVersion and kind from the path when the body has none', async () => {
    const res = await a.call('POST', ns('default', 'clusters'), { metadata: { name: 'bare' }, spec: {} });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster' });
  });

  it('adds no finalizer to kinds that need no teardown', async () => {
    const res = await a.call('POST', ns('default', 'machineclasses'), machineClass());
    expect(res.json.metadata.finalizers).toBeUndefined();
  });

  it('keeps finalizers the client set, next to its own', async () => {
    const res = await a.call('POST', ns('default', 'clusters'), { ...cluster(), metadata: { name: 'c1', finalizers: ['example.com/keep'] } });
    expect(res.json.metadata.finalizers).toEqual(['example.com/keep', Finalizers.cluster]);
  });

  it('drops status and server fields sent with a create (an object read back can be created again)', async () => {
    const res = await a.call('POST', MDS, {
      ...machineDeployment(),
      metadata: {
        name: 'md1',
        uid: 'u-1',
        resourceVersion: '77',
        generation: 9,
        creationTimestamp: '2020-01-01T00:00:00Z',
        deletionTimestamp: '2020-01-01T00:00:00Z',
      },
      status: { replicas: 3 },
    });
    expect(res.status).toBe(201);
    expect(res.json.status).toBeUndefined();
    expect(res.json.metadata).toMatchObject({ generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' });
    expect(res.json.metadata.uid).not.toBe('u-1');
    expect(res.json.metadata.resourceVersion).not.toBe('77');
    expect(res.json.metadata.deletionTimestamp).toBeUndefined();
  });

  it.each([
    { name: 'application/yaml', type: 'application/yaml' },
    { name: 'application/x-yaml with a charset', type: 'application/x-yaml; charset=utf-8' },
  ])('reads a YAML body sent as $name', async ({ type }) => {
    const yaml = [
      'apiVersion: clusterless.dev/v1alpha1',
      'kind: MachineDeployment',
      'metadata:',
      '  name: md1',
      '  labels: &l {team: a}',
      'spec:',
      '  clusterName: c1',
      '  replicas: 2',
      '  template:',
      '    metadata: {labels: *l}',
      '    spec: {version: v1.31.2, machineClassRef: {name: small}}',
    ].join('\n');
    const res = await a.call('POST', MDS, yaml, { 'content-type': type });
    expect(res.status).toBe(201);
    expect(res.json.spec.replicas).toBe(2);
    expect(res.json.spec.template.metadata.labels).toMatchObject({ team: 'a' });
  });

  it('answers in YAML when the client asks for it', async () => {
    const res = await a.call('POST', MDS, machineDeployment(), { accept: 'application/yaml, application/json' });
    expect(res.headers['content-type']).toBe('application/yaml');
    expect(parseYaml(res.body)).toEqual(await a.store.get('MachineDeployment', 'default', 'md1'));
  });
});

describe('get and list', () => {
  const a = api();
  beforeEach(async () => {
    if ((await a.snapshot()).length) return;
    await a.create(machineDeployment('md1', 'default', { labels: { tier: 'web', env: 'prod' } }));
    await a.create(machineDeployment('md2', 'default', { labels: { tier: 'db', env: 'prod' } }));
    await a.create(machineDeployment('md3', 'team-b', { labels: { tier: 'web', env: 'dev' } }));
    await a.create(machineDeployment('md4', 'team-b'));
    await a.create(cluster('c1', 'team-b'));
  });

  it('gets one object', async () => {
    const res = await a.call('GET', ns('team-b', 'machinedeployments', 'md3'));
    expect(res.status).toBe(200);
    expect(res.json).toEqual(await a.store.get('MachineDeployment', 'team-b', 'md3'));
  });

  it('gets an object through its status subresource', async () => {
    const res = await a.call('GET', `${MD}/status`);
    expect(res.status).toBe(200);
    expect(res.json.metadata.name).toBe('md1');
  });

  it('lists one namespace as a <Kind>List', async () => {
    const res = await a.call('GET', MDS);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineDeploymentList', metadata: {} });
    expect(res.json.items.map((o: any) => o.metadata.name)).toEqual(['md1', 'md2']);
  });

  it('lists across namespaces', async () => {
    const res = await a.call('GET', `${BASE}/machinedeployments`);
    expect(res.json.items.map((o: any) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['default/md1', 'default/md2', 'team-b/md3', 'team-b/md4']);
  });

  it('lists an empty namespace as an empty list', async () => {
    const res = await a.call('GET', ns('nobody', 'clusters'));
    expect(res).toMatchObject({ status: 200, json: { kind: 'ClusterList', items: [] } });
  });

  it.each([
    { name: 'equality', selector: 'tier=web', want: ['default/md1', 'team-b/md3'] },
    { name: 'double equals and a conjunction', selector: 'tier==web,env=prod', want: ['default/md1'] },
    { name: 'inequality (matches objects without the label too)', selector: 'env!=prod', want: ['team-b/md3', 'team-b/md4'] },
    { name: 'existence', selector: 'tier', want: ['default/md1', 'default/md2', 'team-b/md3'] },
    { name: 'absence', selector: '!tier', want: ['team-b/md4'] },
    { name: 'set membership', selector: 'tier in (db, web),env notin (dev)', want: ['default/md1', 'default/md2'] },
    { name: 'the cluster label the API adds', selector: `${Labels.clusterName}=c1`, want: ['default/md1', 'default/md2', 'team-b/md3', 'team-b/md4'] },
    { name: 'a label only templates carry', selector: `${Labels.deploymentName}=md2`, want: [] },
    { name: 'two values for one key', selector: 'tier=web,tier=db', want: [] },
  ])('filters with labelSelector: $name', async ({ selector, want }) => {
    const res = await a.call('GET', `${BASE}/machinedeployments`, undefined, {}, { labelSelector: selector });
    expect(res.status).toBe(200);
    expect(res.json.items.map((o: any) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(want);
  });

  it('filters with fieldSelector on metadata.name', async () => {
    const res = await a.call('GET', `${BASE}/machinedeployments`, undefined, {}, { fieldSelector: 'metadata.name=md3' });
    expect(res.json.items.map((o: any) => o.metadata.name)).toEqual(['md3']);
  });
});

describe('query parameters', () => {
  let a: Api;
  beforeEach(async () => {
    a = api();
    await a.create(machineDeployment());
  });

  it.each([
    { name: 'POST', method: 'POST', path: ns('default', 'clusters'), body: cluster('c2'), status: 201 },
    { name: 'PUT', method: 'PUT', path: MD, body: machineDeployment('md1', 'default', { replicas: 4 }), status: 200 },
    { name: 'PATCH', method: 'PATCH', path: MD, body: { spec: { replicas: 5 } }, status: 200 },
    { name: 'a rollback POST', method: 'POST', path: `${MD}/rollback`, body: { toRevision: 0 }, status: 422 },
  ])('accepts fieldManager, fieldValidation and pretty on $name, as kubectl sends them', async ({ method, path, body, status }) => {
    const query = { fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict', pretty: 'true' };
    const res = await a.call(method, path, body, {}, query);
    // The rollback has no previous revision to go to: past the parameters, to the deployment's own rule.
    expect(res.status, res.body).toBe(status);
  });

  it.each(['Strict', 'Warn', 'Ignore', ''])('validates strictly whatever fieldValidation says (%j): an unknown field is refused', async (fieldValidation) => {
    const before = await a.snapshot();
    const res = await a.call('PATCH', MD, { spec: { colour: 'blue' } }, {}, { fieldValidation });
    expect(res.status).toBe(422);
    expect(res.json.details.causes.map((c: { field: string }) => c.field)).toContain('spec.colour');
    expect(await a.snapshot()).toEqual(before);
  });

  it('indents JSON with ?pretty=true, on reads and writes', async () => {
    const read = await a.call('GET', MD, undefined, {}, { pretty: 'true' });
    expect(read.body).toBe(`${JSON.stringify(read.json, null, 2)}\n`);
    const write = await a.call('PATCH', MD, { spec: { replicas: 2 } }, {}, { pretty: '1' });
    expect(write.body).toBe(`${JSON.stringify(write.json, null, 2)}\n`);
    expect((await a.call('GET', MD, undefined, {}, { pretty: 'false' })).body).toBe(JSON.stringify(write.json));
  });

  it('lets a read carry parameters it does not know, as kube-apiserver does (a read changes nothing)', async () => {
    const res = await a.call('GET', MDS, undefined, {}, { _: '1700000000', timeoutSeconds: '30', resourceVersion: '0' });
    expect(res.status).toBe(200);
    expect(res.json.items).toHaveLength(1);
  });
});

describe('canonical paths', () => {
  const a = api();
  beforeEach(async () => {
    if ((await a.snapshot()).length) return;
    await a.create(machineDeployment());
  });

  // IAM policies on API Gateway match the path as sent; the router must never read one path as another.
  it.each([
    { name: 'a trailing slash', path: `${MDS}/`, canonical: MDS },
    { name: 'an empty segment', path: `${BASE}/namespaces/default//machinedeployments`, canonical: MDS },
    { name: 'a leading double slash', path: `/${MDS}`, canonical: MDS },
    { name: 'a "." segment', path: `${BASE}/namespaces/default/./machinedeployments`, canonical: MDS },
    { name: 'a ".." segment that climbs into another namespace', path: `${BASE}/namespaces/team-a/../default/machinedeployments/md1`, canonical: MD },
    { name: 'a percent-encoded name', path: `${MDS}/%6dd1`, canonical: MD },
    { name: 'a percent-encoded slash', path: `${BASE}/namespaces/default%2Fmachinedeployments`, canonical: MDS },
    { name: 'a percent-encoded dot segment', path: `${BASE}/namespaces/x/%2e%2e/default/machinedeployments`, canonical: MDS },
    { name: 'a trailing slash on /healthz', path: '/healthz/', canonical: '/healthz' },
  ])('refuses $name with 400 naming the canonical path, on reads and writes alike', async ({ path, canonical }) => {
    const before = await a.snapshot();
    for (const [method, body] of [
      ['GET', undefined],
      ['DELETE', undefined],
      ['PATCH', { spec: { replicas: 9 } }],
    ] as const) {
      const res = await a.call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.json).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
      expect(res.json.message).toContain(`send ${canonical}`);
    }
    expect(await a.snapshot()).toEqual(before);
  });

  it('serves the canonical form of those paths', async () => {
    expect((await a.call('GET', MD)).status).toBe(200);
    expect((await a.call('GET', MDS)).json.items).toHaveLength(1);
  });
});

describe('replace', () => {
  let a: Api;
  let md: any;
  beforeEach(async () => {
    a = api();
    md = await a.create(machineDeployment());
  });

  it('writes the new spec guarded by resourceVersion and bumps generation', async () => {
    const res = await a.call('PUT', MD, { ...md, spec: { ...md.spec, replicas: 7 } });
    expect(res.status).toBe(200);
    expect(res.json.spec.replicas).toBe(7);
    expect(res.json.metadata.generation).toBe(2);
    expect(res.json.metadata.resourceVersion).not.toBe(md.metadata.resourceVersion);
    expect(await a.store.get('MachineDeployment', 'default', 'md1')).toEqual(res.json);
  });

  it('applies a replace without resourceVersion to whatever is current', async () => {
    const res = await a.call('PUT', MD, machineDeployment('md1', 'default', { replicas: 4 }));
    expect(res.status).toBe(200);
    expect(res.json.spec.replicas).toBe(4);
  });

  it('keeps the stored finalizers when the body has none, and takes an explicit list as given', async () => {
    const kept = await a.call('PUT', MD, machineDeployment('md1', 'default', { replicas: 4 }));
    expect(kept.json.metadata.finalizers).toEqual([Finalizers.machineDeployment]);
    const body = machineDeployment('md1', 'default', { replicas: 4 });
    const cleared = await a.call('PUT', MD, { ...body, metadata: { ...body.metadata, finalizers: [] } });
    expect(cleared.json.metadata.finalizers).toEqual([]);
  });

  it('never writes status through the main resource', async () => {
    await a.call('PATCH', `${MD}/status`, { status: { replicas: 2 } });
    const res = await a.call('PUT', MD, { ...machineDeployment(), status: { replicas: 99, phase: 'Failed' } });
    expect(res.status).toBe(200);
    expect(res.json.status).toEqual({ replicas: 2 });
  });

  it('accepts a YAML replacement', async () => {
    const yaml = `kind: MachineDeployment\napiVersion: clusterless.dev/v1alpha1\nmetadata: {name: md1, resourceVersion: "${md.metadata.resourceVersion}"}\nspec:\n  clusterName: c1\n  replicas: 6\n  template: {spec: {version: v1.32.0, machineClassRef: {name: small}}}\n`;
    const res = await a.call('PUT', MD, yaml, { 'content-type': 'application/yaml' });
    expect(res.status).toBe(200);
    expect(res.json.spec).toMatchObject({ replicas: 6, template: { spec: { version: 'v1.32.0' } } });
  });
});

describe('server-side apply (PATCH application/apply-patch+yaml, as kubectl apply --server-side sends it)', () => {
  let a: Api;
  const APPLY = { 'content-type': 'application/apply-patch+yaml' };
  beforeEach(() => {
    a = api();
  });

  it('creates an absent object from a YAML manifest and answers 201', async () => {
    const res = await a.call(
      'PATCH',
      MD,
      'apiVersion: clusterless.dev/v1alpha1\nkind: MachineDeployment\nmetadata: {name: md1}\nspec:\n  clusterName: c1\n  replicas: 2\n  template: {spec: {version: v1.31.2, machineClassRef: {name: small}}}\n',
      APPLY,
      { fieldManager: 'kubectl', force: 'false' },
    );
    expect(res.status).toBe(201);
    expect(res.json.metadata.finalizers).toEqual([Finalizers.machineDeployment]);
    expect((await a.call('GET', MD)).json.spec.replicas).toBe(2);
  });

  it('updates the fields a JSON manifest gives on a present object and answers 200', async () => {
    const md = await a.create({ ...machineDeployment(), metadata: { name: 'md1', namespace: 'default', labels: { team: 'a' } } });
    const res = await a.call('PATCH', MD, machineDeployment('md1', 'default', { replicas: 6 }), APPLY, { fieldManager: 'kubectl' });
    expect(res.status).toBe(200);
    expect(res.json.spec.replicas).toBe(6);
    expect(res.json.metadata.labels).toMatchObject({ team: 'a' });
    expect(res.json.metadata.uid).toBe(md.metadata.uid);
  });
});

describe('merge patch', () => {
  let a: Api;
  let md: any;
  beforeEach(async () => {
    a = api();
    md = await a.create(machineDeployment('md1', 'default', { labels: { tier: 'web', env: 'prod' } }));
  });

  it.each([
    { name: 'application/merge-patch+json', type: 'application/merge-patch+json' },
    { name: 'application/json (read as a merge patch)', type: 'application/json' },
  ])('scales replicas with $name and leaves the rest alone', async ({ type }) => {
    const res = await a.call('PATCH', MD, { spec: { replicas: 5 } }, { 'content-type': type });
    expect(res.status).toBe(200);
    expect(res.json.spec).toEqual({ ...md.spec, replicas: 5 });
    expect(res.json.metadata.generation).toBe(2);
    expect(await a.store.get('MachineDeployment', 'default', 'md1')).toEqual(res.json);
  });

  it('removes a key patched to null', async () => {
    const res = await a.call('PATCH', MD, { metadata: { labels: { env: null } } });
    expect(res.json.metadata.labels).toEqual({ ...md.metadata.labels, env: undefined });
    expect(Object.keys(res.json.metadata.labels)).not.toContain('env');
  });

  it('pauses and resumes a rollout through spec.paused', async () => {
    expect((await a.call('PATCH', MD, { spec: { paused: true } })).json.spec.paused).toBe(true);
    expect((await a.call('PATCH', MD, { spec: { paused: false } })).json.spec.paused).toBe(false);
  });

  it('uses a resourceVersion in the patch as a precondition', async () => {
    const res = await a.call('PATCH', MD, { metadata: { resourceVersion: md.metadata.resourceVersion }, spec: { replicas: 2 } });
    expect(res.status).toBe(200);
    expect(res.json.spec.replicas).toBe(2);
  });

  it('applies concurrent merge patches without resourceVersion one after another, losing none', async () => {
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => a.call('PATCH', MD, { metadata: { labels: { [`p${i}`]: 'yes' } } })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const stored = await a.store.get('MachineDeployment', 'default', 'md1');
    expect(stored?.metadata.labels).toMatchObject({ p1: 'yes', p2: 'yes', p3: 'yes', p4: 'yes', p5: 'yes' });
  });

  it('lets exactly one of two replaces from the same resourceVersion win', async () => {
    const results = await Promise.all([4, 6].map((replicas) => a.call('PUT', MD, { ...md, spec: { ...md.spec, replicas } })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results.find((r) => r.status === 200)!.json;
    expect(results.find((r) => r.status === 409)!.json.message).toContain(winner.metadata.resourceVersion);
    expect(await a.store.get('MachineDeployment', 'default', 'md1')).toEqual(winner);
  });

  it('ignores status in a patch of the main resource', async () => {
    const res = await a.call('PATCH', MD, { status: { replicas: 3 } });
    expect(res.status).toBe(200);
    expect(res.json.status).toBeUndefined();
  });
});

describe('delete', () => {
  let a: Api;
  beforeEach(async () => {
    a = api();
    await a.create(machineDeployment());
    await a.create(machineClass());
  });

  it('marks an object that has finalizers with deletionTimestamp and answers with it', async () => {
    a.clock.advance(60);
    const res = await a.call('DELETE', MD);
    expect(res.status).toBe(200);
    expect(res.json.kind).toBe('MachineDeployment');
    expect(res.json.metadata.deletionTimestamp).toBe('2026-01-01T00:01:00Z');
    expect((await a.call('GET', MD)).json).toEqual(res.json);
  });

  it('removes an object without finalizers and answers with a Success Status', async () => {
    const uid = (await a.call('GET', ns('default', 'machineclasses', 'small'))).json.metadata.uid;
    const res = await a.call('DELETE', ns('default', 'machineclasses', 'small'));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      code: 200,
      details: { name: 'small', group: 'clusterless.dev', kind: 'machineclasses', uid },
    });
    expect((await a.call('GET', ns('default', 'machineclasses', 'small'))).status).toBe(404);
  });

  it('removes a deleting object once its last finalizer is patched away (the end of teardown)', async () => {
    await a.call('DELETE', MD);
    const res = await a.call('PATCH', MD, { metadata: { finalizers: null } });
    expect(res.status).toBe(200);
    expect((await a.call('GET', MD)).status).toBe(404);
  });

  it.each([
    { name: 'kubectl delete (Background)', body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } },
    { name: 'kubectl delete --cascade=foreground', body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Foreground' } },
    { name: 'a grace period (ignored), an empty dryRun and orphanDependents false', body: { gracePeriodSeconds: 0, dryRun: [], orphanDependents: false } },
    {
      name: 'null for every option',
      body: { kind: null, apiVersion: null, preconditions: null, propagationPolicy: null, orphanDependents: null, gracePeriodSeconds: null, dryRun: null },
    },
  ])('deletes for real with DeleteOptions that ask for a cascading delete: $name', async ({ body }) => {
    const res = await a.call('DELETE', MD, body);
    expect(res.status).toBe(200);
    expect((await a.call('GET', MD)).json.metadata.deletionTimestamp).toEqual(expect.any(String));
  });

  it('honours DeleteOptions preconditions that hold', async () => {
    const cur = (await a.call('GET', MD)).json;
    const res = await a.call('DELETE', MD, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      preconditions: { uid: cur.metadata.uid, resourceVersion: cur.metadata.resourceVersion },
    });
    expect(res.status).toBe(200);
    expect(res.json.metadata.deletionTimestamp).toEqual(expect.any(String));
  });
});

describe('status subresource', () => {
  let a: Api;
  let md: any;
  beforeEach(async () => {
    a = api();
    md = await a.create(machineDeployment());
  });

  it('replaces status only, without a new generation', async () => {
    const res = await a.call('PUT', `${MD}/status`, {
      ...md,
      metadata: { ...md.metadata, labels: { sneaky: 'yes' } },
      spec: { ...md.spec, replicas: 42 },
      status: { replicas: 3, readyReplicas: 2, phase: 'ScalingUp' },
    });
    expect(res.status).toBe(200);
    expect(res.json.status).toEqual({ replicas: 3, readyReplicas: 2, phase: 'ScalingUp' });
    expect(res.json.spec).toEqual(md.spec);
    expect(res.json.metadata.labels).toEqual(md.metadata.labels);
    expect(res.json.metadata.generation).toBe(1);
    expect(await a.store.get('MachineDeployment', 'default', 'md1')).toEqual(res.json);
  });

  it('merge-patches status', async () => {
    await a.call('PATCH', `${MD}/status`, { status: { replicas: 3, readyReplicas: 1 } });
    const res = await a.call('PATCH', `${MD}/status`, { spec: { replicas: 0 }, status: { readyReplicas: 3, phase: 'Running' } });
    expect(res.status).toBe(200);
    expect(res.json.status).toEqual({ replicas: 3, readyReplicas: 3, phase: 'Running' });
    expect(res.json.spec.replicas).toBe(3);
  });

  it('guards a status write by the resourceVersion sent', async () => {
    const res = await a.call('PUT', `${MD}/status`, { ...md, status: { replicas: 1 } });
    expect(res.status).toBe(200);
    expect(res.json.metadata.resourceVersion).not.toBe(md.metadata.resourceVersion);
  });
});
