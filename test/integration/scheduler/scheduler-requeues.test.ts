/** ReconcileRequeues on EventBridge Scheduler (moto_server): one schedule per cluster, the earliest ask wins. */
import {
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type SchedulerClient,
  type GetScheduleCommandOutput,
} from '@aws-sdk/client-scheduler';
import { beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { SchedulerRequeues, atExpression, createSchedulerClient, requeueScheduleName, SCHEDULE_NAME_MAX } from '../../../functions/adapters/scheduler/index.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const clock = { now: () => NOW };
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:clusterless-reconcile-cluster';
const ROLE = 'arn:aws:iam::123456789012:role/clusterless-requeue-scheduler';

let client: SchedulerClient;
let groupName: string;

beforeAll(async () => {
  client = createSchedulerClient(emulatorClientConfig(motoEndpoint()));
  groupName = uniqueName('requeues');
  await client.send(new CreateScheduleGroupCommand({ Name: groupName }));
});

function requeues(options: { installationId?: string; client?: SchedulerClient } = {}) {
  const installationId = options.installationId ?? uniqueName('inst');
  return {
    installationId,
    requeues: new SchedulerRequeues({
      client: options.client ?? client,
      installationId,
      groupName,
      stateMachineArn: STATE_MACHINE,
      roleArn: ROLE,
      clock,
      sweepIntervalSeconds: 60,
    }),
  };
}

const scheduleOf = (installationId: string, cluster = 'c1'): Promise<GetScheduleCommandOutput> =>
  client.send(new GetScheduleCommand({ Name: requeueScheduleName(installationId, 'default', cluster), GroupName: groupName }));
const inSeconds = (s: number) => atExpression(new Date(NOW.getTime() + s * 1000));

describe('requeueScheduleName', () => {
  it("is one name per installation, namespace and cluster, within Scheduler's limit", () => {
    const names = [
      requeueScheduleName('i1', 'default', 'c1'),
      requeueScheduleName('i2', 'default', 'c1'),
      requeueScheduleName('i1', 'team', 'c1'),
      requeueScheduleName('i1', 'default', 'c2'),
    ];
    expect(new Set(names).size).toBe(4);
    expect(requeueScheduleName('i1', 'default', 'c1')).toBe(names[0]);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(SCHEDULE_NAME_MAX);
    expect(requeueScheduleName('x'.repeat(64), 'n'.repeat(63), 'c'.repeat(63)).length).toBeLessThanOrEqual(SCHEDULE_NAME_MAX);
  });
});

describe('SchedulerRequeues (moto)', () => {
  it('makes a one-time schedule that starts reconcile-cluster for the cluster and deletes itself', async () => {
    // Prepare
    const { requeues: r, installationId } = requeues();
    // Act
    await r.requeue('default', 'c1', 300);
    // Assess
    const s = await scheduleOf(installationId);
    expect(s.ScheduleExpression).toBe('at(2026-03-01T12:05:00)');
    expect(s.ScheduleExpressionTimezone).toBe('UTC');
    expect(s.ActionAfterCompletion).toBe('DELETE');
    expect(s.FlexibleTimeWindow?.Mode).toBe('OFF');
    expect(s.Target?.Arn).toBe(STATE_MACHINE);
    expect(s.Target?.RoleArn).toBe(ROLE);
    expect(JSON.parse(s.Target?.Input ?? '{}')).toEqual({ namespace: 'default', clusterName: 'c1', trigger: 'requeue' });
  });

  it('leaves a requeue due before the next sweep to the sweep', async () => {
    const { requeues: r, installationId } = requeues();
    await r.requeue('default', 'c1', 59);
    await expect(scheduleOf(installationId)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('moves an existing later schedule to the earlier time asked', async () => {
    const { requeues: r, installationId } = requeues();
    await r.requeue('default', 'c1', 600);
    await r.requeue('default', 'c1', 120);
    expect((await scheduleOf(installationId)).ScheduleExpression).toBe(inSeconds(120));
  });

  it('keeps an existing earlier schedule', async () => {
    const { requeues: r, installationId } = requeues();
    await r.requeue('default', 'c1', 120);
    await r.requeue('default', 'c1', 600);
    expect((await scheduleOf(installationId)).ScheduleExpression).toBe(inSeconds(120));
  });

  it('replaces a schedule whose time has passed, even by a later one', async () => {
    // Prepare: a schedule made an hour ago for 30 minutes ago (it ran, or was lost, and is not deleted yet).
    const installationId = uniqueName('inst');
    const earlier = new SchedulerRequeues({
      client,
      installationId,
      groupName,
      stateMachineArn: STATE_MACHINE,
      roleArn: ROLE,
      clock: { now: () => new Date(NOW.getTime() - 3_600_000) },
    });
    await earlier.requeue('default', 'c1', 1800);
    const { requeues: r } = requeues({ installationId });
    // Act
    await r.requeue('default', 'c1', 600);
    // Assess
    expect((await scheduleOf(installationId)).ScheduleExpression).toBe(inSeconds(600));
  });

  it('leaves the earlier of two requeues asked at once, in either order', async () => {
    for (const asks of [
      [120, 900],
      [900, 120],
    ]) {
      const { requeues: r, installationId } = requeues();
      await Promise.all(asks.map((s) => r.requeue('default', 'c1', s)));
      expect((await scheduleOf(installationId)).ScheduleExpression, `asked ${asks.join(', ')}`).toBe(inSeconds(120));
    }
  });

  it('keeps the schedules of clusters and installations apart', async () => {
    const a = requeues();
    const b = requeues();
    await a.requeues.requeue('default', 'c1', 120);
    await a.requeues.requeue('default', 'c2', 900);
    await b.requeues.requeue('default', 'c1', 600);
    expect((await scheduleOf(a.installationId, 'c1')).ScheduleExpression).toBe(inSeconds(120));
    expect((await scheduleOf(a.installationId, 'c2')).ScheduleExpression).toBe(inSeconds(900));
    expect((await scheduleOf(b.installationId, 'c1')).ScheduleExpression).toBe(inSeconds(600));
  });

  it('creates the schedule again when the one it collided with ran and deleted itself before it was read', async () => {
    // Prepare: a schedule exists; it is deleted (it ran) between the create that collides with it and the read.
    const installationId = uniqueName('inst');
    await requeues({ installationId }).requeues.requeue('default', 'c1', 900);
    const name = requeueScheduleName(installationId, 'default', 'c1');
    let deleted = false;
    const racing = {
      send: async (command: Parameters<SchedulerClient['send']>[0]) => {
        if (command instanceof GetScheduleCommand && !deleted) {
          deleted = true;
          await client.send(new DeleteScheduleCommand({ Name: name, GroupName: groupName }));
        }
        return client.send(command as never);
      },
    } as unknown as SchedulerClient;
    // Act
    await requeues({ installationId, client: racing }).requeues.requeue('default', 'c1', 300);
    // Assess
    expect(deleted).toBe(true);
    expect((await scheduleOf(installationId)).ScheduleExpression).toBe(inSeconds(300));
  });
});
