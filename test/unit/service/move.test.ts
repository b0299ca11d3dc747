/**
 * The server side of a move (functions/api/service/move.ts) on memory stores, with a cloud that is a map of
 * instance ids to installations: what each step writes, what it refuses, and that a refusal writes nothing.
 * test/integration/cli/move.test.ts runs the whole move on two control planes over moto.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretStoreCertificateTransfer } from '../../../functions/adapters/kubeadm/index.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { MemorySecretStore } from '../../../functions/adapters/secrets/index.js';
import { secretNames } from '../../../functions/bootstrap/names.js';
import { handleRequest, jsonRequest } from '../../../functions/api/http/index.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { isPaused } from '../../../functions/core/cluster/objects.js';
import { ApiError, ObjectService } from '../../../functions/api/service/index.js';
import {
  MoveAnnotations,
  exportForMove,
  forgetAfterMove,
  handOverForMove,
  importCertificatesForMove,
  importForMove,
  pauseForMove,
  resumeAfterMove,
  type ClusterHandover,
  type MoveDeps,
} from '../../../functions/api/service/move.js';
import { FakeClock } from '../../support/fake-clock.js';
import { cluster, machineClass, machineDeployment } from '../http/fixtures.js';

/** Instances of cluster default/c1 by id, each with the installation its tag names. */
function fakeCloud(instances: Record<string, string>): ClusterHandover {
  return {
    async handOver(_ns, _c, from, to) {
      const ids = Object.keys(instances).filter((id) => instances[id] === from);
      for (const id of ids) instances[id] = to;
      return ids;
    },
    async owned(_ns, _c, installationId) {
      return Object.keys(instances).filter((id) => instances[id] === installationId);
    },
  };
}

const thrown = async (p: Promise<unknown>): Promise<ApiError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
};

let cloud: Record<string, string>;
let source: { store: MemoryStore; deps: MoveDeps };
let target: { store: MemoryStore; deps: MoveDeps };

beforeEach(async () => {
  const clock = new FakeClock();
  cloud = { 'i-1': 'source-installation' };
  source = { store: new MemoryStore({ clock }), deps: { installationId: 'source-installation', handovers: { sim: fakeCloud(cloud) } } };
  target = { store: new MemoryStore({ clock }), deps: { installationId: 'target-installation', handovers: { sim: fakeCloud(cloud) } } };
  const service = new ObjectService({ store: source.store });
  await service.create('MachineClass', 'default', machineClass());
  await service.create('Cluster', 'default', cluster());
  await service.create('MachineDeployment', 'default', machineDeployment());
  // A deployment whose spec changed twice, observed at its second generation: the target must see it behind.
  const md = (await source.store.get('MachineDeployment', 'default', 'md1'))!;
  await source.store.update({ ...md, spec: { ...(md.spec as object), replicas: 4 } });
  const md3 = await source.store.update({ ...md, metadata: { ...md.metadata, resourceVersion: undefined }, spec: { ...(md.spec as object), replicas: 5 } });
  await source.store.updateStatus({
    ...md3,
    status: { observedGeneration: 2, conditions: [{ type: 'Available', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 }] },
  });
});

async function copied(): Promise<ApiObject[]> {
  await pauseForMove(source.store, source.deps, 'default', 'c1', 'target-installation');
  const { objects } = await exportForMove(source.store, source.deps, 'default', 'c1');
  for (const o of objects) await importForMove(target.store, 'default', 'c1', o, 'source-installation');
  return objects;
}

