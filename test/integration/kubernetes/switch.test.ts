/**
 * MirrorService as the host runs it, against two real API servers (sharing one etcd under two prefixes):
 * pushes on store writes, switching the target while writes go on, the HTTP handler of
 * /clusterless/v1/mirror, and the self-hosting pivot, where the target is the API of a cluster that
 * clusterless itself manages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import {
  KubernetesMirror,
  KubernetesNodeReader,
  MirrorAnnotations,
  MirrorService,
  handleMirrorRequest,
  type ImportResult,
  type TargetObject,
} from '../../../functions/adapters/kubernetes/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Store } from '../../../functions/ports.js';
import { TriggeringStore } from '../../../local/runtime.js';
import { startEtcd, startKube, type RunningEtcd, type RunningKube } from '../../support/kube.js';
import { waitUntil } from '../../support/wait.js';
import { allObjects, apiCreate, manifests, seededStore, writeStatus } from './fixtures.js';

let etcd: RunningEtcd;
let a: RunningKube;
let b: RunningKube;

beforeAll(async () => {
  etcd = await startEtcd();
  [a, b] = await Promise.all([startKube({ etcd }), startKube({ etcd })]);
  await Promise.all([a.installCrds(), b.installCrds()]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await etcd?.stop();
});

/** The host's wiring: every successful store write is told to the service. */
function hosted(options: { kubeconfig?: string; onImport?: (r: ImportResult) => void } = {}): { store: Store; service: MirrorService } {
  const inner = new MemoryStore();
  let service: MirrorService | undefined;
  const store = new TriggeringStore(inner, (ns, cluster, obj) => service?.onChange(ns, cluster, obj));
  service = new MirrorService({
    store,
    sweepIntervalMs: 0,
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.onImport ? { onImport: options.onImport } : {}),
  });
  return { store, service };
}

async function targetObjects(kube: RunningKube, namespace?: string): Promise<TargetObject[]> {
  const out = await kube.kubectlOk(['get', 'clusterless', ...(namespace ? ['-n', namespace] : ['-A']), '-o', 'json']);
  return (JSON.parse(out) as { items: TargetObject[] }).items;
}

