/**
 * Mixed capacity (MachineDeployment spec.capacity) through the whole path: a deployment scaled up and down by its
 * spec.replicas, through the workflows of the embedded host, on the simulated cloud and on EC2 (moto). After every
 * step, once the deployment has settled: its machines split between on-demand and spot as documented
 * (api/capacity.ts), the cloud runs one instance for each Machine and none for a deleted one, and on EC2 each
 * instance's market tag (what describe reads back) is the Machine's market. In one step EC2 has no spot capacity for
 * the new machines' first launch: those granted the on-demand fallback (onDemandFallback.maxMachines) launch
 * on-demand, the others launch on spot at their retry, and the next scale-down removes the fallen-back machines first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapacityAnnotations, CapacityLabels } from '../../../functions/api/capacity.js';
import type { Machine } from '../../../functions/api/machine.js';
import { CAPACITY_TYPE_TAG } from '../../../functions/adapters/ec2/ec2-machine-provider.js';
import { TagKeys } from '../../../functions/adapters/aws/tags.js';
import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import { clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { Ec2Faults, motoEc2Client } from '../../support/ec2.js';
import { isDeleting, isReady, ofDeployment } from '../../support/fleet-watch.js';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { uniqueName } from '../../support/aws.js';

const BASE = 2;
const SPOT_PERCENT = 70;
const MAX_FALLBACK = 2;
const CAPACITY = { onDemandBase: BASE, spotPercentageAboveBase: SPOT_PERCENT, onDemandFallback: { maxMachines: MAX_FALLBACK } };

/**
 * The split of `replicas` as api/capacity.ts documents it, written as the Auto Scaling group states it: the base
 * on-demand, then of the machines above it the on-demand share rounded up (a fraction of a machine goes to
 * on-demand), the rest spot.
 */
function documentedSplit(replicas: number): { onDemand: number; spot: number } {
  const above = Math.max(0, replicas - BASE);
  const onDemandAbove = Math.ceil((above * (100 - SPOT_PERCENT)) / 100);
  return { onDemand: replicas - above + onDemandAbove, spot: above - onDemandAbove };
}

interface ScaleStep {
  replicas: number;
  /**
   * The cloud refuses each new machine's first spot request for every offering (type and zone): its first launch
   * finds no spot capacity, its next one does. EC2 only: the sim launches every market alike.
   */
  spotRefused?: boolean;
  /** Machines the planner put on spot that run on-demand after this step (their fallback). */
  fellBack?: number;
}

/**
 * 7 -> 12 adds four spot machines (and one on-demand) while spot is refused: the two granted the fallback
 * (onDemandFallback.maxMachines) launch on-demand, the other two fail their first launch and launch on spot at its
 * retry. The fallen-back machines are not moved back to spot; 12 -> 10 removes two on-demand machines, the
 * fallen-back ones first, which puts the deployment back on its split.
 */
const STEPS: ScaleStep[] = [
  { replicas: 10 },
  { replicas: 3 },
  { replicas: 7 },
  { replicas: 12, spotRefused: true, fellBack: MAX_FALLBACK },
  { replicas: 10 },
  { replicas: 4 },
  { replicas: 0 },
  { replicas: 5 },
];

/** An instance the cloud has not terminated, with the market it records (EC2's tag; the sim records none). */
interface LiveInstance {
  machineUid: string;
  capacityType?: string;
}

interface CloudUnderTest {
  start(): Promise<TestControlPlane>;
  /** The zone every worker is pinned to. */
  zone(cp: TestControlPlane): string;
  liveInstances(cp: TestControlPlane): Promise<LiveInstance[]>;
  /**
   * From now until the returned function is called, refuses each machine's first spot request for each offering;
   * that function says which machines (uids) were refused. Undefined where the cloud cannot.
   */
  refuseSpot?: () => () => string[];
  close?(): void;
}

const CLUSTER = 'mixed';
const NS = 'default';

/**
 * The cluster, its workers in one zone and deleted oldest first: a scale-down's order is then the delete policy's
 * alone (no spreading over zones), and without the preference for fallen-back machines 12 -> 10 would remove the
 * two oldest on-demand machines, never the fallen-back ones, which are among the newest.
 */
