/**
 * The mirror against a real kube-apiserver: objects and status by server-side apply, kubectl output from
 * the printer columns, kubectl edits imported (or refused with a condition), creations and deletions.
 * One API server for the file; each test works in its own namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import {
  KubernetesMirror,
  MIRROR_CONDITION,
  MIRROR_FINALIZER,
  MirrorAnnotations,
  MirrorService,
  TargetWatch,
  type TargetObject,
} from '../../../functions/adapters/kubernetes/index.js';
import { kindByName } from '../../../functions/api/kinds.js';
import type { Machine } from '../../../functions/api/machine.js';
import { TriggeringStore } from '../../../local/runtime.js';
import { waitUntil } from '../../support/wait.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import { allObjects, apiCreate, manifests, seededStore, writeStatus } from './fixtures.js';

let kube: RunningKube;
/** One store for the file, as a target mirrors one store; each test seeds its own namespace. */
const store = new MemoryStore();

beforeAll(async () => {
  kube = await startKube();
  await kube.installCrds();
});

afterAll(async () => {
  await kube?.stop();
});

const mirrorFor = () => new KubernetesMirror({ kubeconfig: kube.mirrorKubeconfig, fieldManager: 'clusterless' });

/** kubectl's table as rows of cells, cut at the header's column starts (empty cells stay empty). */
function table(out: string): string[][] {
  const [header, ...rows] = out.replace(/\n$/, '').split('\n');
  const starts = [...header!.matchAll(/\S+/g)].map((m) => m.index);
  const cut = (line: string) => starts.map((s, i) => line.slice(s, starts[i + 1]).trim());
  return [cut(header!), ...rows.map(cut)];
}

async function getTarget(kind: string, namespace: string, name: string): Promise<TargetObject> {
  return JSON.parse(await kube.kubectlOk(['get', kind, name, '-n', namespace, '-o', 'json'])) as TargetObject;
}

/** A fresh namespace seeded in the store, everything mirrored. */
async function seeded(namespace: string) {
  await seededStore({ namespace, store });
  const mirror = mirrorFor();
  const result = await mirror.sync(store);
  return { store, mirror, result };
}

