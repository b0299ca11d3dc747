/**
 * UnavailableOfferings in one process: for tests, and for a host that is the only one of its installation (the
 * embedded host holds its data folder's lock; see local/embedded-sqlite.ts for the one it keeps in its store).
 */
import { offeringKey, type UnavailableOffering } from '../../core/machine/offerings.js';
import type { UnavailableOfferings } from '../../ports.js';

export class MemoryUnavailableOfferings implements UnavailableOfferings {
  private readonly marks = new Map<string, UnavailableOffering>();

  async list(now: Date): Promise<UnavailableOffering[]> {
    return [...this.marks.values()].filter((m) => Date.parse(m.expiresAt) > now.getTime()).map((m) => ({ ...m }));
  }

  async mark(offering: UnavailableOffering): Promise<void> {
    const key = offeringKey(offering);
    const held = this.marks.get(key);
    if (held && Date.parse(held.expiresAt) >= Date.parse(offering.expiresAt)) return;
    const { instanceType, availabilityZone, capacityType, expiresAt } = offering;
    this.marks.set(key, { instanceType, availabilityZone, capacityType, expiresAt });
  }
}