describe('a move between two installations', () => {
  it('copies every object with its uid, finalizers and status, observedGeneration counted as the target counts it', async () => {
    const objects = await copied();

    expect(objects.map((o) => o.kind)).toEqual(['MachineClass', 'Cluster', 'MachineDeployment']);
    for (const o of objects) {
      const moved = (await target.store.get(o.kind as 'Cluster', 'default', o.metadata.name))!;
      expect(moved.metadata.uid).toBe(o.metadata.uid);
      expect(moved.metadata.finalizers).toEqual(o.metadata.finalizers);
    }
    const md = (await target.store.get('MachineDeployment', 'default', 'md1'))!;
    expect(md.metadata.generation).toBe(1);
    // Source generation 3: observed 2 is behind (0), the condition observed at 3 is current (1).
    expect(md.status?.observedGeneration).toBe(0);
    expect(md.status?.conditions?.[0]?.observedGeneration).toBe(1);
    const c = (await target.store.get('Cluster', 'default', 'c1'))!;
    expect(c.spec).toMatchObject({ paused: true });
    expect(c.metadata.annotations).toMatchObject({ [MoveAnnotations.movingIn]: 'source-installation', [MoveAnnotations.wasPaused]: 'false' });
    expect(c.metadata.annotations?.[MoveAnnotations.to]).toBeUndefined();
  });

  it('imports again without change, and refuses another object under a moved name', async () => {
    const objects = await copied();
    const md = objects.find((o) => o.kind === 'MachineDeployment')!;

    expect((await importForMove(target.store, 'default', 'c1', md, 'source-installation')).outcome).toBe('unchanged');
    const other = { ...md, metadata: { ...md.metadata, uid: '00000000-0000-0000-0000-000000000001' } };
    expect((await thrown(importForMove(target.store, 'default', 'c1', other, 'source-installation'))).status.reason).toBe('AlreadyExists');
  });

  it('uses a MachineClass the target already has with the same spec, and refuses one with another spec', async () => {
    const same = new MemoryStore();
    const theirs = await new ObjectService({ store: same }).create('MachineClass', 'default', machineClass());
    await new ObjectService({ store: target.store }).create('MachineClass', 'default', { ...machineClass(), spec: { sim: { bootSeconds: 99 } } });
    await pauseForMove(source.store, source.deps, 'default', 'c1', 'target-installation');
    const [mc] = (await exportForMove(source.store, source.deps, 'default', 'c1')).objects;

    expect(await importForMove(same, 'default', 'c1', mc, 'source-installation')).toMatchObject({
      outcome: 'unchanged',
      object: { metadata: { uid: theirs.metadata.uid } },
    });
    expect((await thrown(importForMove(target.store, 'default', 'c1', mc, 'source-installation'))).status.reason).toBe('AlreadyExists');
  });

  it('refuses an object of another cluster or namespace, writing nothing', async () => {
    await pauseForMove(source.store, source.deps, 'default', 'c1', 'target-installation');
    const md = (await exportForMove(source.store, source.deps, 'default', 'c1')).objects.find((o) => o.kind === 'MachineDeployment')!;

    expect((await thrown(importForMove(target.store, 'default', 'c2', md, 'source-installation'))).status.code).toBe(400);
    expect((await thrown(importForMove(target.store, 'other', 'c1', md, 'source-installation'))).status.code).toBe(400);
    expect(await target.store.list('MachineDeployment')).toEqual([]);
  });

  it('pauses once for one target: a second target is refused, and so is this installation', async () => {
    await pauseForMove(source.store, source.deps, 'default', 'c1', 'target-installation');

    expect((await thrown(pauseForMove(source.store, source.deps, 'default', 'c1', 'elsewhere-installation'))).status.reason).toBe('Conflict');
    const self = await thrown(pauseForMove(source.store, source.deps, 'default', 'c1', 'source-installation'));
    expect(self.status.code).toBe(422);
    expect(self.status.details?.causes?.[0]?.field).toBe('to');
    // spec.paused set back by a user does not unpause a cluster being moved: the paused annotation holds it.
    const paused = (await source.store.get<Cluster>('Cluster', 'default', 'c1'))!;
    expect(isPaused({ ...paused, spec: { ...paused.spec, paused: false } })).toBe(true);
    expect((await source.store.get('Cluster', 'default', 'c1'))!.metadata.annotations?.[MoveAnnotations.to]).toBe('target-installation');
  });

  it('does not start while a machine is still provisioning, as clusterctl does not, and pauses nothing', async () => {
    await source.store.create({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'Machine',
      metadata: { name: 'm-new', namespace: 'default' },
      spec: { clusterName: 'c1', version: 'v1.31.2', machineClassRef: { name: 'small' } },
    } as ApiObject);

    const err = await thrown(pauseForMove(source.store, source.deps, 'default', 'c1', 'target-installation'));

    expect(err.status.message).toContain('m-new');
    expect((await source.store.get<Cluster>('Cluster', 'default', 'c1'))!.spec.paused).toBeFalsy();
  });

  it('refuses a cluster with a control-plane load balancer with a 422 naming the field, and pauses nothing', async () => {
    const service = new ObjectService({ store: source.store });
    await service.create('Cluster', 'default', { ...cluster('lb'), spec: { provider: { sim: { controlPlaneLoadBalancer: {} } } } });

    const err = await thrown(pauseForMove(source.store, source.deps, 'default', 'lb', 'target-installation'));

    expect(err.status.code).toBe(422);
    expect(err.status.details?.causes?.[0]?.field).toBe('spec.provider.sim.controlPlaneLoadBalancer');
    expect((await source.store.get<Cluster>('Cluster', 'default', 'lb'))!.spec.paused).toBeFalsy();
  });

  it('resumes only once the instances are the target’s, to the paused value the source had', async () => {
    await copied();
    const machine = {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'Machine',
      metadata: { name: 'm1', namespace: 'default', uid: '00000000-0000-0000-0000-00000000000a' },
      spec: { clusterName: 'c1', version: 'v1.31.2', machineClassRef: { name: 'small' } },
      status: { infrastructure: { instanceId: 'i-1' } },
    };
    await importForMove(target.store, 'default', 'c1', machine, 'source-installation');

    expect((await thrown(resumeAfterMove(target.store, target.deps, 'default', 'c1'))).status.reason).toBe('Conflict');
    expect((await target.store.get('Cluster', 'default', 'c1'))!.spec).toMatchObject({ paused: true });
    await handOverForMove(source.store, source.deps, 'default', 'c1');
    const resumed = await resumeAfterMove(target.store, target.deps, 'default', 'c1');
    expect(resumed.spec).toMatchObject({ paused: false });
    expect(resumed.metadata.annotations?.[MoveAnnotations.movingIn]).toBeUndefined();
    expect(isPaused(resumed as Cluster)).toBe(false);
  });

  it('forgets only a handed-over cluster, without teardown, and keeps the shared MachineClass', async () => {
    await copied();
    expect((await thrown(forgetAfterMove(source.store, source.deps, 'default', 'c1'))).status.reason).toBe('Conflict');
    expect((await source.store.listCluster('default', 'c1')).length).toBe(2);

    await handOverForMove(source.store, source.deps, 'default', 'c1');
    expect(cloud).toEqual({ 'i-1': 'target-installation' });
    await forgetAfterMove(source.store, source.deps, 'default', 'c1');

    expect(await source.store.listCluster('default', 'c1')).toEqual([]);
    expect(await source.store.get('MachineClass', 'default', 'small')).toBeDefined();
  });

  it('refuses to forget while an instance still carries the source’s tag, even when the record says handed over', async () => {
    await copied();
    await handOverForMove(source.store, source.deps, 'default', 'c1');
    cloud['i-2'] = 'source-installation'; // launched by a workflow already running when the cluster was paused

    const err = await thrown(forgetAfterMove(source.store, source.deps, 'default', 'c1'));

    expect(err.status.message).toContain('i-2');
    expect((await source.store.listCluster('default', 'c1')).length).toBe(2);
  });

  it('carries the certificates: created once, the same bytes again unchanged, other bytes refused, none kept refused', async () => {
    const names = secretNames('clusterless/x/');
    const sourceSecrets = new SecretStoreCertificateTransfer(new MemorySecretStore(), names);
    const targetSecrets = new SecretStoreCertificateTransfer(new MemorySecretStore(), names);
    source.deps = { ...source.deps, certificates: sourceSecrets };
    const bytes = new TextEncoder().encode('certificates');
    await sourceSecrets.create('default', 'c1', 'uid', bytes);
    await copied();
    const { certificates } = await exportForMove(source.store, source.deps, 'default', 'c1');

    const withSecrets = { ...target.deps, certificates: targetSecrets };
    expect(await importCertificatesForMove(target.store, withSecrets, 'default', 'c1', certificates)).toEqual({ outcome: 'created' });
    expect(await targetSecrets.read('default', 'c1')).toEqual(bytes);
    expect(await importCertificatesForMove(target.store, withSecrets, 'default', 'c1', certificates)).toEqual({ outcome: 'unchanged' });
    const other = Buffer.from('other').toString('base64');
    expect((await thrown(importCertificatesForMove(target.store, withSecrets, 'default', 'c1', other))).status.reason).toBe('Conflict');
    const none = await thrown(importCertificatesForMove(target.store, target.deps, 'default', 'c1', certificates));
    expect(none.status.details?.causes?.[0]?.field).toBe('certificates');
  });

  it('is not served by a router without move dependencies', async () => {
    const res = await handleRequest(jsonRequest('POST', '/apis/clusterless.dev/v1alpha1/namespaces/default/clusters/c1/move', { step: 'Forget' }), {
      store: source.store,
    });
    expect(res.status).toBe(404);
    expect(await source.store.get('Cluster', 'default', 'c1')).toBeDefined();
  });
});
