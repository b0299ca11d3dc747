/**
 * Machines bootstrapped on emulators, through the whole workflow runtime: EC2, Secrets Manager and ELBv2 on
 * moto_server, join tokens in a real kube-apiserver, nodes simulated from the instances (no kubelet can run
 * on moto). Each machine gets its bootstrap secret before its launch, which is deleted once its node joined or
 * when the machine goes; the user data holds no key or token; control-plane instances are registered in the
 * cluster's target group while they run and deregistered before they are terminated; and no secret reaches the
 * store, the status, the CRD form of the objects or the logs. A cluster that names no target group gets a load
 * balancer clusterless makes: its endpoint is recorded in the Cluster, control-plane instances are
 * its targets, and the cluster's deletion deletes it.
 */
import { DescribeInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Elbv2ManagedLoadBalancers, loadBalancerName } from '../../../functions/adapters/elbv2/index.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { targetObject } from '../../../functions/adapters/kubernetes/index.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { ClusterCertificates } from '../../../functions/bootstrap/pki.js';
import { NS_PATH } from '../../support/control-plane.js';
import { motoSdkEc2Client } from '../../support/ec2.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import { PEM, TOKEN } from '../../unit/bootstrap/tools.js';
import { applyManifests, bootstrapClusterManifests, startBootstrapWorld, type BootstrapWorld } from './harness.js';

const VERSION = 'v1.34.1';
const NAME = 'boot';
let kube: RunningKube;
let world: BootstrapWorld;
let certs: ClusterCertificates;
/** The SDK's client on moto, for what the adapters' EC2 client does not read (an instance's user data). */
const motoSdk = motoSdkEc2Client(motoEndpoint());

const machines = async () => (await world.store.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === NAME);
const machineSecret = (uid: string) => `clusterless/${world.installationId}/default/${NAME}/machines/${uid}`;
const isControlPlane = (m: Machine) => Object.hasOwn(m.metadata.labels ?? {}, 'clusterless.dev/control-plane');
const targets = async () =>
  ((await world.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: world.targetGroupArn }))).TargetHealthDescriptions ?? [])
    .map((t) => t.Target!.Id!)
    .sort();
async function liveInstances(): Promise<{ id: string; uid: string }[]> {
  const out = await world.ec2.describeInstances({
    Filters: [
      { Name: 'tag:clusterless.dev/cluster', Values: [`default/${NAME}`] },
      { Name: 'instance-state-name', Values: ['pending', 'running'] },
    ],
  });
  return (out.Reservations ?? [])
    .flatMap((r) => r.Instances ?? [])
    .map((i) => ({ id: i.InstanceId!, uid: i.Tags!.find((t) => t.Key === 'clusterless.dev/machine-uid')!.Value! }));
}
const joinTokens = async () =>
  (
    JSON.parse(await kube.kubectlOk(['get', 'secrets', '-n', 'kube-system', '-l', 'clusterless.dev/token-purpose=join', '-o', 'json'])) as {
      items: { metadata: { labels: Record<string, string> } }[];
    }
  ).items.map((s) => s.metadata.labels['clusterless.dev/machine-uid']);

/** Everything that must never hold a secret: the objects, their CRD form, the logs. */
function assertNoSecrets(texts: string[]): void {
  const secretsOf = [certs.ca.key, certs.frontProxyCa.key, certs.etcdCa.key, certs.serviceAccount.key].map((k) => k.split('\n')[1]!);
  for (const text of texts) {
    expect(text).not.toMatch(PEM);
    expect(text).not.toMatch(TOKEN);
    expect(text).not.toContain(certs.certificateKey);
    for (const line of secretsOf) expect(text).not.toContain(line);
  }
}

beforeAll(async () => {
  kube = await startKube();
  world = await startBootstrapWorld({
    motoEndpoint: motoEndpoint(),
    workloadKubeconfig: kube.adminKubeconfigYaml,
    targetGroupCluster: `default/${NAME}`,
  });
}, 120_000);

afterAll(async () => {
  motoSdk.destroy();
  await world?.stop();
  await kube?.stop();
});

