/** Builders for the objects the MachineSet and MachineDeployment planner tests need, parsed by the API schemas. */
import { API_VERSION, Labels } from '../../../../functions/api/common.js';
import { clusterSchema, type Cluster } from '../../../../functions/api/cluster.js';
import { machineClassSchema, type MachineClass } from '../../../../functions/api/machine-class.js';
import { machineDeploymentSchema, type MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import { machineSetSchema, type MachineSet } from '../../../../functions/api/machine-set.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { Condition } from '../../../../functions/api/common.js';
import type { NodeFact } from '../../../../functions/core/observed.js';

export const T0 = new Date('2026-03-01T12:00:00Z');
export const at = (seconds: number, base = T0) => new Date(base.getTime() + seconds * 1000);
export const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
export const daysAgo = (days: number, now = T0) => iso(at(-days * 86400, now));

export function cluster(
  opts: { name?: string; failureDomains?: string[]; paused?: boolean; aws?: { subnets: { id: string; availabilityZone: string }[] } } = {},
): Cluster {
  return clusterSchema.parse({
    apiVersion: API_VERSION,
    kind: 'Cluster',
    metadata: { name: opts.name ?? 'c1', uid: 'cluster-uid' },
    spec: {
      paused: opts.paused ?? false,
      provider: opts.aws ? { aws: { region: 'us-east-1', subnets: opts.aws.subnets } } : { sim: { failureDomains: opts.failureDomains ?? [] } },
    },
  });
}

export function machineClass(name = 'small', failureDomains: string[] = []): MachineClass {
  return machineClassSchema.parse({
    apiVersion: API_VERSION,
    kind: 'MachineClass',
    metadata: { name, uid: `class-${name}` },
    spec: { sim: { failureDomains } },
  });
}

export interface MachineSetOptions {
  name?: string;
  uid?: string;
  replicas?: number;
  version?: string;
  deletePolicy?: 'Random' | 'Newest' | 'Oldest';
  minReadySeconds?: number;
  failureDomain?: string;
  machineClass?: string;
  created?: string;
  annotations?: Record<string, string>;
  deleting?: boolean;
  paused?: boolean;
}

export function machineSet(opts: MachineSetOptions = {}): MachineSet {
  const name = opts.name ?? 'ms1';
  return machineSetSchema.parse({
    apiVersion: API_VERSION,
    kind: 'MachineSet',
    metadata: {
      name,
      uid: opts.uid ?? `${name}-uid`,
      generation: 1,
      resourceVersion: '1',
      creationTimestamp: opts.created ?? daysAgo(30),
      ...(opts.deleting ? { deletionTimestamp: iso(T0), finalizers: ['clusterless.dev/machine-set'] } : { finalizers: ['clusterless.dev/machine-set'] }),
      ...(opts.annotations || opts.paused ? { annotations: { ...opts.annotations, ...(opts.paused ? { 'clusterless.dev/paused': '' } : {}) } } : {}),
    },
    spec: {
      clusterName: 'c1',
      replicas: opts.replicas ?? 3,
      minReadySeconds: opts.minReadySeconds ?? 0,
      deletePolicy: opts.deletePolicy ?? 'Random',
      template: {
        spec: {
          version: opts.version ?? 'v1.31.2',
          machineClassRef: { name: opts.machineClass ?? 'small' },
          ...(opts.failureDomain ? { failureDomain: opts.failureDomain } : {}),
        },
      },
    },
  });
}

export interface MachineOptions {
  owner?: MachineSet;
  created?: string;
  deleting?: boolean;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  phase?: NonNullable<Machine['status']>['phase'];
  /** The machine's node name; undefined for a machine without node. */
  node?: string;
  failureDomain?: string;
  conditions?: Condition[];
  uid?: string;
}

/** A machine; by default Running, owned by `owner`, with labels matching the owner's template. */
export function machine(name: string, opts: MachineOptions = {}): Machine {
  const owner = opts.owner;
  const labels = opts.labels ?? (owner ? { ...owner.spec.template.metadata.labels } : { [Labels.clusterName]: 'c1' });
  const node = 'node' in opts ? opts.node : `${name}-node`;
  return {
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: {
      name,
      namespace: 'default',
      uid: opts.uid ?? `${name}-uid`,
      creationTimestamp: opts.created ?? daysAgo(10),
      labels,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
      ...(opts.deleting ? { deletionTimestamp: iso(T0) } : {}),
      finalizers: ['clusterless.dev/machine'],
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: API_VERSION, kind: 'MachineSet', name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true },
            ],
          }
        : {}),
    },
    spec: {
      clusterName: 'c1',
      version: owner?.spec.template.spec.version ?? 'v1.31.2',
      machineClassRef: { name: 'small' },
      ...(opts.failureDomain ? { failureDomain: opts.failureDomain } : {}),
      nodeDrainTimeoutSeconds: 300,
    },
    status: {
      phase: opts.phase ?? (node ? 'Running' : 'Provisioning'),
      ...(node ? { nodeRef: { name: node } } : {}),
      ...(opts.conditions ? { conditions: opts.conditions } : {}),
    },
  };
}

/** A node; Ready True since `readySince` unless `ready` says otherwise. */
export function node(name: string, opts: { ready?: 'True' | 'False' | 'Unknown'; since?: Date } = {}): NodeFact {
  return { name, conditions: [{ type: 'Ready', status: opts.ready ?? 'True', lastTransitionTime: iso(opts.since ?? at(-86400)) }] };
}

/** Nodes for every machine that has one: Ready, long since. */
export function nodesFor(machines: readonly Machine[]): NodeFact[] {
  return machines.filter((m) => m.status?.nodeRef).map((m) => node(m.status!.nodeRef!.name));
}

export interface MachineDeploymentOptions {
  name?: string;
  uid?: string;
  replicas?: number;
  version?: string;
  strategy?: 'RollingUpdate' | 'Recreate' | 'OnDelete';
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  deletePolicy?: 'Random' | 'Newest' | 'Oldest';
  machineClass?: string;
  failureDomain?: string;
  generation?: number;
}

export function machineDeployment(opts: MachineDeploymentOptions = {}): MachineDeployment {
  const strategy = opts.strategy ?? 'RollingUpdate';
  return machineDeploymentSchema.parse({
    apiVersion: API_VERSION,
    kind: 'MachineDeployment',
    metadata: {
      name: opts.name ?? 'md',
      uid: opts.uid ?? 'md-uid',
      generation: opts.generation ?? 1,
      resourceVersion: '1',
      creationTimestamp: daysAgo(60),
      finalizers: ['clusterless.dev/machine-deployment'],
    },
    spec: {
      clusterName: 'c1',
      replicas: opts.replicas ?? 3,
      minReadySeconds: opts.minReadySeconds ?? 0,
      revisionHistoryLimit: opts.revisionHistoryLimit ?? 10,
      paused: opts.paused ?? false,
      deletePolicy: opts.deletePolicy ?? 'Random',
      strategy:
        strategy === 'RollingUpdate'
          ? { type: strategy, rollingUpdate: { maxSurge: opts.maxSurge ?? 1, maxUnavailable: opts.maxUnavailable ?? 0 } }
          : { type: strategy },
      template: {
        spec: {
          version: opts.version ?? 'v1.31.2',
          machineClassRef: { name: opts.machineClass ?? 'small' },
          ...(opts.failureDomain ? { failureDomain: opts.failureDomain } : {}),
        },
      },
    },
  }) as MachineDeployment;
}
