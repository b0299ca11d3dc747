/** Objects of one cluster as the controllers would leave them, for the CLI tests (in process and as a child). */
import { API_VERSION, Annotations, Labels } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';

export const BASE = '/apis/clusterless.dev/v1alpha1';
export const path = (plural: string, name?: string, sub?: string, namespace = 'default') =>
  [`${BASE}/namespaces/${namespace}/${plural}`, name, sub].filter(Boolean).join('/');

export function machine(
  name: string,
  options: {
    cluster?: string;
    labels?: Record<string, string>;
    owner?: { kind: string; name: string; uid: string };
    version?: string;
    namespace?: string;
  } = {},
): ApiObject {
  return {
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: {
      name,
      namespace: options.namespace ?? 'default',
      labels: options.labels ?? {},
      ...(options.owner ? { ownerReferences: [{ apiVersion: API_VERSION, ...options.owner, controller: true }] } : {}),
    },
    spec: { clusterName: options.cluster ?? 'demo', version: options.version ?? 'v1.31.2', machineClassRef: { name: 'demo' } },
  };
}

export const controlPlaneLabels = (cluster: string, cp: string) => ({
  [Labels.clusterName]: cluster,
  [Labels.controlPlaneName]: cp,
  [Labels.controlPlane]: '',
});

export const deploymentLabels = (cluster: string, md: string) => ({ [Labels.clusterName]: cluster, [Labels.deploymentName]: md });

export function readyCondition(
  status: 'True' | 'False' | 'Unknown',
  at: string,
  extra: { reason?: string; message?: string; severity?: 'Error' | 'Warning' | 'Info' } = {},
) {
  return { type: 'Ready', status, lastTransitionTime: at, ...extra };
}

/** A MachineSet of a deployment's revision, owned by it, as the rollout makes them. */
export function machineSet(md: { metadata: { name: string; uid: string } }, revision: number, version: string, hash: string, replicas = 0): ApiObject {
  const matchLabels = { [Labels.clusterName]: 'demo', [Labels.deploymentName]: md.metadata.name, [Labels.templateHash]: hash };
  return {
    apiVersion: API_VERSION,
    kind: 'MachineSet',
    metadata: {
      name: `${md.metadata.name}-${hash}`,
      namespace: 'default',
      labels: { [Labels.deploymentName]: md.metadata.name },
      annotations: { [Annotations.revision]: String(revision) },
      ownerReferences: [{ apiVersion: API_VERSION, kind: 'MachineDeployment', name: md.metadata.name, uid: md.metadata.uid, controller: true }],
    },
    spec: {
      clusterName: 'demo',
      replicas,
      selector: { matchLabels },
      template: { metadata: { labels: matchLabels }, spec: { version, machineClassRef: { name: 'demo' } } },
    },
  };
}