describe('a cluster bootstrapped with kubeadm on EC2 (moto)', () => {
  it('converges: every machine got its secret before launch, and each secret went once its node joined', async () => {
    // Act
    await applyManifests(
      world,
      bootstrapClusterManifests({
        name: NAME,
        network: world.network,
        targetGroupArn: world.targetGroupArn,
        controlPlaneReplicas: 3,
        workers: 2,
        version: VERSION,
      }),
    );
    await world.waitFor(
      '3 control-plane machines and 2 workers with nodes',
      async () => {
        const md = await world.store.get<MachineDeployment>('MachineDeployment', 'default', `${NAME}-md`);
        const all = await machines();
        return md?.status?.availableReplicas === 2 && all.length === 5 && all.every((m) => m.status?.nodeRef && m.status.phase === 'Running');
      },
      120_000,
    );
    // Assess
    const all = await machines();
    for (const m of all) expect(world.secrets.written, m.metadata.name).toContain(machineSecret(m.metadata.uid!));
    for (const m of all) expect(await world.secrets.get(machineSecret(m.metadata.uid!)), m.metadata.name).toBeUndefined();
    certs = (await world.bootstrap.certificates('default', NAME))!;
    expect(certs).toBeDefined();
    // The join tokens of machines that joined are gone from the workload cluster.
    await world.waitFor('no join token left', async () => (await joinTokens()).length === 0);
  }, 150_000);

  it('gave every instance user data that only names its secret: no key, certificate or token', async () => {
    const byUid = new Map((await machines()).map((m) => [m.metadata.uid!, m]));
    const instances = await liveInstances();
    expect(instances).toHaveLength(5);
    for (const i of instances) {
      const attr = await motoSdk.send(new DescribeInstanceAttributeCommand({ InstanceId: i.id, Attribute: 'userData' }));
      const userData = Buffer.from(attr.UserData?.Value ?? '', 'base64').toString('utf8');
      expect(userData).toContain('Content-Type: text/cloud-boothook');
      expect(userData).toContain(`SECRET_ID="${machineSecret(i.uid)}"`);
      expect(byUid.has(i.uid)).toBe(true);
      assertNoSecrets([userData]);
    }
  });

  it('registered the control-plane instances, and only them, in the target group', async () => {
    const cp = (await machines())
      .filter(isControlPlane)
      .map((m) => m.status!.infrastructure!.instanceId!)
      .sort();
    expect(cp).toHaveLength(3);
    expect(await targets()).toEqual(cp);
  });

  it('serves an admin kubeconfig for the cluster, signed by its CA', async () => {
    const r = await world.api('GET', `${NS_PATH}/default/clusters/${NAME}/kubeconfig`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('yaml');
    expect(r.body).toContain(`server: https://${NAME}-cp.example.internal:6443`);
  });

  it('deletes the secret of a machine that goes before its node ever joined', async () => {
    // Prepare: a third worker whose node never registers
    const before = new Set((await liveInstances()).map((i) => i.id));
    const scale = async (replicas: number) =>
      expect((await world.api('PATCH', `${NS_PATH}/default/machinedeployments/${NAME}-md`, { spec: { replicas } })).status).toBe(200);
    // Only the instances there now have nodes that join (decided when nodes are read, so no new instance can
    // join before the test marks it, as a poll for new instances allowed).
    world.joins.allowed = (instanceId) => before.has(instanceId);
    try {
      await scale(3);
      const stuck = await world.waitFor('a third worker launched with its secret', async () => {
        const m = (await machines()).find((x) => !isControlPlane(x) && !x.status?.nodeRef && x.status?.infrastructure?.instanceId);
        return m && (await world.secrets.get(machineSecret(m.metadata.uid!))) ? m : undefined;
      });
      expect(before.has(stuck.status!.infrastructure!.instanceId!)).toBe(false);
      // While it keeps trying to join, its token is renewed before half its TTL is left (15 min, 22 s here).
      const token = async () =>
        JSON.parse(await kube.kubectlOk(['get', 'secrets', '-n', 'kube-system', '-l', `clusterless.dev/machine-uid=${stuck.metadata.uid}`, '-o', 'json']))
          .items[0];
      const first = Buffer.from((await token()).data.expiration, 'base64').toString();
      await world.waitFor('its join token renewed', async () => Buffer.from((await token()).data.expiration, 'base64').toString() > first, 60_000);
      // Act: the user takes it away
      await world.api('PATCH', `${NS_PATH}/default/machines/${stuck.metadata.name}`, {
        metadata: { annotations: { 'clusterless.dev/delete-machine': 'yes' } },
      });
      await scale(2);
      // Assess
      await world.waitFor('the machine gone', async () => !(await machines()).some((m) => m.metadata.uid === stuck.metadata.uid));
      expect(await world.secrets.get(machineSecret(stuck.metadata.uid!))).toBeUndefined();
      expect(world.secrets.deleted).toContain(machineSecret(stuck.metadata.uid!));
    } finally {
      world.joins.allowed = () => true;
    }
  }, 150_000);

  it('keeps every secret out of the store, the status, the CRD form of the objects and the logs', async () => {
    const objects = await world.store.listCluster('default', NAME);
    expect(objects.length).toBeGreaterThan(5);
    assertNoSecrets([
      ...objects.map((o) => JSON.stringify(o)),
      ...objects.map((o) => JSON.stringify(targetObject(o))),
      ...world.logs.map((l) => JSON.stringify(l)),
    ]);
  });

  it('deregisters control-plane targets before their instances go, and deletes every secret of the cluster with it', async () => {
    // Act
    expect((await world.api('DELETE', `${NS_PATH}/default/clusters/${NAME}`)).status).toBe(200);
    await world.waitFor('the cluster gone', async () => !(await world.store.get('Cluster', 'default', NAME)), 120_000);
    // Assess
    expect(await targets()).toEqual([]);
    const cpInstances = world.events.filter((e) => e.startsWith('register ')).map((e) => e.slice('register '.length));
    expect(cpInstances).toHaveLength(3);
    for (const id of cpInstances) {
      const deregistered = world.events.indexOf(`deregister ${id}`);
      expect(deregistered, id).toBeGreaterThanOrEqual(0);
      expect(deregistered, id).toBeLessThan(world.events.indexOf(`terminate ${id}`));
    }
    expect(await liveInstances()).toEqual([]);
    expect(await world.bootstrap.certificates('default', NAME)).toBeUndefined();
    expect(world.secrets.deleted).toContain(`clusterless/${world.installationId}/default/${NAME}/certificates`);
    for (const name of new Set(world.secrets.written)) expect(await world.secrets.get(name), name).toBeUndefined();
    assertNoSecrets(world.logs.map((l) => JSON.stringify(l)));
  }, 150_000);
});

describe('a cluster that names no target group (moto)', () => {
  const LB_CLUSTER = 'managed-lb';

  it('makes the control plane a load balancer, records its endpoint, registers control-plane instances, and deletes it with the cluster', async () => {
    // Arrange
    const lbs = new Elbv2ManagedLoadBalancers({ elb: world.elb, ec2: world.ec2, installationId: world.installationId });
    const machines = async () => (await world.store.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === LB_CLUSTER);
    // Act
    await applyManifests(
      world,
      bootstrapClusterManifests({ name: LB_CLUSTER, network: world.network, controlPlaneReplicas: 1, workers: 1, version: 'v1.34.1' }),
    );
    await world.waitFor(
      'both machines running',
      async () => {
        const all = await machines();
        return all.length === 2 && all.every((m) => m.status?.phase === 'Running');
      },
      120_000,
    );
    // Assess: the endpoint is the load balancer's, and the control-plane instance is its target.
    const lb = (await lbs.describe('default', LB_CLUSTER))!;
    expect(lb).toMatchObject({ name: loadBalancerName('default', LB_CLUSTER, world.installationId), dnsName: expect.any(String) });
    const cluster = (await world.store.get<Cluster>('Cluster', 'default', LB_CLUSTER))!;
    expect(cluster.spec.controlPlaneEndpoint).toEqual({ host: lb.dnsName, port: 6443 });
    expect(cluster.status?.infrastructureReady).toBe(true);
    const controlPlane = (await machines()).find((m) => Object.hasOwn(m.metadata.labels ?? {}, 'clusterless.dev/control-plane'))!;
    const targets = (
      (await world.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: (await lbs.targetGroupArn('default', LB_CLUSTER))! })))
        .TargetHealthDescriptions ?? []
    ).map((t) => t.Target!.Id);
    expect(targets).toEqual([controlPlane.status!.infrastructure!.instanceId]);

    // Act: delete the cluster.
    expect((await world.api('DELETE', `${NS_PATH}/default/clusters/${LB_CLUSTER}`)).status).toBe(200);
    await world.waitFor('the cluster gone', async () => (await world.store.get('Cluster', 'default', LB_CLUSTER)) === undefined, 120_000);
    // Assess: nothing of its load balancer is left.
    expect(await lbs.describe('default', LB_CLUSTER)).toBeUndefined();
    expect(await lbs.hasLeftovers('default', LB_CLUSTER)).toBe(false);
  }, 300_000);
});