/** Every store object is in the target at the store's resourceVersion, with its spec and status. */
function expectMirrored(objects: readonly ApiObject[], inTarget: readonly TargetObject[]): void {
  const byKey = new Map(inTarget.map((o) => [`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o]));
  for (const obj of objects) {
    const there = byKey.get(`${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}`);
    expect(there, `${obj.kind} ${obj.metadata.name}`).toBeDefined();
    expect(there!.metadata.annotations?.[MirrorAnnotations.sourceResourceVersion]).toBe(obj.metadata.resourceVersion);
    expect(there!.spec).toEqual(obj.spec);
    expect(there!.status ?? {}).toEqual(obj.status ?? {});
  }
  expect(inTarget.filter((o) => o.metadata.annotations?.[MirrorAnnotations.sourceUid])).toHaveLength(objects.length);
}

describe('MirrorService', () => {
  it('pushes every store write to the target as it happens', async () => {
    // Prepare
    const { store, service } = hosted({ kubeconfig: a.mirrorKubeconfig });
    await service.start();
    // Act: writes through the API and the workflows' status writes, no sweep
    await seededStore({ store, namespace: 'push' });
    await service.flush();
    // Assess: MachineClass has no cluster, so TriggeringStore does not report it; the sweep brings it.
    const objects = await allObjects(store);
    const ofClusters = (list: { kind: string }[]) => list.filter((o) => o.kind !== 'MachineClass');
    expectMirrored(ofClusters(objects) as ApiObject[], ofClusters(await targetObjects(a, 'push')) as TargetObject[]);
    await service.sweep();
    expectMirrored(objects, await targetObjects(a, 'push'));
    expect(service.status()).toMatchObject({ target: a.server, objects: objects.length, errors: [] });
    await service.stop();
    // The mirror's finalizer would hold a kubectl delete until a mirror runs again: the mirror cleans up itself.
    await new KubernetesMirror({ kubeconfig: a.mirrorKubeconfig }).removeAll();
  });

  it('switches the target while writes go on: everything moves, the old target is left clean', async () => {
    // Prepare
    const { store, service } = hosted({ kubeconfig: a.mirrorKubeconfig });
    await seededStore({ store, namespace: 'move' });
    await service.start();
    expectMirrored(await allObjects(store), await targetObjects(a, 'move'));
    // Act: a writer keeps changing status and creating machines (as reconciles do) during the switch
    const writer = (async () => {
      for (let i = 0; i < 20; i++) {
        await writeStatus(store, 'MachineDeployment', 'move', 'workers', { readyReplicas: i % 3 });
        if (i % 5 === 0) await apiCreate(store, manifests.machine(`late-${i}`, 'prod', 'move'));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const status = await service.setTarget(b.mirrorKubeconfigYaml); // inline YAML, as PUT /clusterless/v1/mirror takes it
    await writer;
    await service.flush();
    // Assess
    expect(status.target).toBe(b.server);
    expectMirrored(await allObjects(store), await targetObjects(b, 'move'));
    expect(await targetObjects(a)).toEqual([]);
    await service.stop();
  });

  it('serves GET and PUT /clusterless/v1/mirror, refusing a file path and a target it cannot use, and keeping the old one', async () => {
    // Prepare
    const { service } = hosted({ kubeconfig: a.mirrorKubeconfig });
    await service.start();
    // Act
    const got = await handleMirrorRequest(service, { method: 'GET', path: '/clusterless/v1/mirror' });
    const noBody = await handleMirrorRequest(service, { method: 'PUT', path: '/clusterless/v1/mirror', body: '{}' });
    // A path, even of a real kubeconfig: the route takes the YAML inline only (the CLI reads the file).
    const aPath = await handleMirrorRequest(service, {
      method: 'PUT',
      path: '/clusterless/v1/mirror',
      body: JSON.stringify({ kubeconfig: b.adminKubeconfig }),
    });
    const unreachable = await handleMirrorRequest(service, {
      method: 'PUT',
      path: '/clusterless/v1/mirror',
      body: JSON.stringify({ kubeconfig: a.mirrorKubeconfigYaml.replace(a.server, 'https://127.0.0.1:1') }),
    });
    // The admin identity is not the mirror's, but can do everything: a switch to it works.
    const switched = await handleMirrorRequest(service, {
      method: 'PUT',
      path: '/clusterless/v1/mirror',
      body: JSON.stringify({ kubeconfig: b.adminKubeconfigYaml }),
    });
    const deleted = await handleMirrorRequest(service, { method: 'DELETE', path: '/clusterless/v1/mirror' });
    // Assess
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body)).toEqual({ target: a.server, lastSyncTime: expect.any(String), objects: 0, errors: [] });
    expect([noBody.status, aPath.status, unreachable.status, deleted.status]).toEqual([400, 400, 502, 405]);
    expect(JSON.parse(aPath.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', details: { causes: [{ field: 'kubeconfig' }] } });
    expect(JSON.parse(unreachable.body)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', message: expect.stringContaining('not changed') });
    expect(switched.status).toBe(200);
    expect(JSON.parse(switched.body)).toMatchObject({ target: b.server, errors: [] });
    await service.stop();
  });
});

describe('self-hosting: the target is the API of a cluster clusterless manages', () => {
  it('mirrors the cluster into its own API, reads its nodes there, and imports kubectl edits made there', async () => {
    // Prepare: cluster "mgmt" is managed by clusterless, and `b` plays its API server (its nodes live there).
    const imported: ImportResult[] = [];
    const { store, service } = hosted({ kubeconfig: a.mirrorKubeconfig, onImport: (r) => imported.push(r) });
    await seededStore({ store, cluster: 'mgmt', namespace: 'fleet' });
    await service.start();
    for (const name of ['node-1', 'node-2'])
      await b.kubectlOk(['apply', '-f', '-'], {
        input: stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { providerID: `sim://mgmt-workers-${name}` } }),
      });
    const kubeconfigOfCluster = (ns: string, cluster: string) => (ns === 'fleet' && cluster === 'mgmt' ? b.adminKubeconfig : undefined);
    const nodes = new KubernetesNodeReader({ kubeconfigFor: kubeconfigOfCluster });
    // Act 1: the pivot, `clusterless mirror set --kubeconfig <the managed cluster's kubeconfig>`
    await service.setTarget(b.mirrorKubeconfig);
    // Assess 1
    expectMirrored(await allObjects(store), await targetObjects(b, 'fleet'));
    expect(await targetObjects(a, 'fleet')).toEqual([]);
    expect((await nodes.listNodes('fleet', 'mgmt')).map((n) => n.name)).toEqual(['node-1', 'node-2']);
    const cluster = await b.kubectlOk(['get', 'clusters.clusterless.dev', 'mgmt', '-n', 'fleet', '-o', 'jsonpath={.status.phase}']);
    expect(cluster).toBe('Provisioned');
    // Act 2: the cluster's own users scale its workers with kubectl
    const before = (await store.get<MachineDeployment>('MachineDeployment', 'fleet', 'workers'))!;
    await b.kubectlOk(['apply', '-f', '-'], { input: stringify(manifests.deployment('mgmt', 'fleet', 4)) });
    // Assess 2: the watch of the new target imports it, with no sweep
    await waitUntil('the edit imported', async () => imported.length > 0 || undefined, 20_000, 25);
    expect(imported).toEqual([
      { kind: 'MachineDeployment', namespace: 'fleet', name: 'workers', outcome: { type: 'imported', generation: before.metadata.generation! + 1 } },
    ]);
    const after = (await store.get<MachineDeployment>('MachineDeployment', 'fleet', 'workers'))!;
    expect(after.spec.replicas).toBe(4);
    await service.flush();
    expectMirrored(await allObjects(store), await targetObjects(b, 'fleet'));
    await service.stop();
  });
});
