/**
 * The contracts of the control-plane load-balancer ports, ManagedLoadBalancers and TargetGroupRegistrations: one
 * suite each for every implementation (ELBv2 on moto_server, the simulator's in the SimCloud), written
 * against the ports alone, with the harness doing what only the backing service can (making a target group a
 * cluster names, reading a group's targets). Like hono's `common.case.test.ts`.
 *
 * `hasLeftovers` is asked only where describe found no load balancer, as the reconcile asks it
 * (workflows/load-balancer.ts, observeLoadBalancer): ELBv2's answers whether the cluster's target group exists,
 * load balancer or not.
 */
import { describe, expect, it } from 'vitest';
import { InvalidSpecError, type ManagedLoadBalancerSpec, type ManagedLoadBalancers, type TargetGroupRegistrations } from '../../functions/ports.js';

export interface ManagedLoadBalancersHarness {
  loadBalancers: ManagedLoadBalancers;
  /** The same service seen by another installation (as a second `clusterless up` in the account). */
  otherInstallation(): ManagedLoadBalancers;
  /** A cluster name no other case or file uses. */
  newClusterName(): string;
  /** The subnets a cluster's load balancer may use (at least one). */
  subnetIds: string[];
  /** A target group a cluster names itself, made outside clusterless, with these tags; returns its ARN. */
  namedTargetGroup(tags: Record<string, string>): Promise<string>;
  /** The tags a target group needs to be a cluster's in this installation. */
  ownTags(namespace: string, clusterName: string): Record<string, string>;
  /** The ARN of a target group that does not exist. */
  missingTargetGroupArn(): Promise<string>;
  /**
   * Deletes the cluster's load balancer behind the port's back, leaving its target group: a teardown that stopped
   * between its two deletes.
   */
  deleteLoadBalancerOnly(namespace: string, clusterName: string): Promise<void>;
  /**
   * What ensure does for a cluster that names no subnets: `refused` (InvalidSpecError: a load balancer's nodes
   * need subnets, as ELBv2's do), or `made` (the simulator has no network, so none are needed).
   */
  withoutSubnets: 'refused' | 'made';
}

