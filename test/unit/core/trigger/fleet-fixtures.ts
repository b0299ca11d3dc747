/** Fleets as the sweep reads them, for the drift rules' tests and the sweep's: plain objects, settled or not. */
import { API_VERSION } from '../../../../functions/api/common.js';
import type { Cluster } from '../../../../functions/api/cluster.js';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineHealthCheck } from '../../../../functions/api/machine-health-check.js';
import { clustersWithDrift, type FleetSnapshot } from '../../../../functions/core/trigger/index.js';

export const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'default', generation: 1, ...extra });

/** A settled cluster: everything observed, provisioned, running and complete. */
export function settled(name = 'c1'): FleetSnapshot {
  return {
    clusters: [
      {
        apiVersion: API_VERSION,
        kind: 'Cluster',
        metadata: meta(name),
        spec: { paused: false },
        status: { phase: 'Provisioned', observedGeneration: 1 },
      } as unknown as Cluster,
    ],
    controlPlanes: [
      {
        apiVersion: API_VERSION,
        kind: 'ControlPlane',
        metadata: meta(`${name}-cp`),
        spec: { clusterName: name, replicas: 3 },
        status: { observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3 },
      } as unknown as ControlPlane,
    ],
    machineDeployments: [
      {
        apiVersion: API_VERSION,
        kind: 'MachineDeployment',
        metadata: meta(`${name}-md`),
        spec: { clusterName: name, replicas: 2, paused: false },
        status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 },
      } as unknown as MachineDeployment,
    ],
    healthChecks: [],
  };
}

export const drifting = (s: FleetSnapshot) => clustersWithDrift(s).map((d) => `${d.namespace}/${d.clusterName}`);

/** A health check of the cluster's workers as the last reconcile left it: every target healthy. */
export function settledHealthCheck(cluster = 'c1'): MachineHealthCheck {
  return {
    apiVersion: API_VERSION,
    kind: 'MachineHealthCheck',
    metadata: meta(`${cluster}-mhc`),
    spec: {
      clusterName: cluster,
      selector: { matchLabels: { 'clusterless.dev/deployment-name': `${cluster}-md` } },
      unhealthyConditions: [
        { type: 'Ready', status: 'Unknown', timeout: '300s' },
        { type: 'Ready', status: 'False', timeout: '300s' },
      ],
      nodeStartupTimeout: '10m',
      maxUnhealthy: '100%',
    },
    status: {
      observedGeneration: 1,
      expectedMachines: 2,
      currentHealthy: 2,
      conditions: [{ type: 'RemediationAllowed', status: 'True', reason: 'RemediationAllowed', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  } as unknown as MachineHealthCheck;
}

/** A settled cluster with a settled health check. */
export function withHealthCheck(name = 'c1'): FleetSnapshot {
  return { ...settled(name), healthChecks: [settledHealthCheck(name)] };
}

export function fleetOf(...parts: FleetSnapshot[]): FleetSnapshot {
  return {
    clusters: parts.flatMap((p) => p.clusters),
    controlPlanes: parts.flatMap((p) => p.controlPlanes),
    machineDeployments: parts.flatMap((p) => p.machineDeployments),
    healthChecks: parts.flatMap((p) => p.healthChecks),
  };
}
