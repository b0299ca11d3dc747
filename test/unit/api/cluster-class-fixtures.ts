/** A ClusterClass as the contract shows it and a Cluster with a topology of it, as users write them. */
import { API_VERSION } from '../../../functions/api/common.js';
import type { Manifest } from './fixtures.js';

/** A class as the contract shows it: one worker class, a variable, a patch that reads it. */
export const standardClass = (): Manifest => ({
  apiVersion: API_VERSION,
  kind: 'ClusterClass',
  metadata: { name: 'standard' },
  spec: {
    controlPlane: { machineClassRef: { name: 'cp-m5' }, replicas: 3, machineHealthCheck: { maxUnhealthy: '40%' } },
    workers: {
      machineDeployments: [{ class: 'default-worker', template: { machineClassRef: { name: 'worker-m5' } }, machineHealthCheck: {} }],
    },
    variables: [
      {
        name: 'workerMachineClass',
        required: false,
        schema: { openAPIV3Schema: { type: 'string', enum: ['worker-m5', 'worker-g5'], default: 'worker-m5' } },
      },
      {
        name: 'settings',
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['drain'],
            properties: { drain: { type: 'integer', minimum: 0, maximum: 600 }, note: { type: 'string', maxLength: 8 } },
          },
        },
      },
    ],
    patches: [
      {
        name: 'worker-class',
        definitions: [
          {
            selector: { kind: 'MachineDeployment', matchResources: { machineDeploymentClass: { names: ['default-worker'] } } },
            jsonPatches: [
              { op: 'replace', path: '/spec/template/spec/machineClassRef/name', valueFrom: { variable: 'workerMachineClass' } },
              { op: 'replace', path: '/spec/minReadySeconds', value: 30 },
            ],
          },
        ],
      },
    ],
  },
});

export const topologyCluster = (topology: Record<string, unknown> = {}): Manifest => ({
  apiVersion: API_VERSION,
  kind: 'Cluster',
  metadata: { name: 'prod' },
  spec: {
    topology: {
      class: 'standard',
      version: 'v1.31.2',
      workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', replicas: 2 }] },
      variables: [{ name: 'settings', value: { drain: 30 } }],
      ...topology,
    },
  },
});
