/** Valid manifests of every kind and helpers to edit them and read validation results. */
import { expect } from 'vitest';
import { API_VERSION } from '../../../functions/api/common.js';
import type { ApiObject, FieldCause } from '../../../functions/api/kind.js';
import type { KindName } from '../../../functions/api/kinds.js';
import { validateCreate, validateUpdate, type Validated } from '../../../functions/api/validate.js';
import { standardClass, topologyCluster } from './cluster-class-fixtures.js';

export type Manifest = Record<string, unknown>;

const base = (kind: KindName, name: string, spec: unknown): Manifest => ({ apiVersion: API_VERSION, kind, metadata: { name }, spec });

/** The smallest valid manifest of each kind, as a user would write it (defaults left out). */
export const minimal: Record<KindName, () => Manifest> = {
  Cluster: () => base('Cluster', 'prod', {}),
  ControlPlane: () => base('ControlPlane', 'prod-cp', { clusterName: 'prod', version: 'v1.31.2', machineClassRef: { name: 'small' } }),
  MachineClass: () => base('MachineClass', 'small', { sim: {} }),
  ClusterClass: () => base('ClusterClass', 'standard', { controlPlane: { machineClassRef: { name: 'small' } } }),
  MachineDeployment: () =>
    base('MachineDeployment', 'workers', {
      clusterName: 'prod',
      template: { spec: { version: 'v1.31.2', machineClassRef: { name: 'small' } } },
    }),
  MachineSet: () =>
    base('MachineSet', 'workers-abc12', {
      clusterName: 'prod',
      template: { spec: { version: 'v1.31.2', machineClassRef: { name: 'small' } } },
    }),
  Machine: () => base('Machine', 'workers-abc12-x7k2p', { clusterName: 'prod', version: 'v1.31.2', machineClassRef: { name: 'small' } }),
  MachineHealthCheck: () =>
    base('MachineHealthCheck', 'workers-health', {
      clusterName: 'prod',
      selector: { matchLabels: { 'clusterless.dev/deployment-name': 'workers' } },
    }),
  ClusterResourceSet: () =>
    base('ClusterResourceSet', 'cni', {
      clusterSelector: { matchLabels: { cni: 'calico' } },
      resources: [{ name: 'calico', manifests: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: calico-config\n' }],
    }),
  ClusterResourceSetBinding: () => base('ClusterResourceSetBinding', 'prod', { clusterName: 'prod' }),
  FleetUpgrade: () => base('FleetUpgrade', 'to-1-32', { clusterClass: 'standard', version: 'v1.32.0' }),
};

export const KIND_NAMES = Object.keys(minimal) as KindName[];

/** Fuller manifests that use most optional fields, valid too. */
export const full = {
  /** A ClusterClass with variables and patches, and a Cluster with a topology of it (free-form JSON values included). */
  clusterClass: () => withValue(standardClass(), 'metadata.name', 'full-class'),
  topologyCluster: () => withValue(withValue(topologyCluster(), 'metadata.name', 'topo'), 'spec.topology.class', 'full-class'),
  awsCluster: () =>
    base('Cluster', 'aws-prod', {
      clusterNetwork: {
        pods: { cidrBlocks: ['10.244.0.0/16', 'fd00:10:244::/56'] },
        services: { cidrBlocks: ['10.96.0.0/12', 'fd00:10:96::/112'] },
        serviceDomain: 'prod.local',
      },
      controlPlaneEndpoint: { host: 'api.prod.example.com' },
      provider: {
        aws: {
          region: 'eu-west-1',
          subnets: [
            { id: 'subnet-0123456789abcdef0', availabilityZone: 'eu-west-1a' },
            { id: 'subnet-0123456789abcdef1', availabilityZone: 'eu-west-1b' },
          ],
          securityGroupIds: ['sg-0123456789abcdef0'],
          controlPlaneLoadBalancer: { scheme: 'internet-facing' },
        },
      },
      paused: false,
    }),
  awsMachineClass: () =>
    base('MachineClass', 'general', {
      aws: {
        instanceTypes: ['m7g.large', 'm6g.large'],
        imageSsmParameter: '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
        iamInstanceProfile: 'clusterless-node',
        rootVolume: { sizeGiB: 100 },
        spot: { maxPrice: '0.05' },
        additionalTags: { team: 'platform' },
        failureDomains: ['eu-west-1a'],
      },
    }),
  deployment: () => ({
    apiVersion: API_VERSION,
    kind: 'MachineDeployment',
    metadata: { name: 'web', namespace: 'team-a', labels: { app: 'web' }, annotations: { note: 'free text, any characters: é ✓' } },
    spec: {
      clusterName: 'prod',
      replicas: 5,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] },
      template: {
        metadata: { labels: { app: 'web', tier: 'front' } },
        spec: { version: 'v1.31.2', machineClassRef: { name: 'general' }, failureDomain: 'eu-west-1a' },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      minReadySeconds: 30,
      revisionHistoryLimit: 3,
      paused: true,
      deletePolicy: 'Oldest',
    },
    status: { replicas: 5, readyReplicas: 4, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }] },
  }),
  healthCheck: () =>
    base('MachineHealthCheck', 'strict', {
      clusterName: 'prod',
      selector: { matchLabels: { 'clusterless.dev/cluster-name': 'prod' } },
      unhealthyConditions: [{ type: 'Ready', status: 'False', timeout: '30s' }],
      nodeStartupTimeout: '0s',
      maxUnhealthy: 2,
      unhealthyRange: '[1-3]',
      maxInFlight: '50%',
    }),
  controlPlane: () =>
    base('ControlPlane', 'ha', {
      clusterName: 'prod',
      replicas: 3,
      version: 'v1.31.2',
      machineClassRef: { name: 'general' },
      rollout: { maxSurge: 0 },
      remediation: { maxRetry: 3, retryPeriodSeconds: 60 },
    }),
} satisfies Record<string, () => Manifest>;

