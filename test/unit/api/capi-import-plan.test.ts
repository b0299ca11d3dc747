/** The pure plan of `clusterless import` (functions/api/capi/import-plan.ts). */
import { describe, expect, it } from 'vitest';
import {
  adoptedMachine,
  adoptionsOf,
  certificatesOf,
  declared,
  importRefusal,
  instanceIdOf,
  objectsOfCluster,
} from '../../../functions/api/capi/import-plan.js';
import { controlPlaneSchema } from '../../../functions/api/control-plane.js';
import type { Machine } from '../../../functions/api/machine.js';
import { isUpToDate } from '../../../functions/core/controlplane/machines.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const capiCluster = (paused: boolean | undefined) => ({
  apiVersion: 'cluster.x-k8s.io/v1beta1',
  kind: 'Cluster',
  metadata: { name: 'prod', namespace: 'default', uid: 'u1', resourceVersion: '7', annotations: { 'cluster.x-k8s.io/paused': '', team: 'a' } },
  spec: { ...(paused === undefined ? {} : { paused }), infrastructureRef: { kind: 'AWSCluster', name: 'prod' } },
  status: { phase: 'Provisioned' },
});

const machine = (name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'cluster.x-k8s.io/v1beta1',
  kind: 'Machine',
  metadata: { name, labels: { 'cluster.x-k8s.io/cluster-name': 'prod', ...labels }, ...((extra['metadata'] as object) ?? {}) },
  spec: { clusterName: 'prod', version: 'v1.31.2', infrastructureRef: { kind: 'AWSMachine', name }, ...((extra['spec'] as object) ?? {}) },
});
const awsMachine = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
  kind: 'AWSMachine',
  metadata: { name },
  spec,
});

describe('importRefusal', () => {
  it.each([
    { name: 'unpaused', paused: false },
    { name: 'without spec.paused', paused: undefined },
  ])('refuses a Cluster $name, naming spec.paused', ({ paused }) => {
    expect(importRefusal(capiCluster(paused))).toMatch(/not paused in Cluster API: set spec\.paused/);
  });

  it('takes a paused Cluster', () => {
    expect(importRefusal(capiCluster(true))).toBeUndefined();
  });
});

describe('declared', () => {
  it("keeps what the user wrote, without the server's fields or clusterctl's pause annotation", () => {
    expect(declared(capiCluster(true))).toEqual({
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'Cluster',
      metadata: { name: 'prod', namespace: 'default', annotations: { team: 'a' } },
      spec: { paused: true, infrastructureRef: { kind: 'AWSCluster', name: 'prod' } },
    });
  });
});

describe('adoptionsOf', () => {
  it("finds each machine's instance through its AWSMachine, or its own providerID, with its role and deployment", () => {
    const objects = [
      machine('cp-0', { 'cluster.x-k8s.io/control-plane': '' }),
      awsMachine('cp-0', { instanceID: 'i-0aaaaaaaaaaaaaaa0', providerID: 'aws:///us-east-1a/i-0aaaaaaaaaaaaaaa0' }),
      machine(
        'w-0',
        { 'cluster.x-k8s.io/deployment-name': 'md-0' },
        { spec: { providerID: 'aws:///us-east-1b/i-0bbbbbbbbbbbbbbb0', failureDomain: 'us-east-1b' } },
      ),
      machine('other', { 'cluster.x-k8s.io/cluster-name': 'dev', 'cluster.x-k8s.io/control-plane': '' }, { spec: { clusterName: 'dev' } }),
    ];

    expect(adoptionsOf(objects, 'prod')).toEqual({
      adoptions: [
        {
          machineName: 'cp-0',
          instanceId: 'i-0aaaaaaaaaaaaaaa0',
          providerID: 'aws:///us-east-1a/i-0aaaaaaaaaaaaaaa0',
          role: 'control-plane',
          version: 'v1.31.2',
        },
        {
          machineName: 'w-0',
          instanceId: 'i-0bbbbbbbbbbbbbbb0',
          providerID: 'aws:///us-east-1b/i-0bbbbbbbbbbbbbbb0',
          role: 'worker',
          deploymentName: 'md-0',
          version: 'v1.31.2',
          failureDomain: 'us-east-1b',
        },
      ],
      errors: [],
    });
  });

  it.each([
    { name: 'without an instance yet', m: machine('w-1', { 'cluster.x-k8s.io/deployment-name': 'md-0' }), error: /has no instance yet/ },
    {
      name: 'being deleted',
      m: machine('w-1', { 'cluster.x-k8s.io/deployment-name': 'md-0' }, { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }),
      error: /being deleted/,
    },
    {
      name: 'of neither the control plane nor a deployment',
      m: machine('w-1', {}, { spec: { providerID: 'aws:///us-east-1a/i-0ccccccccccccccc0' } }),
      error: /neither the control plane nor a MachineDeployment/,
    },
  ])('refuses a machine $name', ({ m, error }) => {
    const r = adoptionsOf([m], 'prod');
    expect(r.adoptions).toEqual([]);
    expect(r.errors).toEqual([expect.stringMatching(error)]);
  });

  it('reads the instance id only from an aws:/// providerID', () => {
    expect(instanceIdOf('aws:///us-east-1a/i-0123456789abcdef0')).toBe('i-0123456789abcdef0');
    expect(instanceIdOf('sim:///us-east-1a/i-0123456789abcdef0')).toBeUndefined();
  });
});