function mixedCluster(cp: TestControlPlane, cloud: CloudUnderTest) {
  const manifests = clusterManifests({
    name: CLUSTER,
    workers: 0,
    controlPlaneReplicas: 1,
    capacity: CAPACITY,
    ...(cp.ec2 ? { network: cp.ec2.network } : {}),
  });
  const md = manifests.find((m) => m.plural === 'machinedeployments')!.object as { spec: Record<string, any> };
  md.spec['deletePolicy'] = 'Oldest';
  md.spec['template'].spec.failureDomain = cloud.zone(cp);
  return manifests.map((m) => m.object);
}

const sim: CloudUnderTest = {
  start: () => startTestControlPlane({ timeScale: 60 }),
  zone: () => 'zone-a',
  async liveInstances(cp) {
    return cp
      .cloud!.instances()
      .filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down')
      .map((i) => ({ machineUid: i.machineUid }));
  },
};

function ec2Cloud(): CloudUnderTest {
  const installationId = uniqueName('mixed');
  let client: Ec2QueryClient | undefined;
  /** The offerings (type@subnet) each machine's spot requests were refused for, while refusing. */
  let refused: Map<string, Set<string>> | undefined;
  const machineUidOf = (input: Record<string, any>): string =>
    input['TagSpecifications']?.[0]?.Tags?.find((t: { Key: string }) => t.Key === TagKeys.machineUid)?.Value;
  // As ec2-capacity.test.ts makes spot refuse: InsufficientInstanceCapacity for a spot request. Once per machine and
  // offering, so that a granted machine falls back within its first launch and any other launches on spot at its
  // retry, whatever the timing (the local engine retries a launch four times, 30 s apart at scale).
  const refuseOncePerOffering = (input: Record<string, any>): boolean => {
    if (refused === undefined || input['InstanceMarketOptions'] === undefined) return false;
    const uid = machineUidOf(input);
    const offerings = refused.get(uid) ?? new Set<string>();
    refused.set(uid, offerings);
    const offering = `${input['InstanceType']}@${input['SubnetId']}`;
    if (offerings.has(offering)) return false;
    offerings.add(offering);
    return true;
  };
  return {
    start() {
      client = motoEc2Client(motoEndpoint());
      new Ec2Faults(client).failWith('RunInstancesCommand', 'InsufficientInstanceCapacity', {
        times: Number.POSITIVE_INFINITY,
        when: refuseOncePerOffering,
      });
      return startTestControlPlane({ provider: 'ec2', motoEndpoint: motoEndpoint(), ec2Client: client, timeScale: 60, installationId });
    },
    zone: (cp) => cp.ec2!.network.subnets[0]!.availabilityZone,
    async liveInstances(cp) {
      const out = await cp.ec2!.client.describeInstances({
        Filters: [
          { Name: `tag:${TagKeys.installation}`, Values: [installationId] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      });
      return (out.Reservations ?? [])
        .flatMap((r) => r.Instances ?? [])
        .map((i) => {
          const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!]));
          return { machineUid: tags[TagKeys.machineUid]!, capacityType: tags[CAPACITY_TYPE_TAG] };
        });
    },
    close: () => client?.destroy(),
    refuseSpot() {
      const machines = new Map<string, Set<string>>();
      refused = machines;
      return () => {
        refused = undefined;
        return [...machines.keys()];
      };
    },
  };
}

/** The market a Machine runs in: the one its launch used, else the planner's label. */
const plannedMarketOf = (m: Machine) => m.metadata.labels?.[CapacityLabels.capacityType];
const marketOf = (m: Machine) => m.status?.infrastructure?.capacityType ?? plannedMarketOf(m);
const fellBack = (m: Machine) => plannedMarketOf(m) === 'spot' && marketOf(m) === 'on-demand';

