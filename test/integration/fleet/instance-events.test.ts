/**
 * EC2 instance state-change events -> the cluster of the instance, found by its clusterless.dev/cluster tag
 * with DescribeTags on moto's EC2 -> one reconcile-cluster start for that cluster, for instances of this
 * installation only (clusterless.dev/installation, read in the same call).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

import { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import { TagKeys, clusterTagValue } from '../../../functions/adapters/aws/tags.js';
import {
  STATE_CHANGE_DETAIL_TYPE,
  clusterOfInstance,
  createInstanceEventsHandler,
  handleInstanceEvent,
  instanceEventsDepsFromEnvironment,
  parseClusterTag,
  REBALANCE_DETAIL_TYPE,
  SPOT_INTERRUPTION_DETAIL_TYPE,
  type InstanceNoticeEvent,
  type InstanceStateChangeEvent,
} from '../../../functions/handlers/instance-events.js';
import type { Workflows } from '../../../functions/ports.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { interruptionNoticeOf } from '../../../functions/core/machine/interruption.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';

const ec2 = new Ec2QueryClient(emulatorClientConfig(motoEndpoint()));
let ami: string;
const namespace = 'default';
const clusterName = uniqueName('c')
  .toLowerCase()
  .replace(/[^a-z0-9-]/g, '-')
  .slice(0, 50);
const installationId = uniqueName('inst');
const ANOTHER_INSTALLATION = uniqueName('other');

afterAll(() => ec2.destroy());

beforeAll(async () => {
  const images = await ec2.describeImages({});
  ami = images.Images!.find((i) => i.ImageId)!.ImageId!;
});

async function launch(tags: Record<string, string>): Promise<string> {
  const out = await ec2.runInstances({
    ImageId: ami,
    InstanceType: 't3.micro',
    MinCount: 1,
    MaxCount: 1,
    ...(Object.keys(tags).length
      ? { TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] }
      : {}),
  });
  return out.Instances![0]!.InstanceId!;
}

function event(instanceId: string, state: string): InstanceStateChangeEvent {
  return {
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': STATE_CHANGE_DETAIL_TYPE,
    source: 'aws.ec2',
    account: '123456789012',
    time: '2026-11-27T08:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`],
    detail: { 'instance-id': instanceId, state },
  };
}

function recordingWorkflows() {
  const starts: { workflow: string; name: string; input: Record<string, unknown> }[] = [];
  const workflows: Workflows = { start: async (workflow, name, input) => (starts.push({ workflow, name, input }), { started: true }) };
  return { starts, workflows };
}

const ours = (installation = installationId) => ({
  [TagKeys.installation]: installation,
  [TagKeys.cluster]: clusterTagValue(namespace, clusterName),
  [TagKeys.machineUid]: 'uid-1',
  Name: 'm1',
});
/** A cluster of the same name made by another installation in the account, and one tagged by hand without one. */
const anotherInstallations = () => ours(ANOTHER_INSTALLATION);
const withoutInstallation = () => {
  const { [TagKeys.installation]: _, ...tags } = ours();
  return tags;
};

describe('clusterOfInstance', () => {
  it("reads the cluster from the instance's tag", async () => {
    const id = await launch(ours());
    expect(await clusterOfInstance(ec2, id, installationId)).toEqual({ namespace, clusterName });
  });

  it('finds nothing for an instance clusterless did not launch', async () => {
    const id = await launch({ Name: 'someone-else' });
    expect(await clusterOfInstance(ec2, id, installationId)).toBeUndefined();
  });

  it('finds nothing for an instance of another installation, or with a cluster tag and no installation tag', async () => {
    expect(await clusterOfInstance(ec2, await launch(anotherInstallations()), installationId)).toBeUndefined();
    expect(await clusterOfInstance(ec2, await launch(withoutInstallation()), installationId)).toBeUndefined();
  });

  it('still answers for a terminated instance', async () => {
    const id = await launch(ours());
    await ec2.terminateInstances({ InstanceIds: [id] });
    expect(await clusterOfInstance(ec2, id, installationId)).toEqual({ namespace, clusterName });
  });
});