describe('mirror: objects in the target', () => {
  it('applies every object with its status, creating the namespace, as the mirror identity', async () => {
    // Prepare
    const { store, result } = await seeded('mirror-apply');
    // Assess
    const objects = (await allObjects(store)).filter((o) => o.metadata.namespace === 'mirror-apply');
    expect(result.applied).toBe(objects.length);
    for (const obj of objects) {
      const there = await getTarget(obj.kind.toLowerCase(), obj.metadata.namespace, obj.metadata.name);
      expect(there.spec).toEqual(obj.spec);
      expect(there.status ?? {}).toEqual(obj.status ?? {});
      expect(there.metadata.annotations?.[MirrorAnnotations.sourceUid]).toBe(obj.metadata.uid);
      expect(there.metadata.annotations?.[MirrorAnnotations.sourceResourceVersion]).toBe(obj.metadata.resourceVersion);
      // The store's finalizers are clusterless' teardown, not the target's: only the mirror's own; owner uids are the store's.
      expect(there.metadata.finalizers).toEqual([MIRROR_FINALIZER]);
      expect(there.metadata['ownerReferences']).toBeUndefined();
    }
  });

  it('shows machines through `kubectl get machines` with the printer columns', async () => {
    // Prepare
    await seeded('mirror-kubectl');
    // Act
    const out = await kube.kubectlOk(['get', 'machines', '-n', 'mirror-kubectl']);
    const wide = await kube.kubectlOk(['get', 'ma', '-n', 'mirror-kubectl', '-o', 'wide']);
    // Assess
    const [header, ...rows] = table(out);
    expect(header).toEqual(['NAME', 'CLUSTER', 'NODENAME', 'PHASE', 'AGE', 'VERSION']);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(['prod-workers-a1b2c', 'prod', 'node-1', 'Running', expect.stringMatching(/^\d+s$/), 'v1.31.2']);
    expect(rows[1]).toEqual(['prod-workers-d3e4f', 'prod', 'node-2', 'Running', expect.stringMatching(/^\d+s$/), 'v1.31.2']);
    expect(table(wide)[0]).toEqual(['NAME', 'CLUSTER', 'NODENAME', 'PROVIDERID', 'PHASE', 'AGE', 'VERSION']);
    expect(wide).toContain('sim://prod-workers-a1b2c');
    const md = await kube.kubectlOk(['get', 'machinedeployments', '-n', 'mirror-kubectl']);
    expect(table(md)).toEqual([
      ['NAME', 'CLUSTER', 'REPLICAS', 'READY', 'UPDATED', 'UNAVAILABLE', 'PHASE', 'AGE', 'VERSION'],
      ['workers', 'prod', '2', '2', '2', '', 'Running', expect.stringMatching(/^\d+s$/), 'v1.31.2'],
    ]);
    // The category and the short names work as in Cluster API.
    const all = await kube.kubectlOk(['get', 'clusterless', '-n', 'mirror-kubectl', '-o', 'name']);
    expect(all.trim().split('\n').sort()).toEqual(
      [
        'cluster.clusterless.dev/prod',
        'machine.clusterless.dev/prod-workers-a1b2c',
        'machine.clusterless.dev/prod-workers-d3e4f',
        'machineclass.clusterless.dev/small',
        'machinedeployment.clusterless.dev/workers',
      ].sort(),
    );
  });

  it('scales a MachineDeployment in the target through the scale subresource (kubectl scale)', async () => {
    // Prepare
    const { store, mirror } = await seeded('mirror-scale');
    const before = (await store.get<MachineDeployment>('MachineDeployment', 'mirror-scale', 'workers'))!;
    // Act
    await kube.kubectlOk(['scale', 'md', 'workers', '-n', 'mirror-scale', '--replicas=4']);
    const imported = await mirror.importEdits(store);
    // Assess
    expect(imported).toEqual([
      { kind: 'MachineDeployment', namespace: 'mirror-scale', name: 'workers', outcome: { type: 'imported', generation: before.metadata.generation! + 1 } },
    ]);
    expect((await store.get<MachineDeployment>('MachineDeployment', 'mirror-scale', 'workers'))!.spec.replicas).toBe(4);
  });

  it('pushes a status change and a removal', async () => {
    // Prepare
    const { store, mirror } = await seeded('mirror-push');
    // Act: a status write, then a MachineClass (no finalizer) deleted for good
    const machine = await writeStatus(store, 'Machine', 'mirror-push', 'prod-workers-a1b2c', { phase: 'Deleting' });
    await mirror.apply(machine);
    await store.delete('MachineClass', 'mirror-push', 'small');
    await mirror.delete('MachineClass', 'mirror-push', 'small');
    // Assess
    expect((await getTarget('machine', 'mirror-push', 'prod-workers-a1b2c')).status?.['phase']).toBe('Deleting');
    const gone = await kube.kubectl(['get', 'machineclass', 'small', '-n', 'mirror-push']);
    expect(gone.stderr).toMatch(/NotFound/);
  });

  it('puts back an object gone from the target without its delete (finalizer taken off by hand), and removes one the store no longer has', async () => {
    // Prepare
    const { store, mirror } = await seeded('mirror-resync');
    const gone = ['-n', 'mirror-resync', 'machine', 'prod-workers-a1b2c'];
    await kube.kubectlOk(['patch', ...gone, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await kube.kubectlOk(['delete', ...gone, '--wait=true']);
    await store.delete('MachineClass', 'mirror-resync', 'small');
    // Act
    const result = await mirror.sync(store);
    // Assess
    expect(result.applied).toBe(1);
    expect(result.deleted).toBe(1);
    expect((await getTarget('machine', 'mirror-resync', 'prod-workers-a1b2c')).status?.['phase']).toBe('Running');
    expect((await kube.kubectl(['get', 'machineclass', 'small', '-n', 'mirror-resync'])).code).not.toBe(0);
  });

  it('a sync of a store already mirrored writes nothing', async () => {
    const { store, mirror } = await seeded('mirror-noop');
    const again = await mirror.sync(store);
    expect(again).toMatchObject({ applied: 0, deleted: 0, imports: [] });
  });
});

describe('mirror: kubectl edits imported into the store', () => {
  it('imports `kubectl apply` of a MachineDeployment with more replicas, bumping its generation once', async () => {
    // Prepare
    const ns = 'edit-apply';
    const { store, mirror } = await seeded(ns);
    const before = (await store.get<MachineDeployment>('MachineDeployment', ns, 'workers'))!;
    const manifest = manifests.deployment('prod', ns, 5);
    // Act
    await kube.kubectlOk(['apply', '-f', '-'], { input: stringify(manifest) });
    const result = await mirror.sync(store);
    // Assess
    expect(result.imports).toEqual([
      { kind: 'MachineDeployment', namespace: ns, name: 'workers', outcome: { type: 'imported', generation: before.metadata.generation! + 1 } },
    ]);
    const after = (await store.get<MachineDeployment>('MachineDeployment', ns, 'workers'))!;
    expect(after.spec.replicas).toBe(5);
    expect(after.metadata.generation).toBe(before.metadata.generation! + 1);
    expect(after.status).toEqual(before.status);
    expect(after.metadata.finalizers).toEqual(before.metadata.finalizers);
    // No mirror annotation or kubectl bookkeeping leaks into the store.
    expect(Object.keys(after.metadata.annotations ?? {}).filter((k) => k.includes('mirror') || k.startsWith('kubectl'))).toEqual([]);
    // The target now carries the new resourceVersion, and the next sweep finds nothing to do.
    expect((await getTarget('md', ns, 'workers')).metadata.annotations?.[MirrorAnnotations.sourceResourceVersion]).toBe(after.metadata.resourceVersion);
    expect(await mirror.sync(store)).toMatchObject({ applied: 0, imports: [] });
  });

  it('refuses a version downgrade with a MirrorSynced condition in the target and leaves the store unchanged', async () => {
    // Prepare
    const ns = 'edit-invalid';
    const { store, mirror } = await seeded(ns);
    const before = await allObjects(store);
    // Act
    await kube.kubectlOk(['patch', 'md', 'workers', '-n', ns, '--type=merge', '-p', '{"spec":{"template":{"spec":{"version":"v1.30.0"}}}}']);
    const result = await mirror.sync(store);
    // Assess
    expect(result.imports).toHaveLength(1);
    expect(result.imports[0]!.outcome).toMatchObject({
      type: 'refused',
      reason: 'Invalid',
      causes: [expect.objectContaining({ field: 'spec.template.spec.version' })],
    });
    expect(await allObjects(store)).toEqual(before);
    const there = await getTarget('md', ns, 'workers');
    const condition = there.status?.conditions?.find((c) => c.type === MIRROR_CONDITION);
    expect(condition).toMatchObject({ status: 'False', reason: 'Invalid', message: expect.stringContaining('spec.template.spec.version') });
    // The spec in the target is the store's again; the other status fields are kept.
    expect((there.spec as MachineDeployment['spec']).template.spec.version).toBe('v1.31.2');
    expect(there.status?.['readyReplicas']).toBe(2);
    // A refusal is reported once, not again on every sweep.
    expect(await mirror.sync(store)).toMatchObject({ applied: 0, imports: [] });
  });

  it("holds an imported edit to the installation's replica limit, as the API holds writes: a refusal, the store unchanged", async () => {
    // Prepare
    const ns = 'edit-over-limit';
    await seededStore({ namespace: ns, store });
    const mirror = new KubernetesMirror({ kubeconfig: kube.mirrorKubeconfig, fieldManager: 'clusterless', limits: { maxMachineDeploymentReplicas: 4 } });
    await mirror.sync(store);
    const before = await allObjects(store);
    // Act: `kubectl scale --replicas 5` in the target
    await kube.kubectlOk(['scale', 'md', 'workers', '-n', ns, '--replicas', '5']);
    const result = await mirror.sync(store);
    // Assess
    expect(result.imports).toHaveLength(1);
    expect(result.imports[0]!.outcome).toMatchObject({ type: 'refused', reason: 'Invalid', causes: [expect.objectContaining({ field: 'spec.replicas' })] });
    expect(await allObjects(store)).toEqual(before);
  });

  it('clears the refusal condition when a valid edit is imported afterwards', async () => {
    const ns = 'edit-recover';
    const { store, mirror } = await seeded(ns);
    await kube.kubectlOk(['patch', 'md', 'workers', '-n', ns, '--type=merge', '-p', '{"spec":{"template":{"spec":{"version":"v1.30.0"}}}}']);
    await mirror.sync(store);
    await kube.kubectlOk(['patch', 'md', 'workers', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":3}}']);
    const result = await mirror.sync(store);
    expect(result.imports[0]!.outcome.type).toBe('imported');
    const md = (await store.get<MachineDeployment>('MachineDeployment', ns, 'workers'))!;
    await mirror.apply(md); // the push the host makes after the store write
    const there = await getTarget('md', ns, 'workers');
    expect((there.status?.conditions ?? []).some((c) => c.type === MIRROR_CONDITION)).toBe(false);
    expect((there.spec as MachineDeployment['spec']).replicas).toBe(3);
  });

  it('refuses an edit made on an object that changed in clusterless since it was mirrored (Conflict)', async () => {
    // Prepare
    const ns = 'edit-conflict';
    const { store, mirror } = await seeded(ns);
    // The store moves on (a status write) before the mirror pushes it, and someone edits the target meanwhile.
    await writeStatus(store, 'MachineDeployment', ns, 'workers', { readyReplicas: 1 });
    const before = await allObjects(store);
    await kube.kubectlOk(['patch', 'md', 'workers', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":7}}']);
    // Act
    const result = await mirror.sync(store);
    // Assess
    expect(result.imports[0]!.outcome).toMatchObject({ type: 'refused', reason: 'Conflict' });
    expect(await allObjects(store)).toEqual(before);
    const there = await getTarget('md', ns, 'workers');
    expect((there.spec as MachineDeployment['spec']).replicas).toBe(2);
    expect(there.status?.['readyReplicas']).toBe(1);
    expect(there.status?.conditions?.find((c) => c.type === MIRROR_CONDITION)).toMatchObject({ reason: 'Conflict' });
  });

  it('is protected by the CRD schema too: kubectl cannot even store replicas -1 in the target', async () => {
    const ns = 'edit-schema';
    await seeded(ns);
    const r = await kube.kubectl(['apply', '-f', '-'], { input: stringify(manifests.deployment('prod', ns, -1)) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/spec\.replicas/);
    expect(r.stderr).toMatch(/greater than or equal to 0/);
  });

  it('imports an object created in the target with `kubectl apply`, with defaults and its finalizer', async () => {
    // Prepare
    const ns = 'edit-create';
    const { store, mirror } = await seeded(ns);
    const extra = { ...manifests.deployment('prod', ns, 1), metadata: { name: 'gpu', namespace: ns } };
    // Act
    await kube.kubectlOk(['apply', '-f', '-'], { input: stringify(extra) });
    const result = await mirror.sync(store);
    // Assess
    expect(result.imports).toEqual([{ kind: 'MachineDeployment', namespace: ns, name: 'gpu', outcome: { type: 'created' } }]);
    const created = (await store.get<MachineDeployment>('MachineDeployment', ns, 'gpu'))!;
    expect(created.spec.replicas).toBe(1);
    expect(created.spec.strategy.type).toBe('RollingUpdate');
    expect(created.metadata.finalizers).toEqual(['clusterless.dev/machine-deployment']);
    // ...and mirrored back: the target object now carries the store's uid.
    expect((await getTarget('md', ns, 'gpu')).metadata.annotations?.[MirrorAnnotations.sourceUid]).toBe(created.metadata.uid);
  });

  it('refuses an invalid creation with a condition, leaves it in the target for the user to fix, and never deletes it', async () => {
    // Prepare: a ControlPlane with an even replica count (a rule the CRD schema cannot say)
    const ns = 'edit-create-invalid';
    const { store, mirror } = await seeded(ns);
    const cp = {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'ControlPlane',
      metadata: { name: 'prod-cp', namespace: ns },
      spec: { clusterName: 'prod', replicas: 2, version: 'v1.31.2', machineClassRef: { name: 'small' } },
    };
    // Act
    await kube.kubectlOk(['apply', '-f', '-'], { input: stringify(cp) });
    const result = await mirror.sync(store);
    await mirror.sync(store);
    // Assess
    expect(result.imports[0]).toMatchObject({ kind: 'ControlPlane', name: 'prod-cp', outcome: { type: 'refused', reason: 'Invalid' } });
    expect(await store.get('ControlPlane', ns, 'prod-cp')).toBeUndefined();
    const there = await getTarget('cp', ns, 'prod-cp');
    expect(there.status?.conditions?.find((c) => c.type === MIRROR_CONDITION)).toMatchObject({
      status: 'False',
      reason: 'Invalid',
      message: expect.stringContaining('spec.replicas'),
    });
  });

  it('imports labels and annotations set with kubectl (e.g. marking a machine for deletion)', async () => {
    const ns = 'edit-annotate';
    const { store, mirror } = await seeded(ns);
    await kube.kubectlOk(['annotate', 'machine', 'prod-workers-a1b2c', '-n', ns, 'clusterless.dev/delete-machine=yes']);
    const result = await mirror.sync(store);
    expect(result.imports[0]!.outcome).toMatchObject({ type: 'imported' });
    expect((await store.get('Machine', ns, 'prod-workers-a1b2c'))!.metadata.annotations).toEqual({ 'clusterless.dev/delete-machine': 'yes' });
  });
});

describe('mirror: RBAC of crds/rbac.yaml', () => {
  it('lets the mirror identity touch the clusterless resources and nothing else', async () => {
    const can = async (...args: string[]) => (await kube.kubectl(['auth', 'can-i', ...args], { kubeconfig: kube.mirrorKubeconfig })).stdout.trim();
    expect(await can('patch', 'machinedeployments.clusterless.dev', '-n', 'any')).toBe('yes');
    expect(await can('patch', 'machinedeployments.clusterless.dev', '--subresource=status', '-n', 'any')).toBe('yes');
    expect(await can('delete', 'clusters.clusterless.dev', '-n', 'any')).toBe('yes');
    expect(await can('update', 'clusters.clusterless.dev', '-n', 'any')).toBe('no');
    expect(await can('list', 'pods', '-n', 'any')).toBe('no');
    expect(await can('get', 'secrets', '-n', 'any')).toBe('no');
    expect(await can('delete', 'namespaces')).toBe('no');
    expect(await can('create', 'customresourcedefinitions.apiextensions.k8s.io')).toBe('no');
  });
});

it('a fresh store object appears in the target with the API defaults the CRD also knows', async () => {
  // The mirrored spec survives the round trip through the CRD schema unchanged (nothing pruned or re-defaulted).
  const full = await apiCreate(store, {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'MachineHealthCheck',
    metadata: { name: 'strict', namespace: 'roundtrip' },
    spec: {
      clusterName: 'prod',
      selector: { matchLabels: { 'clusterless.dev/cluster-name': 'prod' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
      unhealthyConditions: [{ type: 'Ready', status: 'False', timeout: '30s' }],
      maxUnhealthy: '40%',
      maxInFlight: 2,
    },
  });
  await mirrorFor().apply(full);
  expect((await getTarget('mhc', 'roundtrip', 'strict')).spec).toEqual(full.spec);
});

describe('mirror: kubectl delete imported into the store', () => {
  it('deletes in clusterless an object deleted in the target, found by a plain list (the stateless import)', async () => {
    // Prepare
    const ns = 'delete-list';
    const { store, mirror } = await seeded(ns);
    // Act: kubectl returns at once; the mirror's finalizer keeps the object until the import
    await kube.kubectlOk(['delete', 'machineclass', 'small', '-n', ns, '--wait=false']);
    const result = await mirror.sync(store);
    // Assess
    expect(result.imports).toEqual([{ kind: 'MachineClass', namespace: ns, name: 'small', outcome: { type: 'deleted', removed: true } }]);
    expect(await store.get('MachineClass', ns, 'small')).toBeUndefined();
    expect((await kube.kubectl(['get', 'machineclass', 'small', '-n', ns])).stderr).toMatch(/NotFound/);
  });

  it('runs the teardown of an object with finalizers: terminating in the target with the deletion annotation until clusterless removes it', async () => {
    // Prepare
    const ns = 'delete-teardown';
    const { store, mirror } = await seeded(ns);
    // Act
    await kube.kubectlOk(['delete', 'machine', 'prod-workers-a1b2c', '-n', ns, '--wait=false']);
    const first = await mirror.sync(store);
    // Assess: marked in the store (its finalizer holds it for the teardown), shown terminating in the target
    expect(first.imports).toEqual([{ kind: 'Machine', namespace: ns, name: 'prod-workers-a1b2c', outcome: { type: 'deleted', removed: false } }]);
    const marked = (await store.get<Machine>('Machine', ns, 'prod-workers-a1b2c'))!;
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    const terminating = await getTarget('machine', ns, 'prod-workers-a1b2c');
    expect(terminating.metadata.deletionTimestamp).toBeDefined();
    expect(terminating.metadata.annotations?.[MirrorAnnotations.deletionTimestamp]).toBe(marked.metadata.deletionTimestamp);
    // Act: the teardown ends (the workflow takes its finalizer off and the store removes the machine)
    await store.update({ ...marked, metadata: { ...marked.metadata, finalizers: [] } });
    expect(await store.get('Machine', ns, 'prod-workers-a1b2c')).toBeUndefined();
    await mirror.sync(store);
    // Assess
    expect((await kube.kubectl(['get', 'machine', 'prod-workers-a1b2c', '-n', ns])).stderr).toMatch(/NotFound/);
  });

  it('deletes nothing when the object was re-created in clusterless meanwhile (another uid), and mirrors the new one', async () => {
    // Prepare
    const ns = 'delete-recreated';
    const { store, mirror } = await seeded(ns);
    await kube.kubectlOk(['delete', 'machineclass', 'small', '-n', ns, '--wait=false']);
    await store.delete('MachineClass', ns, 'small');
    const again = await apiCreate(store, manifests.machineClass(ns));
    // Act
    const result = await mirror.sync(store);
    await mirror.sync(store); // the old copy was let go; the next resync applies the new incarnation
    // Assess
    expect(result.imports).toEqual([]);
    expect((await store.get('MachineClass', ns, 'small'))!.metadata.uid).toBe(again.metadata.uid);
    const there = await getTarget('machineclass', ns, 'small');
    expect(there.metadata.deletionTimestamp).toBeUndefined();
    expect(there.metadata.annotations?.[MirrorAnnotations.sourceUid]).toBe(again.metadata.uid);
  });
});

describe('mirror: the watch (MirrorService, no sweep)', () => {
  /** The host's wiring with the sweep off: only the watch and the pushes move anything. */
  async function watched(namespace: string) {
    await seededStore({ namespace, store });
    let service: MirrorService | undefined;
    const hosted = new TriggeringStore(store, (n, c, obj) => service?.onChange(n, c, obj));
    service = new MirrorService({ store: hosted, kubeconfig: kube.mirrorKubeconfig, sweepIntervalMs: 0 });
    await service.start();
    return { service, store: hosted };
  }

  it('imports a kubectl edit as it is made, without waiting for a resync', async () => {
    // Prepare
    const ns = 'watch-edit';
    const { service } = await watched(ns);
    try {
      // Act
      await kube.kubectlOk(['patch', 'md', 'workers', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":6}}']);
      // Assess
      const md = await waitUntil(
        'the edit imported',
        async () => {
          const got = await store.get<MachineDeployment>('MachineDeployment', ns, 'workers');
          return got?.spec.replicas === 6 && got;
        },
        20_000,
        25,
      );
      expect(md.spec.replicas).toBe(6);
      expect(service.status().errors).toEqual([]);
    } finally {
      await service.stop();
    }
  });

  it('`kubectl delete --wait` returns once clusterless has deleted the object', async () => {
    // Prepare
    const ns = 'watch-delete';
    const { service } = await watched(ns);
    try {
      // Act: waits for the object to be gone from the target, which only the mirror's import lets happen
      await kube.kubectlOk(['delete', 'machineclass', 'small', '-n', ns, '--wait=true', '--timeout=20s']);
      // Assess
      expect(await store.get('MachineClass', ns, 'small')).toBeUndefined();
      expect(service.status().errors).toEqual([]);
    } finally {
      await service.stop();
    }
  });
});

describe('mirror: the watch of the target (TargetWatch)', () => {
  it('relists on 410 Gone: a resourceVersion the server no longer has ends in a list that hands over every object', async () => {
    // Prepare
    const ns = 'watch-gone';
    await seeded(ns);
    const events: string[] = [];
    const errors: string[] = [];
    const watch = new TargetWatch({
      kubeConfig: mirrorFor().kubeConfig,
      kinds: [kindByName('MachineClass')!],
      // Long compacted away: the server answers 410 Gone.
      resumeFrom: { machineclasses: '1' },
      onEvent: (type, obj) => events.push(`${type} ${obj.metadata.namespace}/${obj.metadata.name}`),
      onError: (message) => errors.push(message),
    });
    try {
      // Act
      await watch.start();
      // Assess: listed, as the relist after the 410 does, and no error reported
      await waitUntil('the relist', async () => events.includes(`ADDED ${ns}/small`) || undefined, 20_000, 25);
      expect(errors).toEqual([]);
      // ...and watching from the list's resourceVersion: a change made now arrives as an event
      await kube.kubectlOk(['label', 'machineclass', 'small', '-n', ns, 'tier=gpu']);
      await waitUntil('the label event', async () => events.includes(`MODIFIED ${ns}/small`) || undefined, 20_000, 25);
    } finally {
      await watch.stop();
    }
  });
});
