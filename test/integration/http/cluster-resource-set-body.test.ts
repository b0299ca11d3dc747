/**
 * Large ClusterResourceSets through the HTTP API of the embedded host (node:http, the router, the payload store):
 * a 1 MB set is accepted and read back whole, while the stored item keeps only a reference; every other kind keeps
 * the 256 KiB limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { MemoryPayloadStore, PayloadOffloadingStore } from '../../../functions/adapters/payloads/index.js';
import { API_VERSION } from '../../../functions/api/common.js';
import { startHttpServer, type RunningHttpServer } from '../../../local/http-server.js';

const inner = new MemoryStore();
const payloads = new MemoryPayloadStore();
let server: RunningHttpServer;

beforeAll(async () => {
  server = await startHttpServer({ port: 0, deps: { store: new PayloadOffloadingStore(inner, payloads) } });
});
afterAll(async () => {
  await server?.close();
});

const NS = `/apis/${API_VERSION}/namespaces/default`;
/** About `bytes` of manifests: one ConfigMap whose data is that long (a CNI's manifests weigh 350 KB). */
const bigManifests = (bytes: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: "${'x'.repeat(bytes)}"\n`;
const crs = (name: string, manifests: string) => ({
  apiVersion: API_VERSION,
  kind: 'ClusterResourceSet',
  metadata: { name },
  spec: { clusterSelector: { matchLabels: { cni: 'calico' } }, resources: [{ name: 'calico', manifests }] },
});

const post = (path: string, body: unknown, type = 'application/json') =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });

describe('ClusterResourceSet bodies', () => {
  it('accepts a 1 MB ClusterResourceSet, reads it back whole, and stores only a reference', async () => {
    const manifests = bigManifests(1024 * 1024);
    const created = await post(`${NS}/clusterresourcesets`, crs('cni', manifests));
    expect(created.status, await created.clone().text()).toBe(201);
    const read: any = await (await fetch(`${server.url}${NS}/clusterresourcesets/cni`)).json();
    expect(read.spec.resources).toEqual([{ name: 'calico', manifests }]);
    const listed: any = await (await fetch(`${server.url}${NS}/clusterresourcesets`)).json();
    expect(listed.items[0].spec.resources[0].manifests).toBe(manifests);
    const stored = (await inner.get('ClusterResourceSet', 'default', 'cni'))!;
    expect(JSON.stringify(stored).length).toBeLessThan(2048);
    expect((stored.spec as { resources: unknown[] }).resources).toEqual([
      { name: 'calico', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), size: manifests.length },
    ]);
  });

  it('finds nothing changed when the same large set is applied again (a kubectl apply round trip)', async () => {
    const manifests = bigManifests(600 * 1024);
    const body = JSON.stringify(crs('again', manifests));
    const apply = () =>
      fetch(`${server.url}${NS}/clusterresourcesets/again?fieldManager=kubectl`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/apply-patch+yaml' },
        body,
      });
    expect((await apply()).status).toBe(201);
    const before = (await inner.get('ClusterResourceSet', 'default', 'again'))!.metadata.resourceVersion;
    expect((await apply()).status).toBe(200);
    expect((await inner.get('ClusterResourceSet', 'default', 'again'))!.metadata.resourceVersion).toBe(before);
  });

  it('refuses a ClusterResourceSet over 4 MiB with 413', async () => {
    const res = await post(`${NS}/clusterresourcesets`, crs('huge', bigManifests(4 * 1024 * 1024 + 10)));
    expect(res.status).toBe(413);
    expect(await inner.get('ClusterResourceSet', 'default', 'huge')).toBeUndefined();
  });

  it('still refuses a 1 MB Cluster with 413 (every other kind keeps 256 KiB)', async () => {
    const res = await post(`${NS}/clusters`, {
      apiVersion: API_VERSION,
      kind: 'Cluster',
      metadata: { name: 'big', annotations: { a: 'x'.repeat(1024 * 1024) } },
      spec: {},
    });
    expect(res.status).toBe(413);
    expect(await inner.get('Cluster', 'default', 'big')).toBeUndefined();
  });

  it('refuses manifests that are not Kubernetes objects with 422 naming the field, and stores nothing', async () => {
    const res = await post(`${NS}/clusterresourcesets`, crs('bad', 'kind: ConfigMap\nmetadata:\n  name: x\n'));
    expect(res.status).toBe(422);
    const status: any = await res.json();
    expect(status.details.causes[0]).toMatchObject({ field: 'spec.resources[0].manifests', message: expect.stringContaining('no apiVersion') });
    expect(await inner.get('ClusterResourceSet', 'default', 'bad')).toBeUndefined();
  });
});
