/** Objects of one cluster written through the real API router, as a user and the workflows would. */
import { expect } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { kindByName, type KindName } from '../../../functions/api/kinds.js';
import { handleRequest } from '../../../functions/api/http/router.js';
import type { Store } from '../../../functions/ports.js';

/** POSTs a manifest to the API; returns the stored object. */
export async function apiCreate<T extends ApiObject = ApiObject>(store: Store, manifest: Record<string, unknown>): Promise<T> {
  const def = kindByName(manifest['kind'] as string)!;
  const ns = ((manifest['metadata'] as { namespace?: string }).namespace ?? 'default') as string;
  const res = await handleRequest(
    {
      method: 'POST',
      path: `/apis/${API_VERSION}/namespaces/${ns}/${def.plural}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(manifest),
    },
    { store },
  );
  expect(res.status, res.body).toBe(201);
  return JSON.parse(res.body) as T;
}

/** Writes a status as the workflows do (status only, guarded by the current resourceVersion). */
export async function writeStatus(store: Store, kind: KindName, namespace: string, name: string, status: Record<string, unknown>): Promise<ApiObject> {
  const current = (await store.get(kind, namespace, name))!;
  return store.updateStatus({ ...current, status: { ...(current.status ?? {}), ...status } });
}

export const manifests = {
  machineClass: (namespace = 'default') => ({ apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name: 'small', namespace }, spec: { sim: {} } }),
  cluster: (name = 'prod', namespace = 'default') => ({ apiVersion: API_VERSION, kind: 'Cluster', metadata: { name, namespace }, spec: {} }),
  deployment: (cluster = 'prod', namespace = 'default', replicas = 2) => ({
    apiVersion: API_VERSION,
    kind: 'MachineDeployment',
    metadata: { name: 'workers', namespace },
    spec: { clusterName: cluster, replicas, template: { spec: { version: 'v1.31.2', machineClassRef: { name: 'small' } } } },
  }),
  machine: (name: string, cluster = 'prod', namespace = 'default') => ({
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: { name, namespace, labels: { 'clusterless.dev/deployment-name': 'workers' } },
    spec: { clusterName: cluster, version: 'v1.31.2', machineClassRef: { name: 'small' }, providerID: `sim://${name}` },
  }),
};

/** A store holding a small cluster: class, cluster, deployment, two machines with status. */
export async function seededStore(options: { cluster?: string; namespace?: string; store?: Store } = {}): Promise<Store> {
  const store = options.store ?? new MemoryStore();
  const cluster = options.cluster ?? 'prod';
  const ns = options.namespace ?? 'default';
  await apiCreate(store, manifests.machineClass(ns));
  await apiCreate(store, manifests.cluster(cluster, ns));
  await apiCreate(store, manifests.deployment(cluster, ns));
  for (const [i, name] of [`${cluster}-workers-a1b2c`, `${cluster}-workers-d3e4f`].entries()) {
    await apiCreate(store, manifests.machine(name, cluster, ns));
    await writeStatus(store, 'Machine', ns, name, { phase: 'Running', nodeRef: { name: `node-${i + 1}` } });
  }
  await writeStatus(store, 'MachineDeployment', ns, 'workers', { replicas: 2, readyReplicas: 2, updatedReplicas: 2, phase: 'Running' });
  await writeStatus(store, 'Cluster', ns, cluster, { phase: 'Provisioned' });
  return store;
}

/** Every object of the store, all kinds. */
export async function allObjects(store: Store): Promise<ApiObject[]> {
  const kinds: KindName[] = ['MachineClass', 'Cluster', 'ControlPlane', 'MachineDeployment', 'MachineSet', 'Machine', 'MachineHealthCheck'];
  return (await Promise.all(kinds.map((k) => store.list(k)))).flat();
}
