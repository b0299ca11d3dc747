/**
 * Fleets as a user declares them: one MachineClass per namespace shared by its clusters (as a fleet of
 * similar clusters would), and per cluster a Cluster, a ControlPlane and a MachineDeployment, optionally a
 * MachineHealthCheck of the workers.
 */
export const API_VERSION = 'clusterless.dev/v1alpha1';
export const CLASS_NAME = 'bench-class';

export interface Manifest {
  plural: string;
  object: Record<string, unknown> & { metadata: { name: string; namespace: string } };
}

export interface ClusterShape {
  namespace?: string;
  controlPlane?: number;
  workers: number;
  version?: string;
  strategy?: Record<string, unknown>;
  healthCheck?: boolean;
}

export function machineClass(o: { namespace?: string; bootSeconds: number; nodeReadySeconds: number }): Manifest {
  return {
    plural: 'machineclasses',
    object: {
      apiVersion: API_VERSION,
      kind: 'MachineClass',
      metadata: { name: CLASS_NAME, namespace: o.namespace ?? 'default' },
      spec: { sim: { bootSeconds: o.bootSeconds, nodeReadySeconds: o.nodeReadySeconds } },
    },
  };
}

export function clusterManifests(name: string, shape: ClusterShape): Manifest[] {
  const namespace = shape.namespace ?? 'default';
  const version = shape.version ?? 'v1.31.2';
  const metadata = (n: string) => ({ name: n, namespace });
  const out: Manifest[] = [
    {
      plural: 'clusters',
      object: {
        apiVersion: API_VERSION,
        kind: 'Cluster',
        metadata: metadata(name),
        spec: { provider: { sim: { failureDomains: ['zone-a', 'zone-b', 'zone-c'] } } },
      },
    },
    {
      plural: 'controlplanes',
      object: {
        apiVersion: API_VERSION,
        kind: 'ControlPlane',
        metadata: metadata(`${name}-cp`),
        spec: { clusterName: name, replicas: shape.controlPlane ?? 3, version, machineClassRef: { name: CLASS_NAME } },
      },
    },
    {
      plural: 'machinedeployments',
      object: {
        apiVersion: API_VERSION,
        kind: 'MachineDeployment',
        metadata: metadata(`${name}-md`),
        spec: {
          clusterName: name,
          replicas: shape.workers,
          template: { spec: { version, machineClassRef: { name: CLASS_NAME } } },
          ...(shape.strategy ? { strategy: shape.strategy } : {}),
        },
      },
    },
  ];
  if (shape.healthCheck)
    out.push({
      plural: 'machinehealthchecks',
      object: {
        apiVersion: API_VERSION,
        kind: 'MachineHealthCheck',
        metadata: metadata(`${name}-mhc`),
        spec: {
          clusterName: name,
          selector: { matchLabels: { 'clusterless.dev/deployment-name': `${name}-md` } },
          unhealthyConditions: [
            { type: 'Ready', status: 'Unknown', timeout: '60s' },
            { type: 'Ready', status: 'False', timeout: '60s' },
          ],
          maxUnhealthy: '40%',
        },
      },
    });
  return out;
}

export const CLUSTER_CLASS_NAME = 'bench-topology';

/**
 * A ClusterClass whose clusters run `controlPlane` control-plane machines (rolled one at a time: maxSurge 1) and
 * one worker class, `default-worker`, rolled with `workerStrategy`; both of the MachineClass machineClass() makes.
 */
export function clusterClass(o: { namespace?: string; controlPlane: number; workerStrategy: Record<string, unknown> }): Manifest {
  return {
    plural: 'clusterclasses',
    object: {
      apiVersion: API_VERSION,
      kind: 'ClusterClass',
      metadata: { name: CLUSTER_CLASS_NAME, namespace: o.namespace ?? 'default' },
      spec: {
        controlPlane: { machineClassRef: { name: CLASS_NAME }, replicas: o.controlPlane, rollout: { maxSurge: 1 } },
        workers: {
          machineDeployments: [{ class: 'default-worker', template: { machineClassRef: { name: CLASS_NAME } }, strategy: o.workerStrategy }],
        },
      },
    },
  };
}

/** A Cluster with a managed topology of clusterClass(): the planner makes its ControlPlane and its MachineDeployment `md-0`. */
export function topologyCluster(name: string, o: { namespace?: string; version: string; workers: number; labels?: Record<string, string> }): Manifest {
  return {
    plural: 'clusters',
    object: {
      apiVersion: API_VERSION,
      kind: 'Cluster',
      metadata: { name, namespace: o.namespace ?? 'default', ...(o.labels ? { labels: o.labels } : {}) },
      spec: {
        topology: {
          class: CLUSTER_CLASS_NAME,
          version: o.version,
          workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: o.workers }] },
        },
      },
    },
  };
}
