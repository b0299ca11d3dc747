/**
 * The HTTP API over real HTTP: the local node:http server on a free 127.0.0.1 port, the store on dynalite.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDbStore } from '../../../functions/adapters/dynamodb/index.js';
import { startHttpServer, type RunningHttpServer } from '../../../local/http-server.js';
import { emulatorDynamoDbClient, newTableStore } from '../../support/dynamodb-store-factory.js';
import { startDynalite, type RunningDynalite } from '../../support/dynalite.js';
import { cluster, machineClass, machineDeployment, ns } from '../../unit/http/fixtures.js';

let dynalite: RunningDynalite;
let client: DynamoDBClient;
let store: DynamoDbStore;
let server: RunningHttpServer;

beforeAll(async () => {
  dynalite = await startDynalite();
  client = emulatorDynamoDbClient(dynalite.endpoint);
  store = (await newTableStore(client)).store;
  server = await startHttpServer({ port: 0, deps: { store } });
});

afterAll(async () => {
  await server?.close();
  client?.destroy();
  await dynalite?.stop();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : undefined };
}

describe('local HTTP server on dynalite', () => {
  it('listens on 127.0.0.1 only, on the free port it was given', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
  });

  it('answers /healthz', async () => {
    const res = await call('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
  });

  it('creates, gets, replaces, patches, writes status, lists and deletes over HTTP', async () => {
    // create (JSON and YAML)
    expect((await call('POST', ns('default', 'clusters'), cluster())).status).toBe(201);
    const yaml = 'apiVersion: clusterless.dev/v1alpha1\nkind: MachineClass\nmetadata: {name: small}\nspec: {sim: {bootSeconds: 1}}\n';
    expect((await call('POST', ns('default', 'machineclasses'), yaml, { 'content-type': 'application/yaml' })).status).toBe(201);
    const created = await call('POST', ns('default', 'machinedeployments'), machineDeployment());
    expect(created.status).toBe(201);
    const md = created.json;

    // get
    const got = await call('GET', ns('default', 'machinedeployments', 'md1'));
    expect(got.json).toEqual(md);

    // replace, then a replace from the same (now stale) version
    const replaced = await call('PUT', ns('default', 'machinedeployments', 'md1'), { ...md, spec: { ...md.spec, replicas: 4 } });
    expect(replaced.status).toBe(200);
    expect(replaced.json.metadata.generation).toBe(2);
    const stale = await call('PUT', ns('default', 'machinedeployments', 'md1'), { ...md, spec: { ...md.spec, replicas: 6 } });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({ kind: 'Status', reason: 'Conflict' });
    expect(stale.json.message).toContain(replaced.json.metadata.resourceVersion);

    // merge patch
    const patched = await call('PATCH', ns('default', 'machinedeployments', 'md1'), { spec: { replicas: 5 } });
    expect(patched.status).toBe(200);
    expect(patched.json.spec.replicas).toBe(5);

    // status subresource
    const status = await call('PATCH', ns('default', 'machinedeployments', 'md1', 'status'), { status: { replicas: 5, readyReplicas: 5 } });
    expect(status.status).toBe(200);
    expect(status.json.metadata.generation).toBe(3);

    // list across namespaces with a label selector
    const list = await call('GET', `/apis/clusterless.dev/v1alpha1/machinedeployments?labelSelector=${encodeURIComponent('clusterless.dev/cluster-name=c1')}`);
    expect(list.json.items.map((o: any) => o.metadata.name)).toEqual(['md1']);

    // delete: marked (finalizer), then removed once the finalizer goes; a class without finalizers goes at once
    const deleting = await call('DELETE', ns('default', 'machinedeployments', 'md1'));
    expect(deleting.status).toBe(200);
    expect(deleting.json.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect((await call('PATCH', ns('default', 'machinedeployments', 'md1'), { metadata: { finalizers: null } })).status).toBe(200);
    expect((await call('GET', ns('default', 'machinedeployments', 'md1'))).status).toBe(404);
    const removed = await call('DELETE', ns('default', 'machineclasses', 'small'));
    expect(removed.json).toMatchObject({ kind: 'Status', status: 'Success' });
    expect(await store.get('MachineClass', 'default', 'small')).toBeUndefined();
  });

  it('lets exactly one of two concurrent replaces from the same resourceVersion win', async () => {
    const md = (await call('POST', ns('race', 'machinedeployments'), machineDeployment('md1', 'race'))).json;
    const path = ns('race', 'machinedeployments', 'md1');
    const results = await Promise.all([4, 6].map((replicas) => call('PUT', path, { ...md, spec: { ...md.spec, replicas } })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results.find((r) => r.status === 200)!.json;
    expect(await store.get('MachineDeployment', 'race', 'md1')).toEqual(winner);
  });

  it('refuses a body over 256 KiB with 413 and stores nothing', async () => {
    const body = JSON.stringify({ ...machineClass('big'), metadata: { name: 'big', annotations: { pad: 'x'.repeat(300 * 1024) } } });
    const res = await call('POST', ns('default', 'machineclasses'), body);
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
    expect(await store.get('MachineClass', 'default', 'big')).toBeUndefined();
  });

  it('refuses a chunked body over 256 KiB while it streams in', async () => {
    // No content-length: the limit can only be enforced while reading.
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${server.url}${ns('default', 'machineclasses')}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => {
        let text = '';
        r.on('data', (c) => (text += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      const chunk = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 6; i++) req.write(chunk);
      req.end();
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).reason).toBe('RequestEntityTooLarge');
  });

  it("refuses a DNS-rebound Host, another site's Origin and a cross-site fetch with a 403 Status, storing nothing", async () => {
    const post = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const body = JSON.stringify(machineClass('rebound'));
        const req = httpRequest(
          `${server.url}${ns('default', 'machineclasses')}`,
          { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } },
          (r) => {
            let text = '';
            r.on('data', (c) => (text += c));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    for (const [headers, field] of [
      [{ host: `rebound.example:${server.port}` }, 'Host'],
      [{ origin: 'http://attacker.example' }, 'Origin'],
      [{ 'sec-fetch-site': 'cross-site' }, 'Sec-Fetch-Site'],
    ] as const) {
      const res = await post(headers);
      expect(res.status, field).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', details: { causes: [{ field }] } });
    }
    expect(await store.get('MachineClass', 'default', 'rebound')).toBeUndefined();
    expect((await post({ host: `localhost:${server.port}` })).status).toBe(201);
  });

  it('hands the router the path as sent, so a dot segment or a doubled slash is refused with 400, not resolved into another namespace', async () => {
    // fetch() resolves dot segments itself: node:http sends the request target as given.
    const raw = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${server.url}${path}`, { method: 'GET', path }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const path of [
      '/apis/clusterless.dev/v1alpha1/namespaces/team-a/../default/machineclasses',
      '/apis/clusterless.dev/v1alpha1/namespaces//default/machineclasses',
    ]) {
      const res = await raw(path);
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body), path).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    }
    expect((await raw('/apis/clusterless.dev/v1alpha1/namespaces/default/machineclasses')).status).toBe(200);
  });

  it('refuses an absolute-form or asterisk-form request target with 400, rather than resolve it into a path', async () => {
    // node:http sends the request target as given; nothing legitimate sends a URL to this server.
    const raw = (method: string, target: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path: target }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const [method, target] of [
      ['GET', `http://127.0.0.1:${server.port}/apis/clusterless.dev/v1alpha1/namespaces/team-a/../default/machineclasses`],
      ['GET', `http://127.0.0.1:${server.port}/healthz`],
      ['OPTIONS', '*'],
    ] as const) {
      const res = await raw(method, target);
      expect(res.status, target).toBe(400);
      expect(JSON.parse(res.body), target).toMatchObject({ kind: 'Status', reason: 'BadRequest', details: { causes: [{ field: 'requestTarget' }] } });
    }
    expect((await raw('GET', '/healthz')).status).toBe(200);
  });

  it('answers an unknown path with a NotFound Status', async () => {
    const res = await call('GET', '/api/v1/pods');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'NotFound' });
  });
});
