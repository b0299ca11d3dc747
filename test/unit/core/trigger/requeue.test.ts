/** The requeue rules both hosts carry out: what a reconcile's end asks for, the earliest ask winning, what needs a schedule. */
import { describe, expect, it } from 'vitest';
import {
  FAILED_RECONCILE_RETRY_SECONDS,
  earliest,
  RECONCILE_ERROR_REQUEUE_SECONDS,
  needsScheduledRequeue,
  replacesRequeue,
  requeueAfter,
  type ReconcileEnd,
} from '../../../../functions/core/trigger/index.js';

describe('requeueAfter', () => {
  it.each<{ name: string; end: ReconcileEnd; expected: number | undefined }>([
    { name: 'a settled reconcile asks for nothing', end: { kind: 'Succeeded', errors: 0 }, expected: undefined },
    { name: "a plan's requeue is kept", end: { kind: 'Succeeded', requeueAfterSeconds: 300, errors: 0 }, expected: 300 },
    { name: 'errors look again soon', end: { kind: 'Succeeded', errors: 2 }, expected: RECONCILE_ERROR_REQUEUE_SECONDS },
    {
      name: 'errors bring a later requeue forward',
      end: { kind: 'Succeeded', requeueAfterSeconds: 300, errors: 1 },
      expected: RECONCILE_ERROR_REQUEUE_SECONDS,
    },
    { name: 'errors keep an earlier requeue', end: { kind: 'Succeeded', requeueAfterSeconds: 0, errors: 1 }, expected: 0 },
    { name: 'a failed execution is retried', end: { kind: 'Failed' }, expected: FAILED_RECONCILE_RETRY_SECONDS },
  ])('$name', ({ end, expected }) => {
    expect(requeueAfter(end)).toBe(expected);
  });
});

describe('replacesRequeue', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const at = (s: number) => new Date(now.getTime() + s * 1000);

  it.each([
    { name: 'nothing due yet', existing: undefined, wanted: 600, expected: true },
    { name: 'an earlier ask replaces a later one', existing: 600, wanted: 120, expected: true },
    { name: 'a later ask leaves an earlier one', existing: 120, wanted: 600, expected: false },
    { name: 'the same time is left as it is', existing: 120, wanted: 120, expected: false },
    { name: 'a time that has passed is replaced, even by a later one', existing: -30, wanted: 600, expected: true },
  ])('$name', ({ existing, wanted, expected }) => {
    expect(replacesRequeue(existing === undefined ? undefined : at(existing), at(wanted), now)).toBe(expected);
  });
});

describe('needsScheduledRequeue', () => {
  it.each([
    { after: 0, interval: 60, expected: false },
    { after: 59, interval: 60, expected: false },
    { after: 60, interval: 60, expected: true },
    { after: 3600, interval: 60, expected: true },
    { after: 200, interval: 300, expected: false },
    // Below the scheduler's precision a schedule gains nothing, whatever the sweep's interval.
    { after: 30, interval: 10, expected: false },
  ])('$after s with a sweep every $interval s: $expected', ({ after, interval, expected }) => {
    expect(needsScheduledRequeue(after, interval)).toBe(expected);
  });
});

describe('requeue edges', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  it('when no one asks, there is no earliest requeue', () => {
    expect([earliest(), earliest(undefined, undefined), earliest(undefined, 30, 10)]).toEqual([undefined, undefined, 10]);
  });

  it('a time due right now is replaced, even by a later one', () => {
    expect(replacesRequeue(now, new Date(now.getTime() + 600_000), now)).toBe(true);
  });
});