export interface TargetGroupRegistrationsHarness {
  registrations: TargetGroupRegistrations;
  /** An empty target group; returns its ARN. */
  newTargetGroup(): Promise<string>;
  /** A running instance that may be a target; returns its id. */
  newInstance(): Promise<string>;
  /** Terminates the instance. */
  terminate(instanceId: string): Promise<void>;
  /** The group's registered targets (draining ones excluded). */
  targetsOf(targetGroupArn: string): Promise<{ instanceId: string; port: number }[]>;
  /** The ARN of a target group that does not exist. */
  missingTargetGroupArn(): Promise<string>;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

export function runManagedLoadBalancersContract(name: string, setup: () => Promise<ManagedLoadBalancersHarness>): void {
  const spec = (h: ManagedLoadBalancersHarness, clusterName: string, namespace = 'team-a'): ManagedLoadBalancerSpec => ({
    namespace,
    clusterName,
    scheme: 'internal',
    subnetIds: h.subnetIds,
    port: 6443,
  });

  describe(`ManagedLoadBalancers contract: ${name}`, () => {
    it('finds nothing for a cluster it made nothing for', async () => {
      // Prepare
      const h = await setup();
      const cluster = h.newClusterName();
      // Act & Assess
      expect(await h.loadBalancers.describe('team-a', cluster)).toBeUndefined();
      expect(await h.loadBalancers.targetGroupArn('team-a', cluster)).toBeUndefined();
      expect(await h.loadBalancers.hasLeftovers('team-a', cluster)).toBe(false);
    });

    it('makes one load balancer and target group however often ensure runs, found by the cluster alone', async () => {
      // Prepare
      const h = await setup();
      const cluster = h.newClusterName();
      // Act
      await h.loadBalancers.ensure(spec(h, cluster));
      const first = { lb: await h.loadBalancers.describe('team-a', cluster), tg: await h.loadBalancers.targetGroupArn('team-a', cluster) };
      await h.loadBalancers.ensure(spec(h, cluster));
      const second = { lb: await h.loadBalancers.describe('team-a', cluster), tg: await h.loadBalancers.targetGroupArn('team-a', cluster) };
      // Assess
      expect(first.lb).toMatchObject({ name: expect.any(String), state: expect.stringMatching(/^(provisioning|active)$/), dnsName: expect.any(String) });
      expect(first.tg).toEqual(expect.any(String));
      expect(second.lb?.name).toBe(first.lb?.name);
      expect(second.tg).toBe(first.tg);
    });

    it('gives clusters of one name in two namespaces a load balancer each', async () => {
      // Prepare
      const h = await setup();
      const cluster = h.newClusterName();
      // Act
      await h.loadBalancers.ensure(spec(h, cluster, 'team-a'));
      await h.loadBalancers.ensure(spec(h, cluster, 'team-b'));
      // Assess
      const [a, b] = [await h.loadBalancers.describe('team-a', cluster), await h.loadBalancers.describe('team-b', cluster)];
      expect(a?.name).toEqual(expect.any(String));
      expect(b?.name).toEqual(expect.any(String));
      expect(a?.name).not.toBe(b?.name);
      expect(await h.loadBalancers.targetGroupArn('team-a', cluster)).not.toBe(await h.loadBalancers.targetGroupArn('team-b', cluster));
    });

    it("neither sees nor deletes another installation's load balancer of the same cluster", async () => {
      // Prepare
      const h = await setup();
      const other = h.otherInstallation();
      const cluster = h.newClusterName();
      await other.ensure(spec(h, cluster));
      // Act
      const seen = await h.loadBalancers.describe('team-a', cluster);
      await h.loadBalancers.delete('team-a', cluster);
      // Assess
      expect(seen).toBeUndefined();
      expect(await other.describe('team-a', cluster)).toBeDefined();
      expect(await other.targetGroupArn('team-a', cluster)).toEqual(expect.any(String));
    });

    it('deletes the load balancer and its target group, leaving nothing; a second delete is no error', async () => {
      // Prepare
      const h = await setup();
      const cluster = h.newClusterName();
      await h.loadBalancers.ensure(spec(h, cluster));
      // Act
      await h.loadBalancers.delete('team-a', cluster);
      await h.loadBalancers.delete('team-a', cluster);
      // Assess
      expect(await h.loadBalancers.describe('team-a', cluster)).toBeUndefined();
      expect(await h.loadBalancers.targetGroupArn('team-a', cluster)).toBeUndefined();
      expect(await h.loadBalancers.hasLeftovers('team-a', cluster)).toBe(false);
    });

    it('does with a cluster without subnets what its withoutSubnets option says', async () => {
      // Prepare
      const h = await setup();
      const cluster = h.newClusterName();
      // Act
      const ensured = h.loadBalancers.ensure({ ...spec(h, cluster), subnetIds: [] });
      // Assess
      if (h.withoutSubnets === 'refused') {
        await expect(ensured).rejects.toBeInstanceOf(InvalidSpecError);
        expect(await h.loadBalancers.describe('team-a', cluster)).toBeUndefined();
      } else {
        await expect(ensured).resolves.toBeUndefined();
        expect(await h.loadBalancers.describe('team-a', cluster)).toMatchObject({ dnsName: expect.any(String) });
      }
    });

    it('tells a teardown that stopped after the load balancer by its leftover target group, and finishes it', async () => {
      // Prepare
      const h = await setup();
      const cluster = h.newClusterName();
      await h.loadBalancers.ensure(spec(h, cluster));
      await h.deleteLoadBalancerOnly('team-a', cluster);
      // Act
      const before = { lb: await h.loadBalancers.describe('team-a', cluster), leftovers: await h.loadBalancers.hasLeftovers('team-a', cluster) };
      await h.loadBalancers.delete('team-a', cluster);
      // Assess
      expect(before).toEqual({ lb: undefined, leftovers: true });
      expect(await h.loadBalancers.hasLeftovers('team-a', cluster)).toBe(false);
    });

    it("accepts a target group a cluster names only with this installation's and that cluster's tags", async () => {
      // Prepare
      const h = await setup();
      const cluster = h.newClusterName();
      const own = await h.namedTargetGroup(h.ownTags('team-a', cluster));
      const anotherClusters = await h.namedTargetGroup(h.ownTags('team-a', h.newClusterName()));
      const untagged = await h.namedTargetGroup({});
      const missing = await h.missingTargetGroupArn();
      // Act
      const accepted = await h.loadBalancers.checkTargetGroup(own, 'team-a', cluster);
      const refusals = await Promise.all(
        [
          [anotherClusters, 'team-a'],
          [untagged, 'team-a'],
          [missing, 'team-a'],
          [own, 'team-b'],
        ].map(([arn, namespace]) => rejection(h.loadBalancers.checkTargetGroup(arn!, namespace!, cluster))),
      );
      // Assess: refused by class, naming the group.
      expect(accepted).toBeUndefined();
      for (const [i, arn] of [anotherClusters, untagged, missing, own].entries()) {
        expect(refusals[i]).toBeInstanceOf(InvalidSpecError);
        expect((refusals[i] as Error).message).toContain(arn);
      }
    });
  });
}

/** The cluster each registration names (the routing in workflows/providers.ts reads it; the group is its ARN). */
const CLUSTER = { namespace: 'team-a', clusterName: 'registrations' };

export function runTargetGroupRegistrationsContract(name: string, setup: () => Promise<TargetGroupRegistrationsHarness>): void {
  describe(`TargetGroupRegistrations contract: ${name}`, () => {
    it('registers an instance once however often it is registered', async () => {
      // Prepare
      const h = await setup();
      const group = await h.newTargetGroup();
      const instanceId = await h.newInstance();
      // Act
      await h.registrations.register(group, { ...CLUSTER, instanceId, port: 6443 });
      await h.registrations.register(group, { ...CLUSTER, instanceId, port: 6443 });
      // Assess
      expect(await h.targetsOf(group)).toEqual([{ instanceId, port: 6443 }]);
    });

    it('deregisters an instance, keeping the others; deregistering it again is no error', async () => {
      // Prepare
      const h = await setup();
      const group = await h.newTargetGroup();
      const [gone, kept] = [await h.newInstance(), await h.newInstance()];
      await h.registrations.register(group, { ...CLUSTER, instanceId: gone, port: 6443 });
      await h.registrations.register(group, { ...CLUSTER, instanceId: kept, port: 6443 });
      // Act
      await h.registrations.deregister(group, { ...CLUSTER, instanceId: gone, port: 6443 });
      await h.registrations.deregister(group, { ...CLUSTER, instanceId: gone, port: 6443 });
      // Assess
      expect(await h.targetsOf(group)).toEqual([{ instanceId: kept, port: 6443 }]);
    });

    it('deregisters a terminated instance without error', async () => {
      // Prepare
      const h = await setup();
      const group = await h.newTargetGroup();
      const instanceId = await h.newInstance();
      await h.registrations.register(group, { ...CLUSTER, instanceId, port: 6443 });
      await h.terminate(instanceId);
      // Act & Assess
      await expect(h.registrations.deregister(group, { ...CLUSTER, instanceId, port: 6443 })).resolves.toBeUndefined();
    });

    it('refuses to register into a target group that does not exist with InvalidSpecError', async () => {
      // Prepare
      const h = await setup();
      const instanceId = await h.newInstance();
      // Act
      const error = await rejection(h.registrations.register(await h.missingTargetGroupArn(), { ...CLUSTER, instanceId, port: 6443 }));
      // Assess
      expect(error).toBeInstanceOf(InvalidSpecError);
    });
  });
}