describe('an instance state-change event', () => {
  it.each(['terminated', 'stopped', 'shutting-down', 'running'])("(%s) starts reconcile-cluster for the instance's cluster", async (state) => {
    const id = await launch(ours());
    const { starts, workflows } = recordingWorkflows();
    const result = await handleInstanceEvent({ ec2, workflows, installationId }, event(id, state));
    expect(result).toEqual({ instanceId: id, state, cluster: { namespace, clusterName }, started: true });
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({ workflow: 'reconcile-cluster', input: { namespace, clusterName, trigger: 'instance-event' } });
    expect(starts[0]!.name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('of an instance that is not ours starts nothing', async () => {
    const id = await launch({ Name: 'someone-else' });
    const { starts, workflows } = recordingWorkflows();
    expect((await createInstanceEventsHandler({ ec2, workflows, installationId })(event(id, 'terminated'))).started).toBe(false);
    expect(starts).toEqual([]);
  });

  it.each([
    ['of another installation', anotherInstallations],
    ['tagged with a cluster but no installation', withoutInstallation],
  ])('of an instance %s starts nothing, though its cluster has the name of one of ours', async (_name, tags) => {
    const id = await launch(tags());
    const { starts, workflows } = recordingWorkflows();
    expect(await createInstanceEventsHandler({ ec2, workflows, installationId })(event(id, 'terminated'))).toEqual({
      instanceId: id,
      state: 'terminated',
      started: false,
    });
    expect(starts).toEqual([]);
  });

  it('that is not a state-change notification fails (and goes to the dead-letter queue after the retries)', async () => {
    const { workflows } = recordingWorkflows();
    const wrong = { ...event('i-0123456789abcdef0', 'running'), 'detail-type': 'AWS API Call via CloudTrail' } as unknown as InstanceStateChangeEvent;
    await expect(handleInstanceEvent({ ec2, workflows, installationId }, wrong)).rejects.toThrow(/not an EC2 Instance State-change Notification event/);
  });

  it('fails when the reconcile cannot be started, so that it is retried', async () => {
    const id = await launch(ours());
    const workflows: Workflows = { start: async () => Promise.reject(new Error('ExecutionLimitExceeded')) };
    await expect(handleInstanceEvent({ ec2, workflows, installationId }, event(id, 'terminated'))).rejects.toThrow('ExecutionLimitExceeded');
  });
});

describe('instanceEventsDepsFromEnvironment', () => {
  const reconcile = { RECONCILE_CLUSTER_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:Clusterless-reconcile-cluster' };

  it('is told its installation by INSTALLATION_ID', () => {
    const deps = instanceEventsDepsFromEnvironment({ ...reconcile, TABLE_NAME: 'clusterless', INSTALLATION_ID: installationId });
    expect(deps.installationId).toBe(installationId);
    deps.ec2.destroy();
  });

  it.each([{}, { INSTALLATION_ID: 'not an id' }])('refuses to start without a valid INSTALLATION_ID: %j', (env) => {
    expect(() => instanceEventsDepsFromEnvironment({ ...reconcile, TABLE_NAME: 'clusterless', ...env })).toThrow(/INSTALLATION_ID|installation id/);
  });

  it('refuses to start without TABLE_NAME: spot notices are recorded in the table', () => {
    expect(() => instanceEventsDepsFromEnvironment({ ...reconcile, INSTALLATION_ID: installationId })).toThrow(/TABLE_NAME/);
  });
});

describe('parseClusterTag', () => {
  it.each([
    ['default/prod', { namespace: 'default', clusterName: 'prod' }],
    ['prod', undefined],
    ['/prod', undefined],
    ['default/', undefined],
    ['Default/prod', undefined],
    ['a/b/c', undefined],
    [undefined, undefined],
  ])('%s', (value, expected) => {
    expect(parseClusterTag(value)).toEqual(expected);
  });
});

/** A notice as EventBridge delivers it: the detail names the instance, `time` is when EC2 sent it. */
function notice(instanceId: string, type: typeof SPOT_INTERRUPTION_DETAIL_TYPE | typeof REBALANCE_DETAIL_TYPE, time: Date): InstanceNoticeEvent {
  return {
    version: '0',
    id: '1e5527d7-bb36-4607-3370-4164db56a40e',
    'detail-type': type,
    source: 'aws.ec2',
    account: '123456789012',
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`],
    detail: type === SPOT_INTERRUPTION_DETAIL_TYPE ? { 'instance-id': instanceId, 'instance-action': 'terminate' } : { 'instance-id': instanceId },
  };
}

describe('spot notices on an EC2 cluster (moto), delivered to the handler as EventBridge would', () => {
  const P = `${NS_PATH}/default`;
  const name = 'spot';
  const owner = randomUUID();
  let cp: TestControlPlane;

  beforeAll(async () => {
    cp = await startTestControlPlane({ provider: 'ec2', motoEndpoint: motoEndpoint(), timeScale: 40, installationId: owner });
    for (const m of clusterManifests({ name, workers: 2, controlPlaneReplicas: 1, network: cp.ec2!.network })) {
      const r = await cp.api('POST', `${P}/${m.plural}`, m.object);
      expect(r.status, r.body).toBe(201);
    }
    await cp.waitFor('two Running workers', async () => (await workers()).filter((m) => m.status?.phase === 'Running').length === 2 || undefined, 110_000);
  });
  afterAll(() => cp?.stop());

  const workers = async () =>
    (await cp.list<Machine>('Machine', 'default')).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === `${name}-md`);
  const deps = () => ({ ec2: cp.ec2!.client, workflows: cp.runtime.workflows, store: cp.runtime.store, installationId: owner });

  it('a rebalance recommendation in a pool that ignores them is recorded on the Machine and changes nothing else', async () => {
    const before = (await workers()).map((m) => m.metadata.name).sort();
    const target = (await workers())[0];
    const instanceId = target!.status!.infrastructure!.instanceId!;
    const { starts, workflows } = recordingWorkflows();
    const result = await handleInstanceEvent({ ...deps(), workflows }, notice(instanceId, REBALANCE_DETAIL_TYPE, cp.clock.now()));
    expect(result).toMatchObject({ instanceId, started: true, notice: 'recorded', cluster: { namespace: 'default', clusterName: name } });
    expect(starts).toMatchObject([{ workflow: 'reconcile-cluster', input: { namespace: 'default', clusterName: name, trigger: 'instance-event' } }]);
    const stored = await cp.store.get<Machine>('Machine', 'default', target!.metadata.name);
    expect(interruptionNoticeOf(stored!)?.reason).toBe('RebalanceRecommendation');
    // The reconcile it started has run: still the same two machines, none deleting.
    await cp.runtime.sweep();
    const after = await workers();
    expect(after.map((m) => m.metadata.name).sort()).toEqual(before);
    expect(after.every((m) => !m.metadata.deletionTimestamp)).toBe(true);
  });

  it('an interruption warning is recorded once (a duplicate changes nothing), and the machine is replaced by a new instance', async () => {
    const before = await workers();
    const target = before[0]!;
    const instanceId = target.status!.infrastructure!.instanceId!;
    const sent = cp.clock.now();
    const first = await handleInstanceEvent(deps(), notice(instanceId, SPOT_INTERRUPTION_DETAIL_TYPE, sent));
    expect(first).toMatchObject({ started: true, notice: 'recorded' });
    const noticed = await cp.store.get<Machine>('Machine', 'default', target.metadata.name);
    expect(interruptionNoticeOf(noticed!)).toMatchObject({ reason: 'SpotInterruptionWarning' });
    const duplicate = await handleInstanceEvent(deps(), notice(instanceId, SPOT_INTERRUPTION_DETAIL_TYPE, sent));
    expect(duplicate.notice).toBe('unchanged');

    // The replacement: a new Machine of the pool Running on its own EC2 instance; the warned one gone.
    const replacement = await cp.waitFor(
      'a Running replacement and the warned machine gone',
      async () => {
        const now = await workers();
        const fresh = now.filter((m) => !before.some((b) => b.metadata.name === m.metadata.name));
        return !now.some((m) => m.metadata.name === target.metadata.name) && fresh.length === 1 && fresh[0]!.status?.phase === 'Running' ? fresh[0] : undefined;
      },
      110_000,
    );
    expect(replacement.spec.providerID).toMatch(/^aws:\/\/\//);
    expect(replacement.status!.infrastructure!.instanceId).not.toBe(instanceId);
    const md = await cp.store.get<MachineDeployment>('MachineDeployment', 'default', `${name}-md`);
    expect(md!.spec.replicas).toBe(2);
    expect(await workers()).toHaveLength(2);
  });

  it('a notice of one of our instances whose Machine is gone (or made again under its name) records nothing and starts nothing', async () => {
    const id = await launch({
      ...ours(owner),
      [TagKeys.cluster]: clusterTagValue('default', name),
      [TagKeys.machineName]: 'gone',
      [TagKeys.machineUid]: 'uid-gone',
    });
    const { starts, workflows } = recordingWorkflows();
    const result = await handleInstanceEvent({ ...deps(), workflows }, notice(id, SPOT_INTERRUPTION_DETAIL_TYPE, cp.clock.now()));
    expect(result).toMatchObject({ started: false, notice: 'no-machine' });
    expect(starts).toEqual([]);
  });

  it('a notice of an instance of another installation records nothing and starts nothing', async () => {
    const id = await launch(anotherInstallations());
    const { starts, workflows } = recordingWorkflows();
    const result = await handleInstanceEvent({ ...deps(), workflows }, notice(id, SPOT_INTERRUPTION_DETAIL_TYPE, cp.clock.now()));
    expect(result).toEqual({ instanceId: id, state: SPOT_INTERRUPTION_DETAIL_TYPE, started: false });
    expect(starts).toEqual([]);
  });
});