describe.each([
  { name: 'the simulated cloud', cloud: () => sim },
  { name: 'EC2 on moto', cloud: ec2Cloud },
])('mixed capacity on $name', ({ cloud: make }) => {
  const cloud = make();
  let cp: TestControlPlane;
  const workers = async () => (await cp.list<Machine>('Machine', NS)).filter(ofDeployment(`${CLUSTER}-md`));

  beforeAll(async () => {
    cp = await cloud.start();
    await cp.apply(mixedCluster(cp, cloud));
  });
  afterAll(async () => {
    await cp?.stop();
    cloud.close?.();
  });

  /** The deployment at `replicas` Ready machines with none being deleted. */
  const settled = (replicas: number) =>
    cp.waitFor(
      `${replicas} Ready workers and none deleting`,
      async () => {
        const w = await workers();
        return w.length === replicas && w.every((m) => isReady(m) && !isDeleting(m)) && w;
      },
      120_000,
    );

  it(`after each step of ${STEPS.map((s) => s.replicas).join(', ')} machines the markets split as documented and the cloud runs what the Machines say`, async () => {
    const steps: ScaleStep[] = cloud.refuseSpot ? STEPS : STEPS.map(({ replicas }) => ({ replicas }));
    const fallenBackAt: string[][] = [];
    let refusedSpot: string[] = [];
    let grew: Machine[] = [];
    for (const step of steps) {
      const before = new Set((await workers()).map((m) => m.metadata.uid));
      // Act
      const allow = step.spotRefused ? cloud.refuseSpot!() : undefined;
      await cp.service.mergePatch({ kind: 'MachineDeployment', namespace: NS, name: `${CLUSTER}-md` }, { spec: { replicas: step.replicas } });
      const machines = await settled(step.replicas);
      if (allow) refusedSpot = allow();

      // Assess: the split, with the fallen-back machines counted on-demand.
      const split = documentedSplit(step.replicas);
      const fallen = step.fellBack ?? 0;
      const count = (market: string) => machines.filter((m) => marketOf(m) === market).length;
      expect({ replicas: step.replicas, onDemand: count('on-demand'), spot: count('spot'), fellBack: machines.filter(fellBack).length }).toEqual({
        replicas: step.replicas,
        onDemand: split.onDemand + fallen,
        spot: split.spot - fallen,
        fellBack: fallen,
      });
      // A machine ran on-demand in place of spot only with the planner's grant.
      expect(machines.filter(fellBack).every((m) => m.metadata.annotations?.[CapacityAnnotations.onDemandFallback] === 'true')).toBe(true);
      fallenBackAt.push(machines.filter(fellBack).map((m) => m.metadata.name));
      if (step.spotRefused) grew = machines.filter((m) => !before.has(m.metadata.uid));

      // The cloud: one live instance per Machine of the cluster (control plane included), none for a deleted one,
      // and on EC2 the market each instance is tagged with is its Machine's.
      const all = (await cp.list<Machine>('Machine', NS)).filter((m) => !isDeleting(m));
      const live = await cloud.liveInstances(cp);
      expect(live.map((i) => i.machineUid).sort()).toEqual(all.map((m) => m.metadata.uid).sort());
      if (cloud.refuseSpot) {
        const byUid = new Map(live.map((i) => [i.machineUid, i.capacityType]));
        expect(machines.map((m) => byUid.get(m.metadata.uid!))).toEqual(machines.map(marketOf));
      }
    }
    // The scale-down after the fallback (12 -> 10) removed exactly the fallen-back machines.
    const refused = steps.findIndex((s) => s.spotRefused);
    if (cloud.refuseSpot) {
      // Every new spot machine was refused spot; those beyond the grant waited and run on spot.
      const plannedSpot = grew.filter((m) => plannedMarketOf(m) === 'spot');
      expect(plannedSpot.length).toBeGreaterThan(MAX_FALLBACK);
      expect(refusedSpot.sort()).toEqual(plannedSpot.map((m) => m.metadata.uid).sort());
      expect(plannedSpot.filter((m) => marketOf(m) === 'spot')).toHaveLength(plannedSpot.length - MAX_FALLBACK);
      expect(fallenBackAt[refused]).toHaveLength(MAX_FALLBACK);
      expect(fallenBackAt[refused + 1]).toEqual([]);
    }
  });
});
