/**
 * Builders for the object graph of one cluster, parsed by the API's own schemas so that every default a user
 * would get is there. Shared by the core planner tests.
 */
import { clusterSchema, type Cluster } from '../../../../functions/api/cluster.js';
import { Annotations, Finalizers, Labels, type Condition } from '../../../../functions/api/common.js';
import { controlPlaneSchema, type ControlPlane } from '../../../../functions/api/control-plane.js';
import { machineHealthCheckSchema, type MachineHealthCheck } from '../../../../functions/api/machine-health-check.js';
import { machineSchema, type Machine } from '../../../../functions/api/machine.js';
import type { ClusterObjects } from '../../../../functions/core/cluster/objects.js';
import type { EtcdMemberFact, InstanceFact, InstanceState, NodeFact, Observed } from '../../../../functions/core/observed.js';

export const T0 = new Date('2026-01-01T00:00:00Z');
export const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
export const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');
export const ago = (now: Date, seconds: number): string => iso(new Date(now.getTime() - seconds * 1000));

export const CLUSTER = 'demo';
export const ZONES = ['zone-a', 'zone-b', 'zone-c'];

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function condition(type: string, status: Condition['status'], since: Date | string = T0, reason?: string): Condition {
  return { type, status, lastTransitionTime: typeof since === 'string' ? since : iso(since), ...(reason ? { reason } : {}) };
}

