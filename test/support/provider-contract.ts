/**
 * The MachineProvider contract: one suite that every adapter must pass (the simulator, and EC2 on moto_server),
 * so that the workflows can rely on ports.ts whichever provider runs. Like hono's `common.case.test.ts`.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { zonesFor } from '../../functions/core/machine/placement.js';
import { seededUnit } from '../../functions/seeded-random.js';
import type { InstanceFact } from '../../functions/core/observed.js';
import { InvalidSpecError, type LaunchAttempt, type LaunchSpec, type MachineProvider } from '../../functions/ports.js';

export interface ClusterRef {
  namespace: string;
  clusterName: string;
}

export interface ProviderHarness {
  provider: MachineProvider;
  /** The zones of the clusters the harness names (at least two). */
  zones: string[];
  /** The scheme of providerIDs, e.g. `sim` or `aws`. */
  scheme: string;
  /** The instance types of the harness's machine class, in the order a launch tries them. */
  instanceTypes: string[];
  /** A provider of another installation over the same cloud (account): as a second `clusterless up` would be. */
  otherInstallation(): MachineProvider;
  /** A cluster name no other test uses (also across files running in parallel against one emulator). */
  newCluster(namespace?: string): ClusterRef;
  /** A LaunchSpec for a machine of the cluster, with the harness's machine class and cluster settings. */
  launchSpec(cluster: ClusterRef, machine: { machineName: string; machineUid: string; clientToken: string; failureDomain?: string }): LaunchSpec;
  /** Lets the instances boot (the simulator's clock moves); emulators that start instances running need nothing. */
  settle(): Promise<void>;
}

export type ProviderSetup = () => Promise<ProviderHarness>;

const GONE = ['shutting-down', 'terminated'];

