/**
 * The clusters the soak declares: what a user would apply for a small sim cluster, with the health checks a
 * fleet needs to heal what the soak breaks (a failed or killed machine is replaced only by remediation, as in
 * Cluster API).
 */
import type { Random } from './random.js';

export const API_VERSION = 'clusterless.dev/v1alpha1';
export const NAMESPACE = 'soak';
export const BASE_VERSION = 'v1.31.2';

export interface Manifest {
  plural: string;
  object: Record<string, unknown> & { spec: Record<string, unknown> };
}

export interface ClusterShape {
  name: string;
  controlPlaneReplicas: 1 | 3;
  workers: number;
  strategy: Record<string, unknown>;
  /** The workers' health check short-circuits above this many unhealthy machines. */
  maxUnhealthy: string | number;
}

/** A random but valid cluster shape: strategies cover surge-only, unavailable-only, both and Recreate. */
export function randomShape(rng: Random, name: string): ClusterShape {
  const strategies = [
    { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
    { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } },
    { type: 'RollingUpdate', rollingUpdate: { maxSurge: '50%', maxUnavailable: '25%' } },
    { type: 'Recreate' },
  ];
  return {
    name,
    controlPlaneReplicas: rng.chance(0.4) ? 3 : 1,
    workers: rng.int(1, 4),
    strategy: rng.pick(strategies),
    maxUnhealthy: rng.pick(['60%', 2, '100%']),
  };
}

/**
 * Spot interruptions per worker instance-hour (the workers' sim class): a soak of a few simulated hours sees a few
 * dozen, each warned two minutes before its instance is reclaimed (functions/core/machine/interruption.ts).
 */
export const SPOT_INTERRUPTIONS_PER_HOUR = 1;

export function clusterManifests(shape: ClusterShape): Manifest[] {
  const { name } = shape;
  const meta = (n: string) => ({ name: n, namespace: NAMESPACE });
  const classRef = { name: `${name}-class` };
  // The workers on spot; the control plane on demand (a warned control-plane machine is left to its health check).
  const spotRef = { name: `${name}-spot` };
  const m = (plural: string, kind: string, n: string, spec: Record<string, unknown>): Manifest => ({
    plural,
    object: { apiVersion: API_VERSION, kind, metadata: meta(n), spec },
  });
  return [
    m('machineclasses', 'MachineClass', `${name}-class`, { sim: { bootSeconds: 20, nodeReadySeconds: 10 } }),
    m('machineclasses', 'MachineClass', `${name}-spot`, { sim: { bootSeconds: 20, nodeReadySeconds: 10, interruptionsPerHour: SPOT_INTERRUPTIONS_PER_HOUR } }),
    m('clusters', 'Cluster', name, { provider: { sim: { failureDomains: ['zone-a', 'zone-b', 'zone-c'] } } }),
    m('controlplanes', 'ControlPlane', `${name}-cp`, {
      clusterName: name,
      replicas: shape.controlPlaneReplicas,
      version: BASE_VERSION,
      machineClassRef: classRef,
      remediation: { maxRetry: 20, retryPeriodSeconds: 0, minHealthyPeriodSeconds: 60 },
    }),
    m('machinedeployments', 'MachineDeployment', `${name}-md`, {
      clusterName: name,
      replicas: shape.workers,
      template: { spec: { version: BASE_VERSION, machineClassRef: spotRef } },
      strategy: shape.strategy,
      // Both policies, without a draw of their own (the seeds' scripts stay as they were).
      spot: { rebalance: shape.workers % 2 === 0 ? 'Replace' : 'Ignore' },
    }),
    m('machinehealthchecks', 'MachineHealthCheck', `${name}-workers`, {
      clusterName: name,
      selector: { matchLabels: { 'clusterless.dev/deployment-name': `${name}-md` } },
      unhealthyConditions: [
        { type: 'Ready', status: 'Unknown', timeout: '60s' },
        { type: 'Ready', status: 'False', timeout: '60s' },
      ],
      nodeStartupTimeout: '3m',
      maxUnhealthy: shape.maxUnhealthy,
    }),
    m('machinehealthchecks', 'MachineHealthCheck', `${name}-control-plane`, {
      clusterName: name,
      selector: { matchLabels: { 'clusterless.dev/control-plane-name': `${name}-cp` } },
      unhealthyConditions: [
        { type: 'Ready', status: 'Unknown', timeout: '60s' },
        { type: 'Ready', status: 'False', timeout: '60s' },
      ],
      nodeStartupTimeout: '3m',
    }),
  ];
}

/** The next patch release: v1.31.2 -> v1.31.3 (always an allowed upgrade). */
export function nextPatch(version: string): string {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) return version;
  return `v${m[1]}.${m[2]}.${Number(m[3]) + 1}`;
}
