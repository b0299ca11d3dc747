/**
 * When a cluster is reconciled again without a write or an instance event: what a reconcile's outcome asks for,
 * and how two asks of one cluster combine. Pure; the hosts carry it out through the ReconcileRequeues port
 * (timers on the embedded host, EventBridge Scheduler one-time schedules on AWS).
 *
 * Learnt from controller-runtime's reconcile.Result{RequeueAfter} and its rate-limited requeue of a failed
 * reconcile (pkg/internal/controller/controller.go): the planners return the requeue as data
 * (core/plan.ts), nothing here waits.
 */

/** A reconcile that reported errors (an action failed, a release was refused) looks again this soon at the latest. */
export const RECONCILE_ERROR_REQUEUE_SECONDS = 10;
/** A reconcile execution that failed past its retries (or was lost) is started again this soon. */
export const FAILED_RECONCILE_RETRY_SECONDS = 5;

/** How a reconcile ended, as far as its requeue is concerned. */
export type ReconcileEnd =
  | {
      kind: 'Succeeded';
      /** What the plans asked for (the earliest of them). */
      requeueAfterSeconds?: number;
      /** Errors the reconcile reported. */
      errors: number;
    }
  | { kind: 'Failed' };

/** The seconds after which the cluster is reconciled again; undefined when only a change or the sweep should. */
export function requeueAfter(end: ReconcileEnd): number | undefined {
  if (end.kind === 'Failed') return FAILED_RECONCILE_RETRY_SECONDS;
  if (end.errors > 0) return earliest(end.requeueAfterSeconds, RECONCILE_ERROR_REQUEUE_SECONDS);
  return end.requeueAfterSeconds;
}

/** The earliest of some requeues; undefined when none asks. */
export function earliest(...seconds: readonly (number | undefined)[]): number | undefined {
  const asked = seconds.filter((s): s is number => s !== undefined);
  return asked.length === 0 ? undefined : Math.min(...asked);
}

/**
 * Whether a requeue due at `wanted` replaces the one already due at `existing`: the earliest wins, so two
 * reconciles asking in any order leave the earlier time. An existing time that has passed (its reconcile started
 * or was lost) never holds a later ask back.
 */
export function replacesRequeue(existing: Date | undefined, wanted: Date, now: Date): boolean {
  return existing === undefined || existing.getTime() <= now.getTime() || wanted.getTime() < existing.getTime();
}

/**
 * Whether a requeue needs a schedule of its own on a host whose sweep runs every `sweepIntervalSeconds` and whose
 * scheduler fires with `precisionSeconds` precision (EventBridge Scheduler: 60 s).
 *
 * Note: a requeue due sooner than the next sweep is left to the sweep. A schedule could not fire it much earlier
 * (at best within the scheduler's precision), and the short requeues the planners ask for come from clusters the
 * sweep sees drifting anyway (a rollout waiting for minReadySeconds, a drain, a load balancer being made, a health
 * check whose node still reports its condition), so a schedule would double their reconciles for no gain.
 */
export function needsScheduledRequeue(afterSeconds: number, sweepIntervalSeconds: number, precisionSeconds = 60): boolean {
  return afterSeconds >= Math.max(sweepIntervalSeconds, precisionSeconds);
}
