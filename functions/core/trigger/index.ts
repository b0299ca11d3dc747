/** The trigger policy both hosts share: the sweep's drift rules and decisions, and the requeue of a reconcile. */
export { clustersWithDrift, type ClusterDrift, type FleetSnapshot } from './drift.js';
export { planSweep, probeInputOf, decideSweep, type SweepPlan, type SweepDecision } from './sweep.js';
export {
  requeueAfter,
  earliest,
  replacesRequeue,
  needsScheduledRequeue,
  RECONCILE_ERROR_REQUEUE_SECONDS,
  FAILED_RECONCILE_RETRY_SECONDS,
  type ReconcileEnd,
} from './requeue.js';
