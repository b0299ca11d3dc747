/**
 * Capacity-aware order of a launch's attempts: offerings (instance type, zone, market) that recently had no
 * capacity are tried last. Learnt from Karpenter's unavailable offerings cache
 * (aws/karpenter-provider-aws pkg/cache/unavailableofferings.go: an insufficient-capacity error marks the offering,
 * keyed by market, type and zone, for three minutes, and marking again extends it), written anew. Karpenter leaves
 * such offerings out; here they stay as the last resort, since a launch has no other pool to go to (the class's
 * types and the cluster's zones are all it may use), and one more refused request costs nothing.
 *
 * Pure: the caller passes the time and the offerings read from the store (workflows/provision-machine.ts).
 */
import type { LaunchAttempt } from './placement.js';

/** A pool EC2 launches from: an instance type in a zone on a market. */
export interface Offering {
  instanceType: string;
  availabilityZone: string;
  capacityType: 'spot' | 'on-demand';
}

/** An offering known to lack capacity until `expiresAt` (ISO 8601). */
export interface UnavailableOffering extends Offering {
  expiresAt: string;
}

/** How long an offering that had no capacity is tried last (Karpenter's UnavailableOfferingsTTL). */
export const UNAVAILABLE_OFFERING_TTL_SECONDS = 180;

/** One offering's key: its market, type and zone. */
export const offeringKey = (o: Offering): string => `${o.capacityType}:${o.instanceType}:${o.availabilityZone}`;

/** The mark of an offering that had no capacity at `now`: unavailable until the TTL has passed. */
export function unavailableUntil(offering: Offering, now: Date, ttlSeconds = UNAVAILABLE_OFFERING_TTL_SECONDS): UnavailableOffering {
  const { instanceType, availabilityZone, capacityType } = offering;
  return { instanceType, availabilityZone, capacityType, expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString() };
}

/** The offerings still unavailable at `now` (an expired mark restores the class's order). */
export function unexpired(marks: readonly UnavailableOffering[], now: Date): UnavailableOffering[] {
  return marks.filter((m) => Date.parse(m.expiresAt) > now.getTime());
}

/**
 * One round's attempts (all on `capacityType`) in the order to send them: the recorded attempt first when it is
 * one of them (a request that succeeded before a crash must be sent again before any other: intent before
 * action), then the attempts whose offering is not known to lack capacity, then those that are, each group in
 * launchAttempts' order (the class's instanceTypes priority within a zone, the zones as placed).
 */
export function capacityOrdered(
  attempts: readonly LaunchAttempt[],
  capacityType: Offering['capacityType'],
  unavailable: readonly Offering[],
  recorded?: LaunchAttempt,
): LaunchAttempt[] {
  const marked = new Set(unavailable.filter((o) => o.capacityType === capacityType).map(offeringKey));
  const isRecorded = (a: LaunchAttempt) =>
    recorded !== undefined &&
    a.instanceType === recorded.instanceType &&
    a.availabilityZone === recorded.availabilityZone &&
    (recorded.capacityType ?? capacityType) === capacityType;
  const first = attempts.filter(isRecorded);
  const rest = attempts.filter((a) => !isRecorded(a));
  const lacking = (a: LaunchAttempt) => marked.has(offeringKey({ ...a, capacityType }));
  return [...first, ...rest.filter((a) => !lacking(a)), ...rest.filter(lacking)];
}