/** A cluster whose infrastructure is ready and whose control plane answers, unless told otherwise. */
export function cluster(opts: { ready?: boolean; initialized?: boolean; paused?: boolean; deleting?: boolean; zones?: string[]; since?: Date } = {}): Cluster {
  const ready = opts.ready ?? true;
  const initialized = opts.initialized ?? ready;
  const since = opts.since ?? at(-7200);
  return clusterSchema.parse({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Cluster',
    metadata: {
      name: CLUSTER,
      uid: 'uid-cluster',
      generation: 1,
      creationTimestamp: iso(at(-86400)),
      finalizers: [Finalizers.cluster],
      ...(opts.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: { provider: { sim: { failureDomains: opts.zones ?? ZONES } }, paused: opts.paused ?? false },
    status: {
      infrastructureReady: ready,
      conditions: [
        condition('InfrastructureReady', ready ? 'True' : 'False', since),
        condition('ControlPlaneInitialized', initialized ? 'True' : 'False', since),
      ],
    },
  });
}

export function controlPlane(
  spec: DeepPartial<ControlPlane['spec']> = {},
  meta: { deleting?: boolean; initialized?: boolean; lastRemediation?: { machine: string; timestamp: string; retryCount: number } } = {},
): ControlPlane {
  return controlPlaneSchema.parse({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'ControlPlane',
    metadata: {
      name: 'cp',
      uid: 'uid-cp',
      generation: 1,
      creationTimestamp: iso(at(-86400)),
      finalizers: [Finalizers.controlPlane],
      ...(meta.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: { clusterName: CLUSTER, replicas: 3, version: 'v1.31.0', machineClassRef: { name: 'small' }, ...spec },
    status: {
      initialized: meta.initialized ?? true,
      ...(meta.lastRemediation ? { lastRemediation: meta.lastRemediation } : {}),
    },
  });
}

export interface MachineOptions {
  controlPlane?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Seconds before T0 the machine was created. */
  age?: number;
  version?: string;
  machineClass?: string;
  failureDomain?: string;
  /** Launched: an instance exists, with a node unless `node` is false. */
  launched?: boolean;
  node?: boolean;
  deleting?: boolean;
  conditions?: Condition[];
  failureReason?: string;
  infrastructureReady?: boolean;
  drainTimeout?: number;
}

export const providerIDOf = (name: string): string => `sim:///zone/${name}`;

export function machine(name: string, o: MachineOptions = {}): Machine {
  const launched = o.launched ?? true;
  const hasNode = launched && (o.node ?? true);
  return machineSchema.parse({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'Machine',
    metadata: {
      name,
      uid: `uid-${name}`,
      generation: 1,
      creationTimestamp: iso(at(-(o.age ?? 3600))),
      finalizers: [Finalizers.machine],
      labels: {
        [Labels.clusterName]: CLUSTER,
        ...(o.controlPlane ? { [Labels.controlPlane]: '', [Labels.controlPlaneName]: 'cp' } : { role: 'worker' }),
        ...o.labels,
      },
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: {
      clusterName: CLUSTER,
      version: o.version ?? 'v1.31.0',
      machineClassRef: { name: o.machineClass ?? 'small' },
      ...(o.failureDomain ? { failureDomain: o.failureDomain } : {}),
      ...(launched ? { providerID: providerIDOf(name) } : {}),
      ...(o.drainTimeout !== undefined ? { nodeDrainTimeoutSeconds: o.drainTimeout } : {}),
    },
    status: {
      ...(launched ? { infrastructure: { instanceId: `i-${name}`, launchRequestedAt: iso(at(-(o.age ?? 3600))) } } : {}),
      infrastructureReady: o.infrastructureReady ?? launched,
      ...(hasNode ? { nodeRef: { name: `node-${name}` } } : {}),
      ...(o.failureReason ? { failureReason: o.failureReason, failureMessage: 'broken' } : {}),
      conditions: o.conditions ?? (launched ? [condition('InfrastructureReady', 'True', at(-(o.age ?? 3600) + 60))] : []),
    },
  });
}

export function cpMachine(name: string, o: MachineOptions = {}): Machine {
  return machine(name, { ...o, controlPlane: true });
}

export function instance(m: Machine, state: InstanceState = 'running'): InstanceFact {
  return {
    machineUid: m.metadata.uid!,
    instanceId: `i-${m.metadata.name}`,
    providerID: providerIDOf(m.metadata.name),
    state,
    ...(m.spec.failureDomain ? { availabilityZone: m.spec.failureDomain } : {}),
    addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
  };
}

export function node(m: Machine, ready: 'True' | 'False' | 'Unknown' = 'True', since: Date | string = at(-3000), extra: NodeFact['conditions'] = []): NodeFact {
  return {
    name: `node-${m.metadata.name}`,
    uid: `node-uid-${m.metadata.name}`,
    providerID: providerIDOf(m.metadata.name),
    conditions: [
      {
        type: 'Ready',
        status: ready,
        lastTransitionTime: typeof since === 'string' ? since : iso(since),
        reason: ready === 'True' ? 'KubeletReady' : 'NodeStatusUnknown',
      },
      ...extra,
    ],
  };
}

/** What the world shows for these machines: a running instance each (if launched) and a Ready node (if any). */
export function observedFor(machines: readonly Machine[], nodeReady: Record<string, 'True' | 'False' | 'Unknown'> = {}): Observed {
  return {
    instances: machines.filter((m) => m.status?.infrastructure?.instanceId).map((m) => instance(m)),
    nodes: machines.filter((m) => m.status?.nodeRef).map((m) => node(m, nodeReady[m.metadata.name] ?? 'True')),
  };
}

export function healthCheck(spec: Partial<MachineHealthCheck['spec']> = {}, name = 'mhc'): MachineHealthCheck {
  return machineHealthCheckSchema.parse({
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'MachineHealthCheck',
    metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: iso(at(-86400)) },
    spec: { clusterName: CLUSTER, selector: { matchLabels: { role: 'worker' } }, ...spec },
  });
}

export function objects(partial: Partial<ClusterObjects> = {}): ClusterObjects {
  return { cluster: cluster(), machineDeployments: [], machineSets: [], machines: [], machineHealthChecks: [], ...partial };
}

export { Annotations, Labels };

/** A member as etcd lists it: healthy, a voter, no alarm, unless told otherwise. */
export function etcdMember(name: string, o: Partial<EtcdMemberFact> = {}): EtcdMemberFact {
  return { id: String(1000 + name.length * 7 + name.charCodeAt(name.length - 1)), name, learner: false, healthy: true, leader: false, alarms: [], ...o };
}
