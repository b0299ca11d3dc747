/**
 * The UnavailableOfferings contract (functions/ports.ts): one suite run on every implementation (memory, the
 * embedded host's SQLite file, DynamoDB on dynalite and on moto), so that a launch reads the same marks wherever
 * the host keeps them.
 */
import { describe, expect, it } from 'vitest';
import type { UnavailableOffering, UnavailableOfferings } from '../../functions/ports.js';

export type UnavailableOfferingsSetup = () => Promise<UnavailableOfferings>;

const at = (iso: string) => new Date(iso);
const mark = (o: Partial<UnavailableOffering> = {}): UnavailableOffering => ({
  instanceType: 'm5.large',
  availabilityZone: 'us-east-1a',
  capacityType: 'spot',
  expiresAt: '2026-12-07T10:03:00.000Z',
  ...o,
});
const byKey = (a: UnavailableOffering, b: UnavailableOffering) =>
  `${a.capacityType}:${a.instanceType}:${a.availabilityZone}`.localeCompare(`${b.capacityType}:${b.instanceType}:${b.availabilityZone}`);

export function runUnavailableOfferingsContract(name: string, setup: UnavailableOfferingsSetup): void {
  describe(`UnavailableOfferings contract: ${name}`, () => {
    it('lists nothing before a mark', async () => {
      const offerings = await setup();
      expect(await offerings.list(at('2026-12-07T10:00:00Z'))).toEqual([]);
    });

    it('lists a mark until its expiry, and not from it on', async () => {
      // Prepare
      const offerings = await setup();
      // Act
      await offerings.mark(mark());
      // Assess
      expect(await offerings.list(at('2026-12-07T10:02:59.999Z'))).toEqual([mark()]);
      expect(await offerings.list(at('2026-12-07T10:03:00Z'))).toEqual([]);
    });

    it('keeps the later expiry of two marks of one offering, whichever was written last', async () => {
      const offerings = await setup();
      await offerings.mark(mark({ expiresAt: '2026-12-07T10:05:00.000Z' }));
      await offerings.mark(mark({ expiresAt: '2026-12-07T10:03:00.000Z' }));
      expect(await offerings.list(at('2026-12-07T10:04:00Z'))).toEqual([mark({ expiresAt: '2026-12-07T10:05:00.000Z' })]);
      await offerings.mark(mark({ expiresAt: '2026-12-07T10:08:00.000Z' }));
      expect(await offerings.list(at('2026-12-07T10:06:00Z'))).toEqual([mark({ expiresAt: '2026-12-07T10:08:00.000Z' })]);
    });

    it('keeps offerings of another market, type or zone apart', async () => {
      const offerings = await setup();
      const marks = [mark(), mark({ capacityType: 'on-demand' }), mark({ instanceType: 'm6i.large' }), mark({ availabilityZone: 'us-east-1b' })];
      for (const m of marks) await offerings.mark(m);
      expect((await offerings.list(at('2026-12-07T10:00:00Z'))).sort(byKey)).toEqual([...marks].sort(byKey));
    });
  });
}