/** A deep copy of `obj` with the value at `path` (dots and [i]) set, or removed when `value` is undefined. */
export function withValue<T>(obj: T, path: string, value: unknown): T {
  const copy = structuredClone(obj);
  const keys = pathKeys(path);
  let node = copy as Record<string | number, unknown>;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    if (node[k] === undefined || node[k] === null) node[k] = typeof keys[i + 1] === 'number' ? [] : {};
    node = node[k] as Record<string | number, unknown>;
  }
  const last = keys.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

/** Reads the value at `path` (dots and [i]). */
export function valueAt(obj: unknown, path: string): unknown {
  let node = obj as Record<string | number, unknown> | undefined;
  for (const k of pathKeys(path)) node = node?.[k] as Record<string | number, unknown> | undefined;
  return node;
}

function pathKeys(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

/** Asserts success and returns the parsed object. */
export function created(body: unknown, options?: Parameters<typeof validateCreate>[1]): ApiObject {
  const r = validateCreate(body, options);
  if (!r.ok) expect.fail(`expected the object to be valid, got ${JSON.stringify(r.causes, null, 2)}`);
  return r.object;
}

/** Asserts failure and returns the causes. */
export function refused(r: Validated<ApiObject>): FieldCause[] {
  if (r.ok) expect.fail(`expected the object to be refused, got ${JSON.stringify(r.object)}`);
  return r.causes;
}

export const createCauses = (body: unknown, options?: Parameters<typeof validateCreate>[1]) => refused(validateCreate(body, options));
export const updateCauses = (old: ApiObject, body: unknown, options?: Parameters<typeof validateUpdate>[2]) => refused(validateUpdate(old, body, options));

/** The causes on `field` (there must be at least one). */
export function causesOn(causes: readonly FieldCause[], field: string): FieldCause[] {
  const on = causes.filter((c) => c.field === field);
  if (on.length === 0) expect.fail(`expected a cause on ${field}, got ${JSON.stringify(causes, null, 2)}`);
  return on;
}

/** Asserts exactly one cause, on `field`, with `reason`, and a message matching `message`. */
export function expectOnlyCause(causes: readonly FieldCause[], field: string, reason: FieldCause['reason'], message?: RegExp | string): void {
  expect(causes, JSON.stringify(causes)).toHaveLength(1);
  expectCause(causes, field, reason, message);
}

/** Asserts a cause on `field` with `reason` and a message matching `message`. */
export function expectCause(causes: readonly FieldCause[], field: string, reason: FieldCause['reason'], message?: RegExp | string): void {
  const on = causesOn(causes, field);
  const match = on.find(
    (c) => c.reason === reason && (message === undefined || (typeof message === 'string' ? c.message.includes(message) : message.test(c.message))),
  );
  if (!match) expect.fail(`expected a ${reason} cause on ${field} matching ${String(message)}, got ${JSON.stringify(on, null, 2)}`);
}

/** Freezes a value and everything in it, so that a test fails if the code under test writes to it. */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
