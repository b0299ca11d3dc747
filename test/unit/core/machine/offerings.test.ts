/**
 * Capacity-aware order of a launch's attempts (core/machine/offerings.ts): offerings marked without capacity go
 * last for their market, the class's priority kept among the rest, the recorded attempt always first, and a mark
 * that expired restores the order. Karpenter's unavailable offerings cache (pkg/cache/unavailableofferings.go) is
 * the model.
 */
import { describe, expect, it } from 'vitest';
import {
  UNAVAILABLE_OFFERING_TTL_SECONDS,
  capacityOrdered,
  offeringKey,
  unavailableUntil,
  unexpired,
  type Offering,
} from '../../../../functions/core/machine/offerings.js';
import type { LaunchAttempt } from '../../../../functions/core/machine/placement.js';

// Two zones, two types each, as launchAttempts orders them: zone by zone, the class's types in order within a zone.
const ATTEMPTS: LaunchAttempt[] = [
  { instanceType: 'm5.large', availabilityZone: 'a' },
  { instanceType: 'm6i.large', availabilityZone: 'a' },
  { instanceType: 'm5.large', availabilityZone: 'b' },
  { instanceType: 'm6i.large', availabilityZone: 'b' },
];
const names = (attempts: LaunchAttempt[]) => attempts.map((a) => `${a.instanceType}@${a.availabilityZone}`);
const spot = (instanceType: string, availabilityZone: string): Offering => ({ instanceType, availabilityZone, capacityType: 'spot' });

describe('capacityOrdered', () => {
  it.each([
    { name: 'no marks: the order as placed', marks: [] as Offering[], want: ['m5.large@a', 'm6i.large@a', 'm5.large@b', 'm6i.large@b'] },
    {
      name: "the first offering marked: it goes last, the rest keep the class's order",
      marks: [spot('m5.large', 'a')],
      want: ['m6i.large@a', 'm5.large@b', 'm6i.large@b', 'm5.large@a'],
    },
    {
      name: 'two marked: both after the unmarked ones, in their own order',
      marks: [spot('m5.large', 'b'), spot('m5.large', 'a')],
      want: ['m6i.large@a', 'm6i.large@b', 'm5.large@a', 'm5.large@b'],
    },
    {
      name: 'every offering marked: the order as placed (the last resort is all there is)',
      marks: ATTEMPTS.map((a) => spot(a.instanceType, a.availabilityZone)),
      want: ['m5.large@a', 'm6i.large@a', 'm5.large@b', 'm6i.large@b'],
    },
    {
      name: "a mark of the other market changes nothing: on-demand capacity is not spot's",
      marks: [{ ...spot('m5.large', 'a'), capacityType: 'on-demand' as const }],
      want: ['m5.large@a', 'm6i.large@a', 'm5.large@b', 'm6i.large@b'],
    },
  ])('$name', ({ marks, want }) => {
    expect(names(capacityOrdered(ATTEMPTS, 'spot', marks))).toEqual(want);
  });

  it('keeps the recorded attempt first even when its offering is marked: a request that launched before a crash is sent again first', () => {
    const recorded = { instanceType: 'm5.large', availabilityZone: 'a', capacityType: 'spot' as const };
    const ordered = capacityOrdered(ATTEMPTS, 'spot', [spot('m5.large', 'a'), spot('m6i.large', 'a')], recorded);
    expect(names(ordered)).toEqual(['m5.large@a', 'm5.large@b', 'm6i.large@b', 'm6i.large@a']);
  });

  it("a recorded attempt of another round is not this round's: the on-demand round orders its copy by its own marks", () => {
    const recordedSpot = { instanceType: 'm5.large', availabilityZone: 'a', capacityType: 'spot' as const };
    const onDemandMark = { ...spot('m5.large', 'a'), capacityType: 'on-demand' as const };
    expect(names(capacityOrdered(ATTEMPTS, 'on-demand', [onDemandMark], recordedSpot))).toEqual(['m6i.large@a', 'm5.large@b', 'm6i.large@b', 'm5.large@a']);
  });

  it('a recorded attempt without its market (recorded before markets were) counts as of the round asked', () => {
    const recorded = { instanceType: 'm6i.large', availabilityZone: 'b' };
    expect(names(capacityOrdered(ATTEMPTS, 'on-demand', [], recorded))[0]).toBe('m6i.large@b');
  });

  it('returns every attempt exactly once', () => {
    const ordered = capacityOrdered(ATTEMPTS, 'spot', [spot('m6i.large', 'b'), spot('m5.large', 'a')], ATTEMPTS[2]);
    expect(names(ordered).sort()).toEqual(names(ATTEMPTS).sort());
  });
});

describe('marks and their expiry', () => {
  const now = new Date('2026-12-07T10:00:00.000Z');

  it("marks an offering for Karpenter's three minutes", () => {
    expect(UNAVAILABLE_OFFERING_TTL_SECONDS).toBe(180);
    expect(unavailableUntil(spot('m5.large', 'a'), now)).toEqual({ ...spot('m5.large', 'a'), expiresAt: '2026-12-07T10:03:00.000Z' });
  });

  it('a mark holds until its expiry and not at it: then the order is restored', () => {
    // Prepare
    const mark = unavailableUntil(spot('m5.large', 'a'), now);
    const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    // Act
    const before = unexpired([mark], at(179));
    const after = unexpired([mark], at(180));
    // Assess
    expect(names(capacityOrdered(ATTEMPTS, 'spot', before))[0]).toBe('m6i.large@a');
    expect(after).toEqual([]);
    expect(names(capacityOrdered(ATTEMPTS, 'spot', after))[0]).toBe('m5.large@a');
  });

  it('keys an offering by market, type and zone', () => {
    expect(offeringKey(spot('m5.large', 'us-east-1a'))).toBe('spot:m5.large:us-east-1a');
    expect(offeringKey({ ...spot('m5.large', 'us-east-1a'), capacityType: 'on-demand' })).not.toBe(offeringKey(spot('m5.large', 'us-east-1a')));
  });
});
