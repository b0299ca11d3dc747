/**
 * The project's Kubernetes REST client (functions/adapters/kubernetes-client/rest-client.ts) against a real
 * kube-apiserver: it reads with the kubeconfig's CA and token, speaks merge and strategic merge patch as the API
 * server defines them, and turns every refusal into a KubernetesApiError carrying the HTTP status, the Status
 * body and the Retry-After the server asks for, which is what the workload adapters decide on (404, 409, 429, 5xx).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KubernetesApiError,
  KubernetesClient,
  KubernetesTimeoutError,
  errorMessage,
  httpStatusOf,
  resourcePath,
} from '../../../functions/adapters/kubernetes-client/rest-client.js';
import type { Status } from '../../../functions/adapters/kubernetes-client/types.js';
import { startKube, type RunningKube } from '../../support/kube.js';

let kube: RunningKube;
let admin: KubernetesClient;

beforeAll(async () => {
  kube = await startKube();
  admin = new KubernetesClient(kube.adminKubeconfigYaml);
}, 90_000);

afterAll(async () => {
  admin?.close();
  await kube?.stop();
});

const configMaps = (name?: string) => resourcePath('', 'v1', 'configmaps', { namespace: 'default', ...(name ? { name } : {}) });

async function refusal(p: Promise<unknown>): Promise<KubernetesApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KubernetesApiError);
  return err as KubernetesApiError;
}

describe('KubernetesClient', () => {
  it.each([
    { name: 'the text of a kubeconfig', source: () => kube.adminKubeconfigYaml },
    { name: 'the path of a kubeconfig file', source: () => kube.adminKubeconfig },
  ])('reads with the CA and bearer token of $name', async ({ source }) => {
    // Prepare
    const client = new KubernetesClient(source());
    // Act
    const ns = await client.get<{ metadata: { name: string } }>(resourcePath('', 'v1', 'namespaces', { name: 'default' }));
    client.close();
    // Assess
    expect(ns.metadata.name).toBe('default');
  });

  it('creates, replaces, merge-patches and deletes an object', async () => {
    // Prepare
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crud' }, data: { a: '1' } };
    // Act
    const created = await admin.create<{ metadata: { uid: string } }>(configMaps(), body);
    await admin.replace(configMaps('crud'), { ...body, data: { a: '2', b: '2' } });
    const patched = await admin.patch<{ data: Record<string, string> }>(configMaps('crud'), { data: { b: null, c: '3' } }, 'merge');
    await admin.delete(configMaps('crud'));
    // Assess
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(patched.data).toEqual({ a: '2', c: '3' });
    expect(httpStatusOf(await refusal(admin.get(configMaps('crud'))))).toBe(404);
  });

  it('sends a strategic merge patch as one (lists merged by key) and a merge patch as one (lists replaced)', async () => {
    // Prepare: a Deployment's containers merge by name under a strategic merge patch (no controller runs: it is only stored).
    const deployments = (name?: string) => resourcePath('apps', 'v1', 'deployments', { namespace: 'default', ...(name ? { name } : {}) });
    const deployment = (name: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              { name: 'app', image: 'registry.example/app:1' },
              { name: 'sidecar', image: 'registry.example/sidecar:1' },
            ],
          },
        },
      },
    });
    await admin.create(deployments(), deployment('strategic'));
    await admin.create(deployments(), deployment('merge'));
    const patch = { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/app:2' }] } } } };
    type Deployment = { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
    // Act
    const strategic = await admin.patch<Deployment>(deployments('strategic'), patch, 'strategic');
    const merged = await admin.patch<Deployment>(deployments('merge'), patch, 'merge');
    // Assess
    expect(strategic.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      'app=registry.example/app:2',
      'sidecar=registry.example/sidecar:1',
    ]);
    expect(merged.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['app=registry.example/app:2']);
  });

  it('passes label and field selectors and pages a list with limit and continue', async () => {
    // Prepare
    for (const i of [1, 2, 3]) await admin.create(configMaps(), { metadata: { name: `page-${i}`, labels: { paged: 'yes' } } });
    await admin.create(configMaps(), { metadata: { name: 'page-unlabelled' } });
    type List = { items: { metadata: { name: string } }[]; metadata: { continue?: string } };
    // Act
    const first = await admin.get<List>(configMaps(), { labelSelector: 'paged=yes', limit: 2 });
    const second = await admin.get<List>(configMaps(), { labelSelector: 'paged=yes', limit: 2, continue: first.metadata.continue });
    const byField = await admin.get<List>(configMaps(), { fieldSelector: 'metadata.name=page-unlabelled' });
    // Assess
    expect([...first.items, ...second.items].map((c) => c.metadata.name)).toEqual(['page-1', 'page-2', 'page-3']);
    expect(second.metadata.continue ?? '').toBe('');
    expect(byField.items.map((c) => c.metadata.name)).toEqual(['page-unlabelled']);
  });
});

describe('KubernetesClient errors', () => {
  it.each([
    {
      name: '404 NotFound for an object that does not exist',
      code: 404,
      reason: 'NotFound',
      call: () => admin.get(configMaps('never-was')),
    },
    {
      name: '409 AlreadyExists for a create of an existing name',
      code: 409,
      reason: 'AlreadyExists',
      call: async () => {
        await admin.create(configMaps(), { metadata: { name: 'twice' } });
        return admin.create(configMaps(), { metadata: { name: 'twice' } });
      },
    },
    {
      name: '422 Invalid for an object the API server does not accept',
      code: 422,
      reason: 'Invalid',
      call: () => admin.create(configMaps(), { metadata: { name: 'Not_A_Name' } }),
    },
    {
      name: '403 Forbidden for an identity RBAC does not allow',
      code: 403,
      reason: 'Forbidden',
      call: async () => {
        const mirror = new KubernetesClient(kube.mirrorKubeconfigYaml);
        return mirror.get(resourcePath('', 'v1', 'nodes')).finally(() => mirror.close());
      },
    },
    {
      name: '401 Unauthorized for a token the API server does not know',
      code: 401,
      reason: 'Unauthorized',
      call: async () => {
        const stranger = new KubernetesClient({ ...admin.config, token: 'not-a-token' });
        return stranger.get(resourcePath('', 'v1', 'nodes')).finally(() => stranger.close());
      },
    },
  ])('maps $name: the code, the Status and its message', async ({ code, reason, call }) => {
    // Act
    const err = await refusal(call());
    // Assess
    expect(err.code).toBe(code);
    expect(httpStatusOf(err)).toBe(code);
    expect(err.status).toMatchObject({ kind: 'Status', code, reason } satisfies Status);
    expect(errorMessage(err)).toBe(`${code}: ${err.status!.message}`);
    expect(err.retryAfterSeconds).toBeUndefined();
  });

  it('maps an eviction a PodDisruptionBudget refuses as 429 TooManyRequests with the budget as its cause', async () => {
    // Prepare: a Running pod behind a budget that allows no disruption (the status the disruption controller would write).
    const pods = resourcePath('', 'v1', 'pods', { namespace: 'default' });
    await admin.create(pods, {
      metadata: { name: 'db-0', labels: { app: 'db' } },
      spec: { nodeName: 'n1', containers: [{ name: 'db', image: 'registry.example/db:1' }] },
    });
    await admin.patch(
      resourcePath('', 'v1', 'pods', { namespace: 'default', name: 'db-0', subresource: 'status' }),
      { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
      'merge',
    );
    const pdbs = resourcePath('policy', 'v1', 'poddisruptionbudgets', { namespace: 'default' });
    await admin.create(pdbs, { metadata: { name: 'db' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } } });
    await admin.patch(
      resourcePath('policy', 'v1', 'poddisruptionbudgets', { namespace: 'default', name: 'db', subresource: 'status' }),
      { status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } },
      'merge',
    );
    // Act
    const err = await refusal(
      admin.create(resourcePath('', 'v1', 'pods', { namespace: 'default', name: 'db-0', subresource: 'eviction' }), {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: 'db-0', namespace: 'default' },
      }),
    );
    // Assess
    expect(err.code).toBe(429);
    expect(err.status).toMatchObject({ reason: 'TooManyRequests', details: { causes: [expect.objectContaining({ reason: 'DisruptionBudget' })] } });
    expect(errorMessage(err)).toMatch(/^429: Cannot evict pod as it would violate the pod's disruption budget/);
  });

  it('maps a 5xx with the Retry-After the API server sends (a list at a resourceVersion it has not reached: 504, retry after 1 s)', async () => {
    // Act: the watch cache waits a few seconds for the revision, then gives up with a Timeout asking for a retry.
    const err = await refusal(admin.get(resourcePath('', 'v1', 'nodes'), { resourceVersion: '999999999999', resourceVersionMatch: 'NotOlderThan' }));
    // Assess
    expect(err.code).toBe(504);
    expect(err.status).toMatchObject({ reason: 'Timeout', details: { retryAfterSeconds: 1 } });
    expect(err.retryAfterSeconds).toBe(1);
  }, 30_000);

  it('reports a refused connection as a transport error with its code, not as an API answer', async () => {
    // Prepare
    const dead = new KubernetesClient({ ...admin.config, server: 'https://127.0.0.1:1' });
    // Act
    const err = await dead.get(resourcePath('', 'v1', 'nodes')).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Assess
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(KubernetesApiError);
    expect(httpStatusOf(err)).toBeUndefined();
    expect(errorMessage(err)).toMatch(/ECONNREFUSED/);
  });

  it('gives up on a server that accepts the connection and never answers, with KubernetesTimeoutError', async () => {
    // Prepare: a TCP listener that never speaks TLS back, as a hung endpoint.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const hung = new KubernetesClient({ ...admin.config, server: `https://127.0.0.1:${port}` }, { timeoutMs: 300 });
    // Act
    const err = await hung.get(resourcePath('', 'v1', 'nodes')).then(
      () => undefined,
      (e: unknown) => e,
    );
    hung.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
    // Assess
    expect(err).toBeInstanceOf(KubernetesTimeoutError);
    expect((err as Error).name).toBe('KubernetesTimeoutError');
    expect(httpStatusOf(err)).toBeUndefined();
  });
});
