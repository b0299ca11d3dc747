/** reconcile-cluster (Express): one reconcile of one cluster, then the children it asked for. */
import { catchAll, placeholder, type StateMachineDefinition } from './asl.js';
import { taskRetriers } from './retry-policies.js';
import { hasChildren, startChildren } from './start-children.js';

const TASK = placeholder('ReconcileTaskFunctionArn');

export const reconcileCluster: StateMachineDefinition = {
  Comment:
    'Reconciles one cluster: takes the cluster\'s lease, observes instances and nodes with one call each, asks the pure planners what to do, applies the writes, and starts the child workflows by deterministic execution name (a repeated start is a no-op).',
  StartAt: 'Reconcile',
  States: {
    Reconcile: {
      Type: 'Task',
      Resource: TASK,
      Parameters: {
        step: 'reconcile',
        'namespace.$': '$.namespace',
        'clusterName.$': '$.clusterName',
        'trigger.$': '$.trigger',
      },
      ResultPath: '$.result',
      // The lease lasts a minute longer (LEASE_SECONDS in functions/workflows/reconcile-cluster.ts).
      TimeoutSeconds: 240,
      Retry: taskRetriers({ retryLeaseHeld: true }),
      Catch: [catchAll('$.error', 'RecordFailure')],
      Next: 'HasChildren',
    },
    HasChildren: hasChildren('$.result.children', 'Done'),
    StartChildren: startChildren({ itemsPath: '$.result.children', next: 'Done' }),
    RecordFailure: {
      Type: 'Task',
      Resource: TASK,
      Parameters: {
        step: 'recordFailure',
        'error.$': '$.error',
        'namespace.$': '$.namespace',
        'clusterName.$': '$.clusterName',
      },
      ResultPath: null,
      TimeoutSeconds: 60,
      Retry: taskRetriers({ retryLeaseHeld: true, recordFailure: true }),
      Next: 'Failed',
    },
    Failed: {
      Type: 'Fail',
      Error: 'ReconcileFailed',
      Cause: 'The reconcile failed; the sweep will start it again. See the cluster\'s conditions.',
    },
    Done: {
      Type: 'Succeed',
    },
  },
};
