/**
 * Spot notices drain real pods: EC2's notices delivered as EventBridge delivers them, to the instance-events
 * handler (the machine found by its instance's tags, the notice recorded, the cluster reconciled), on the whole
 * workflow runtime over the simulated cloud, whose nodes are read and drained through the Kubernetes adapter on a
 * real kube-apiserver (drain-harness.ts). A warned worker's node is cordoned and its pods evicted through the
 * Eviction API; a PodDisruptionBudget that never allows a disruption holds its pod only until the drain's cap, 20 s
 * before the termination time; the replacement is Ready and the warned instance terminated by clusterless before
 * EC2 would reclaim it (the simulated cloud reclaims it 120 simulated seconds after the warning). A rebalance
 * recommendation in a pool without spec.spot.rebalance leaves the node alone.
 */
import { randomUUID } from 'node:crypto';
import { expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

import { TagKeys, clusterTagValue } from '../../../functions/adapters/aws/tags.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { DRAIN_MARGIN_SECONDS, SPOT_INTERRUPTION_NOTICE_SECONDS, interruptionNoticeOf } from '../../../functions/core/machine/interruption.js';
import {
  REBALANCE_DETAIL_TYPE,
  SPOT_INTERRUPTION_DETAIL_TYPE,
  handleInstanceEvent,
  type InstanceEventsDeps,
  type InstanceNoticeEvent,
  type InstanceTagReader,
  type NoticeDetailType,
} from '../../../functions/handlers/instance-events.js';
import type { Workflows } from '../../../functions/ports.js';
import { isReady } from '../../support/fleet-watch.js';
import { waitUntil } from '../../support/wait.js';
import { cordoned, disruptionBudget, drainFixture, podsOn, runningPod, type DrainControlPlane } from './drain-harness.js';

const CLUSTER = 'spot';
const INSTALLATION = 'installation-spot-drain';
/** Slow enough that one reconcile pass fits many times in the 20 s kept after the drain. */
const TIME_SCALE = 5;
const fixture = drainFixture();

/** DescribeTags as EC2 answers it for a simulated instance: the tags the EC2 provider puts on a machine's instance. */
function instanceTags(cp: DrainControlPlane): InstanceTagReader {
  return {
    describeTags: async (input = {}) => {
      const id = input.Filters?.find((f) => f.Name === 'resource-id')?.Values?.[0];
      const keys = input.Filters?.find((f) => f.Name === 'key')?.Values ?? [];
      const i = cp.cloud.instances().find((x) => x.instanceId === id);
      if (!i) return { Tags: [] };
      const tags: Record<string, string> = {
        [TagKeys.installation]: INSTALLATION,
        [TagKeys.cluster]: clusterTagValue(i.namespace, i.clusterName),
        [TagKeys.machineName]: i.machineName,
        [TagKeys.machineUid]: i.machineUid,
      };
      return { Tags: keys.filter((k) => tags[k] !== undefined).map((k) => ({ ResourceId: i.instanceId, ResourceType: 'instance', Key: k, Value: tags[k] })) };
    },
  };
}

/** The event EventBridge delivers for a notice EC2 sent at `sent` (its time to the second, as EventBridge's is). */
function noticeEvent(type: NoticeDetailType, instanceId: string, sent: Date): InstanceNoticeEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': type,
    source: 'aws.ec2',
    account: '123456789012',
    time: sent.toISOString().replace(/\.\d+Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`],
    detail: type === SPOT_INTERRUPTION_DETAIL_TYPE ? { 'instance-id': instanceId, 'instance-action': 'terminate' } : { 'instance-id': instanceId },
  };
}

it('a warning: the node cordoned, its pods evicted past a blocking budget until 20 s before termination, the replacement Ready and the instance terminated first; a rebalance recommendation changes nothing on its node', async () => {
  // Prepare: two workers on real nodes; on the first, evictable pods and one a budget never lets go; on the second, one pod.
  const kube = fixture.kube();
  const cp = await fixture.start({ cluster: CLUSTER, timeScale: TIME_SCALE, workers: 2, drainTimeoutSeconds: 0 });
  const { runtime, cloud, written, workers, logs } = cp;
  const [warned, recommended] = await workers();
  const warnedNode = warned!.status!.nodeRef!.name;
  const recommendedNode = recommended!.status!.nodeRef!.name;
  await runningPod(kube, 'batch-0', warnedNode);
  await runningPod(kube, 'batch-1', warnedNode);
  await runningPod(kube, 'stuck-0', warnedNode, { labels: { app: 'stuck' } });
  await disruptionBudget(kube, 'stuck', 1, 1);
  await runningPod(kube, 'calm-0', recommendedNode);
  const notices: string[] = [];
  const deps: InstanceEventsDeps = {
    ec2: instanceTags(cp),
    store: runtime.store,
    workflows: { start: (workflow, name, input) => (notices.push(name), runtime.workflows.start(workflow, name, input)) } satisfies Workflows,
    installationId: INSTALLATION,
  };
  const instanceOf = (uid: string) => cloud.instances().find((i) => i.machineUid === uid && i.state === 'running')!;
  const noticeReconcileEnded = (name: string) =>
    waitUntil(
      'the reconcile started for the notice ended',
      async () => runtime.workflows.list('reconcile-cluster').find((e) => e.name === name && e.status !== 'RUNNING'),
      60_000,
      50,
    );

  // Act 1: a rebalance recommendation for the second worker, in a pool without spec.spot.rebalance.
  const recommendation = await handleInstanceEvent(deps, noticeEvent(REBALANCE_DETAIL_TYPE, instanceOf(recommended!.metadata.uid!).instanceId, cp.clock.now()));

  // Assess 1: recorded; the reconcile it started leaves the node and its pod alone.
  expect(recommendation).toMatchObject({ notice: 'recorded', started: true, cluster: { namespace: 'default', clusterName: CLUSTER } });
  expect(interruptionNoticeOf((await runtime.store.get('Machine', 'default', recommended!.metadata.name))!)?.reason).toBe('RebalanceRecommendation');
  await noticeReconcileEnded(notices.at(-1)!);
  expect(await cordoned(kube, recommendedNode)).toBe(false);
  expect(await podsOn(kube, recommendedNode)).toEqual([{ name: 'calm-0', deleting: false }]);

  // Act 2: the interruption warning for the first worker; the simulated cloud reclaims its instance 120 s later.
  const warnedInstance = instanceOf(warned!.metadata.uid!).instanceId;
  expect(cloud.interrupt(warned!.metadata.name, 'default')).toHaveLength(1);
  const sent = cloud.instances().find((i) => i.instanceId === warnedInstance)!;
  const reclaimAt = Date.parse(sent.terminatedAt!);
  const warning = await handleInstanceEvent(deps, noticeEvent(SPOT_INTERRUPTION_DETAIL_TYPE, warnedInstance, new Date(sent.interruptionNoticeAt!)));
  expect(warning).toMatchObject({ notice: 'recorded', started: true });
  const noticedAt = Date.parse(interruptionNoticeOf((await runtime.store.get('Machine', 'default', warned!.metadata.name))!)!.noticedAt);
  expect(reclaimAt - noticedAt).toBeGreaterThanOrEqual(SPOT_INTERRUPTION_NOTICE_SECONDS * 1000);

  // Assess 2: while the budget blocks the drain, the node is cordoned, the evictable pods are going, the budgeted one stays.
  await waitUntil(
    'the drain blocked by the budget',
    async () =>
      written.some(
        (m) =>
          m.metadata.uid === warned!.metadata.uid &&
          m.status?.conditions?.some((c) => c.type === 'DrainingSucceeded' && c.reason === 'Draining' && /PodDisruptionBudget/.test(c.message ?? '')),
      ),
    60_000,
    50,
  );
  expect(await cordoned(kube, warnedNode)).toBe(true);
  const draining = await podsOn(kube, warnedNode);
  expect(draining.filter((p) => p.name.startsWith('batch-') && !p.deleting)).toEqual([]);
  expect(draining.find((p) => p.name === 'stuck-0')).toEqual({ name: 'stuck-0', deleting: false });

  // Assess 3: the machine goes with its drain given up at the warning's cap, and a replacement is Ready.
  const replacement = await waitUntil(
    'the warned machine gone and a Ready replacement',
    async () => {
      const now = await workers();
      const fresh = now.filter((m) => m.metadata.uid !== warned!.metadata.uid && m.metadata.uid !== recommended!.metadata.uid);
      return !now.some((m) => m.metadata.uid === warned!.metadata.uid) && fresh.length === 1 && isReady(fresh[0]!) ? fresh[0] : undefined;
    },
    120_000,
    50,
  );
  const ofWarned = written.filter((m) => m.metadata.uid === warned!.metadata.uid);
  const drainStart = Date.parse(ofWarned.find((m) => m.status?.deletion?.nodeDrainStartTime)!.status!.deletion!.nodeDrainStartTime!);
  const failed = ofWarned.find((m) => m.status?.conditions?.some((c) => c.type === 'DrainingSucceeded' && c.reason === 'DrainingFailed'))!;
  const given = failed.status!.conditions!.find((c) => c.type === 'DrainingSucceeded')!;
  const terminationTime = new Date(noticedAt + SPOT_INTERRUPTION_NOTICE_SECONDS * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  expect(given.status).toBe('False');
  expect(given.message).toMatch(
    new RegExp(`spot interruption warning left before the instance is reclaimed at ${terminationTime}.*PodDisruptionBudget: default/stuck-0`),
  );
  expect(given.message).not.toMatch(/nodeDrainTimeout/);
  // Given up at the cap (the scaled clock is the control plane's own), not before it and not held past it.
  const cap = noticedAt + (SPOT_INTERRUPTION_NOTICE_SECONDS - DRAIN_MARGIN_SECONDS) * 1000;
  expect(drainStart).toBeGreaterThanOrEqual(noticedAt);
  expect(failed.writtenAt).toBeGreaterThanOrEqual(cap - 1000);
  expect(failed.writtenAt).toBeLessThan(reclaimAt);
  expect(logs.some((l) => l.level === 'warn' && l.message.includes('drain timed out') && l.fields?.['machine'] === warned!.metadata.name)).toBe(true);
  // The budgeted pod was never evicted: it went with the node only.
  expect((await podsOn(kube, warnedNode)).find((p) => p.name === 'stuck-0')).toEqual({ name: 'stuck-0', deleting: false });

  // Assess 4: all before the termination time: the replacement Ready, the warned instance terminated by us.
  const readyAt = written.find((m) => m.metadata.uid === replacement.metadata.uid && isReady(m))!.writtenAt;
  expect(readyAt).toBeLessThan(reclaimAt);
  const old = cloud.instances().find((i) => i.instanceId === warnedInstance)!;
  expect(old.stateReason).toBe('Client.UserInitiatedShutdown');
  expect(Date.parse(old.terminatedAt!)).toBeLessThan(reclaimAt);
  // Started at once, outside maxSurge: launched before the warned instance went; one replacement, the pool at its size.
  const fresh = cloud.instances().find((i) => i.machineUid === replacement.metadata.uid)!;
  expect(Date.parse(fresh.launchTime)).toBeLessThan(Date.parse(old.terminatedAt!));
  const md = await runtime.store.get<MachineDeployment>('MachineDeployment', 'default', `${CLUSTER}-md`);
  expect(await workers()).toHaveLength(md!.spec.replicas);

  // And through all of it, the recommended worker was left alone.
  const stillThere = (await workers()).find((m) => m.metadata.uid === recommended!.metadata.uid);
  expect(stillThere?.metadata.deletionTimestamp).toBeUndefined();
  expect(written.some((m) => m.metadata.uid === recommended!.metadata.uid && m.status?.deletion?.nodeDrainStartTime)).toBe(false);
  expect(await cordoned(kube, recommendedNode)).toBe(false);
  expect(await podsOn(kube, recommendedNode)).toEqual([{ name: 'calm-0', deleting: false }]);
}, 300_000);