describe('certificatesOf', () => {
  const tls = (name: string, crt: string, key: string) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    data: { 'tls.crt': b64(crt), 'tls.key': b64(key) },
  });

  it("reads Cluster API's four Secrets; -sa's tls.crt is the public key", () => {
    const r = certificatesOf([tls('prod-ca', 'CA', 'CAK'), tls('prod-etcd', 'E', 'EK'), tls('prod-proxy', 'P', 'PK'), tls('prod-sa', 'PUB', 'SAK')], 'prod');

    expect(r).toEqual({
      certificates: {
        ca: { cert: 'CA', key: 'CAK' },
        etcdCa: { cert: 'E', key: 'EK' },
        frontProxyCa: { cert: 'P', key: 'PK' },
        serviceAccount: { key: 'SAK', pub: 'PUB' },
      },
      errors: [],
    });
  });

  it('names a missing Secret', () => {
    const r = certificatesOf([tls('prod-ca', 'CA', 'CAK'), tls('prod-etcd', 'E', 'EK'), tls('prod-sa', 'PUB', 'SAK')], 'prod');

    expect(r.certificates).toBeUndefined();
    expect(r.errors).toEqual(["Secret prod-proxy (the cluster's proxy certificate) is missing"]);
  });
});

describe('objectsOfCluster', () => {
  it('takes the Cluster, what names it and what those reference, and nothing of another cluster', () => {
    const all = [
      capiCluster(true),
      { kind: 'AWSCluster', metadata: { name: 'prod' }, spec: {} },
      {
        kind: 'MachineDeployment',
        metadata: { name: 'md-0' },
        spec: { clusterName: 'prod', template: { spec: { infrastructureRef: { kind: 'AWSMachineTemplate', name: 't0' } } } },
      },
      { kind: 'AWSMachineTemplate', metadata: { name: 't0' }, spec: {} },
      { kind: 'Cluster', metadata: { name: 'dev' }, spec: {} },
      {
        kind: 'MachineDeployment',
        metadata: { name: 'dev-md' },
        spec: { clusterName: 'dev', template: { spec: { infrastructureRef: { kind: 'AWSMachineTemplate', name: 't1' } } } },
      },
      { kind: 'AWSMachineTemplate', metadata: { name: 't1' }, spec: {} },
    ];

    expect(objectsOfCluster(all, 'prod').map((o) => `${o['kind']}/${(o['metadata'] as { name: string }).name}`)).toEqual([
      'Cluster/prod',
      'MachineDeployment/md-0',
      'AWSCluster/prod',
      'AWSMachineTemplate/t0',
    ]);
  });
});

describe('adoptedMachine', () => {
  it("gives an imported control-plane machine the ControlPlane's taints and teardown timeouts, so that it is up to date and rolls nothing", () => {
    // Prepare
    const cp = controlPlaneSchema.parse({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'ControlPlane',
      metadata: { name: 'prod-control-plane', namespace: 'default', uid: 'cp-uid' },
      spec: {
        clusterName: 'prod',
        version: 'v1.31.2',
        machineClassRef: { name: 'prod-control-plane' },
        nodeVolumeDetachTimeoutSeconds: 120,
        nodeDeletionTimeoutSeconds: 30,
        taints: [{ key: 'example.com/control-only', value: 'true', effect: 'NoExecute' }],
      },
    });
    const adoption = {
      machineName: 'prod-cp-1',
      instanceId: 'i-0123',
      providerID: 'aws:///us-east-1a/i-0123',
      role: 'control-plane' as const,
      version: 'v1.31.2',
    };
    // Act
    const m = adoptedMachine(adoption, { controlPlane: cp }) as Machine;
    // Assess
    expect(m.spec).toMatchObject({ nodeVolumeDetachTimeoutSeconds: 120, nodeDeletionTimeoutSeconds: 30, taints: cp.spec.taints });
    expect(isUpToDate(m, cp)).toBe(true);
  });
});