export function runProviderContract(name: string, setup: ProviderSetup): void {
  let n = 0;
  function machine(h: ProviderHarness, cluster: ClusterRef, extra: { failureDomain?: string; machineUid?: string } = {}): LaunchSpec {
    n++;
    return h.launchSpec(cluster, {
      machineName: `${cluster.clusterName}-m${n}`.slice(-63).replace(/^-+/, ''),
      machineUid: extra.machineUid ?? randomUUID(),
      clientToken: randomUUID(),
      ...(extra.failureDomain !== undefined ? { failureDomain: extra.failureDomain } : {}),
    });
  }
  const ofUid = (facts: InstanceFact[], uid: string) => facts.filter((f) => f.machineUid === uid);
  const live = (facts: InstanceFact[]) => facts.filter((f) => !GONE.includes(f.state));

  describe(`MachineProvider contract: ${name}`, () => {
    describe('create', () => {
      it('launches a pending or running instance carrying the machine uid, its zone and a providerID', async () => {
        // Prepare
        const h = await setup();
        const cluster = h.newCluster();
        const spec = machine(h, cluster);
        // Act
        const created = await h.provider.create(spec);
        // Assess
        expect(created.machineUid).toBe(spec.machineUid);
        expect(['pending', 'running']).toContain(created.state);
        expect(h.zones).toContain(created.availabilityZone);
        expect(created.providerID).toBe(`${h.scheme}:///${created.availabilityZone}/${created.instanceId}`);
        await h.settle();
        const described = await h.provider.describe(cluster.namespace, cluster.clusterName);
        expect(described).toEqual([
          expect.objectContaining({ instanceId: created.instanceId, machineUid: spec.machineUid, providerID: created.providerID, state: 'running' }),
        ]);
      });

      it('puts a machine pinned to a failure domain in that zone, for every zone', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        for (const zone of h.zones) {
          const created = await h.provider.create(machine(h, cluster, { failureDomain: zone }));
          expect(created.availabilityZone).toBe(zone);
          expect(created.providerID).toBe(`${h.scheme}:///${zone}/${created.instanceId}`);
        }
      });

      it('refuses a failure domain the cluster does not have, launching nothing', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        await expect(h.provider.create(machine(h, cluster, { failureDomain: 'no-such-zone-1z' }))).rejects.toBeInstanceOf(InvalidSpecError);
        expect(await h.provider.describe(cluster.namespace, cluster.clusterName)).toEqual([]);
      });

      it('adopts the live instance of the same machine uid, even under a new ClientToken: exactly one instance', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        const spec = machine(h, cluster);
        const first = await h.provider.create(spec);
        const again = await h.provider.create(spec);
        const retried = await h.provider.create({ ...spec, clientToken: randomUUID() });
        expect(again.instanceId).toBe(first.instanceId);
        expect(retried.instanceId).toBe(first.instanceId);
        expect(ofUid(await h.provider.describe(cluster.namespace, cluster.clusterName), spec.machineUid)).toHaveLength(1);
      });

      it('launches a new instance for a machine whose instance was terminated (a new launch attempt)', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        const spec = machine(h, cluster);
        const first = await h.provider.create(spec);
        await h.provider.delete({ ...cluster, machineUid: spec.machineUid, instanceId: first.instanceId });
        const second = await h.provider.create({ ...spec, clientToken: randomUUID() });
        expect(second.instanceId).not.toBe(first.instanceId);
        expect(live(ofUid(await h.provider.describe(cluster.namespace, cluster.clusterName), spec.machineUid)).map((f) => f.instanceId)).toEqual([
          second.instanceId,
        ]);
      });
    });

    describe('describe', () => {
      it("returns exactly the cluster's instances: not another cluster's, nor a same-named cluster's of another namespace", async () => {
        const h = await setup();
        const a = h.newCluster();
        const b = h.newCluster();
        const aElsewhere = { namespace: `${a.namespace}-other`, clusterName: a.clusterName };
        const mine = [await h.provider.create(machine(h, a)), await h.provider.create(machine(h, a))];
        await h.provider.create(machine(h, b));
        await h.provider.create(machine(h, aElsewhere));
        const described = await h.provider.describe(a.namespace, a.clusterName);
        expect(described.map((f) => f.instanceId).sort()).toEqual(mine.map((f) => f.instanceId).sort());
        expect(await h.provider.describe(b.namespace, b.clusterName)).toHaveLength(1);
        expect(await h.provider.describe(aElsewhere.namespace, aElsewhere.clusterName)).toHaveLength(1);
      });

      it('returns nothing for a cluster without instances', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        expect(await h.provider.describe(cluster.namespace, cluster.clusterName)).toEqual([]);
      });
    });

    describe('launch attempts', () => {
      it('records each attempt before its launch request: the instance is where the last recorded attempt says', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        const recorded: LaunchAttempt[] = [];
        const created = await h.provider.create(machine(h, cluster), { recordAttempt: async (a) => void recorded.push(a) });
        expect(recorded).toHaveLength(1);
        // A provider with more than one market round records the market too (the EC2 provider's capacityType).
        expect(recorded[0]).toMatchObject({ instanceType: created.instanceType, availabilityZone: created.availabilityZone });
      });

      it('sends the recorded attempt first, without recording it again', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        const spec = machine(h, cluster);
        // A zone the launch would not try first, and the class's last instance type.
        const placement = zonesFor(spec, '', seededUnit);
        if (!placement.ok) throw new Error(placement.message);
        const zone = h.zones.find((z) => z !== placement.zones[0])!;
        const recordedAttempt = { instanceType: h.instanceTypes.at(-1)!, availabilityZone: zone };
        const recorded: LaunchAttempt[] = [];
        const created = await h.provider.create({ ...spec, recordedAttempt }, { recordAttempt: async (a) => void recorded.push(a) });
        expect(created).toMatchObject({ availabilityZone: zone, instanceType: recordedAttempt.instanceType });
        expect(recorded).toEqual([]);
      });

      it('tries offerings marked without capacity last: a machine preferring a zone whose offerings are all marked launches in the next', async () => {
        // Prepare: every instance type of the preferred zone marked for the machine's market (not for the other).
        const h = await setup();
        const cluster = h.newCluster();
        const [preferred, next] = h.zones as [string, string];
        const spec: LaunchSpec = {
          ...machine(h, cluster),
          preferredFailureDomain: preferred,
          capacity: { capacityType: 'on-demand' },
          unavailableOfferings: h.instanceTypes.map((instanceType) => ({ instanceType, availabilityZone: preferred, capacityType: 'on-demand' })),
        };
        const recorded: LaunchAttempt[] = [];
        // Act
        const created = await h.provider.create(spec, { recordAttempt: async (a) => void recorded.push(a) });
        // Assess: the class's first type in the next zone, the only attempt sent; a spot mark would have changed nothing.
        expect(created).toMatchObject({ availabilityZone: next, instanceType: h.instanceTypes[0] });
        expect(recorded).toEqual([expect.objectContaining({ availabilityZone: next, instanceType: h.instanceTypes[0] })]);
        const spotMarked = await h.provider.create({
          ...machine(h, cluster),
          preferredFailureDomain: preferred,
          capacity: { capacityType: 'on-demand' },
          unavailableOfferings: spec.unavailableOfferings!.map((o) => ({ ...o, capacityType: 'spot' as const })),
        });
        expect(spotMarked.availabilityZone).toBe(preferred);
      });

      it('sends the recorded attempt first even when its offering is marked without capacity', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        const [preferred, other] = h.zones as [string, string];
        // As an earlier launch recorded it (the sim records no market; EC2 reads a missing one as the first round's).
        const recordedAttempt = { instanceType: h.instanceTypes[0]!, availabilityZone: other };
        const spec: LaunchSpec = {
          ...machine(h, cluster),
          preferredFailureDomain: preferred,
          capacity: { capacityType: 'on-demand' },
          recordedAttempt,
          unavailableOfferings: [{ ...recordedAttempt, capacityType: 'on-demand' }],
        };
        const recorded: LaunchAttempt[] = [];
        const created = await h.provider.create(spec, { recordAttempt: async (a) => void recorded.push(a) });
        expect(created).toMatchObject({ availabilityZone: other, instanceType: recordedAttempt.instanceType });
        expect(recorded).toEqual([]);
      });

      it('launches nothing when recording the attempt fails', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        const spec = machine(h, cluster);
        const failure = new Error('the Machine could not be written');
        await expect(h.provider.create(spec, { recordAttempt: async () => Promise.reject(failure) })).rejects.toBe(failure);
        expect(await h.provider.describe(cluster.namespace, cluster.clusterName)).toEqual([]);
      });
    });

    describe('installations', () => {
      it("never sees, adopts or terminates another installation's instances, even of a cluster of the same namespace and name", async () => {
        // Prepare: installation A's machine; installation B's cluster of the same name.
        const h = await setup();
        const cluster = h.newCluster();
        const other = h.otherInstallation();
        const spec = machine(h, cluster);
        const theirs = await h.provider.create(spec);
        // Act
        const seen = await other.describe(cluster.namespace, cluster.clusterName);
        const deleted = await other.delete({ ...cluster, machineUid: spec.machineUid, instanceId: theirs.instanceId });
        const launched = await other.create({ ...spec, clientToken: randomUUID() });
        // Assess
        expect(seen).toEqual([]);
        expect(deleted).toEqual({ refused: [theirs.instanceId] });
        expect(launched.instanceId).not.toBe(theirs.instanceId);
        await h.settle();
        expect(live(await h.provider.describe(cluster.namespace, cluster.clusterName)).map((f) => f.instanceId)).toEqual([theirs.instanceId]);
        expect((await other.describe(cluster.namespace, cluster.clusterName)).map((f) => f.instanceId)).toEqual([launched.instanceId]);
      });
    });

    describe('delete', () => {
      it.each([
        { name: 'by machine uid and instance id', withId: true },
        { name: 'by machine uid alone', withId: false },
      ])('terminates the instance $name, and describe shows it terminated or not at all', async ({ withId }) => {
        const h = await setup();
        const cluster = h.newCluster();
        const spec = machine(h, cluster);
        const created = await h.provider.create(spec);
        await h.provider.delete({ ...cluster, machineUid: spec.machineUid, ...(withId ? { instanceId: created.instanceId } : {}) });
        const after = ofUid(await h.provider.describe(cluster.namespace, cluster.clusterName), spec.machineUid);
        expect(after.every((f) => GONE.includes(f.state))).toBe(true);
      });

      it('is idempotent: a second delete, and a delete of a machine that never had an instance, succeed', async () => {
        const h = await setup();
        const cluster = h.newCluster();
        const spec = machine(h, cluster);
        const created = await h.provider.create(spec);
        const target = { ...cluster, machineUid: spec.machineUid, instanceId: created.instanceId };
        await h.provider.delete(target);
        await expect(h.provider.delete(target)).resolves.toEqual({ refused: [] });
        await expect(h.provider.delete({ ...cluster, machineUid: randomUUID() })).resolves.toEqual({ refused: [] });
        expect(live(await h.provider.describe(cluster.namespace, cluster.clusterName))).toEqual([]);
      });

      it.each([
        { name: 'another machine of the cluster', sameCluster: true },
        { name: 'a machine of another cluster', sameCluster: false },
      ])('refuses to terminate the instance of $name named by id (as a forged status names it), terminating only its own', async ({ sameCluster }) => {
        // Prepare
        const h = await setup();
        const cluster = h.newCluster();
        const victimCluster = sameCluster ? cluster : h.newCluster();
        const own = machine(h, cluster);
        const ownInstance = await h.provider.create(own);
        const victim = await h.provider.create(machine(h, victimCluster));
        // Act
        const result = await h.provider.delete({ ...cluster, machineUid: own.machineUid, instanceId: victim.instanceId });
        // Assess
        expect(result).toEqual({ refused: [victim.instanceId] });
        await h.settle();
        const victims = await h.provider.describe(victimCluster.namespace, victimCluster.clusterName);
        expect(victims.find((f) => f.instanceId === victim.instanceId)?.state).toBe('running');
        expect(
          ofUid(await h.provider.describe(cluster.namespace, cluster.clusterName), own.machineUid).find((f) => f.instanceId === ownInstance.instanceId)?.state,
        ).toMatch(/^(shutting-down|terminated)$/);
      });

      it("leaves the cluster's other machines running", async () => {
        const h = await setup();
        const cluster = h.newCluster();
        const doomed = machine(h, cluster);
        const kept = machine(h, cluster);
        await h.provider.create(doomed);
        const keptInstance = await h.provider.create(kept);
        await h.provider.delete({ ...cluster, machineUid: doomed.machineUid });
        await h.settle();
        expect(live(await h.provider.describe(cluster.namespace, cluster.clusterName))).toEqual([
          expect.objectContaining({ instanceId: keptInstance.instanceId, state: 'running' }),
        ]);
      });
    });
  });
}
