/**
 * The same user path with `clusterless up --provider aws --nodes sim` against moto_server: EC2 through the
 * standard credential chain and AWS_ENDPOINT_URL, nodes simulated (no kubelet can join an instance moto runs).
 * An instance terminated out of band on EC2 stands for `sim kill`. With --kms-key-id the host bootstraps the
 * machines with kubeadm (Secrets Manager and ELBv2 on moto too) and serves the admin kubeconfig.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { AddTagsCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { parse } from 'yaml';
import { afterEach, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import type { Machine } from '../../functions/api/machine.js';
import { Ec2MachineProvider } from '../../functions/adapters/ec2/index.js';
import { TagKeys } from '../../functions/adapters/aws/tags.js';
import { Elbv2ManagedLoadBalancers, createElbv2Client } from '../../functions/adapters/elbv2/index.js';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../../functions/adapters/secrets/index.js';
import { KubeadmBootstrapper } from '../../functions/adapters/kubeadm/index.js';
import { systemClock } from '../../functions/ports.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';
import { createMotoNetwork, motoEc2Client, motoSdkEc2Client } from '../support/ec2.js';
import { cli as cliAs, cliOk as cliOkAs, startHostProcess, waitUntil, type HostProcess } from '../support/host-process.js';

let host: HostProcess | undefined;
let dataDir: string | undefined;
/** `up --provider aws` without --token makes a client token and requires it; the CLI sends it as a user would. */
let clientToken = '';

/** Starts the host as a user does, and reads the client token it wrote into the data folder. */
async function startAwsHost(args: string[], env: NodeJS.ProcessEnv): Promise<HostProcess> {
  const h = await startHostProcess(args, env);
  clientToken = readFileSync(join(dataDir!, 'client-token'), 'utf8').trim();
  return h;
}

type CliOptions = Parameters<typeof cliAs>[2];
const withToken = (options: CliOptions = {}): CliOptions => ({ ...options, env: { CLUSTERLESS_TOKEN: clientToken, ...options?.env } });
const cli = (server: string, args: string[], options?: CliOptions) => cliAs(server, args, withToken(options));
const cliOk = (server: string, args: string[], options?: CliOptions) => cliOkAs(server, args, withToken(options));

/** The installation id the host claimed in its data folder (it says so when it starts with --provider aws). */
function installationOf(h: HostProcess): string {
  const m = /installation ([A-Za-z0-9-]+) \(tagged/.exec(h.output());
  if (!m) throw new Error(`the host did not say its installation id:\n${h.output()}`);
  return m[1]!;
}

afterEach(async () => {
  await host?.stop();
  host = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('generates, applies, scales, upgrades, undoes, heals and deletes a cluster on EC2 (moto)', async () => {
  const endpoint = motoEndpoint();
  const ec2 = motoEc2Client(endpoint);
  const net = await createMotoNetwork(ec2);
  const env = { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  dataDir = mkdtempSync(join(tmpdir(), 'clusterless-e2e-aws-'));
  host = await startAwsHost(['--data-dir', dataDir, '--time-scale', '30', '--provider', 'aws', '--nodes', 'sim'], env);
  const s = host.url;
  // No --token: the host made one, said where, and refuses a client without it.
  expect(host.output()).toContain(`client token in ${join(dataDir, 'client-token')}`);
  const without = await cliAs(s, ['get', 'clusters'], { env: { CLUSTERLESS_TOKEN: '' } });
  expect(without.code).toBe(1);
  expect(without.stderr).toMatch(/bearer token/);
  const name = uniqueName('aws').slice(0, 30);
  const md = `${name}-md-0`;
  const generate = (version: string, workers: number) =>
    cliOk(s, [
      'generate',
      'cluster',
      name,
      '--provider',
      'aws',
      '--kubernetes-version',
      version,
      '--control-plane-machine-count',
      '3',
      '--worker-machine-count',
      String(workers),
      '--aws-region',
      'us-east-1',
      ...net.subnets.flatMap((x) => ['--aws-subnet', `${x.id}:${x.availabilityZone}`]),
      '--aws-security-group-id',
      net.securityGroupId,
      '--aws-ami',
      net.ami,
      '--aws-instance-type',
      't3.micro',
    ]);
  const machines = async () =>
    (JSON.parse(await cliOk(s, ['get', 'machines', '-o', 'json'])) as { items: Machine[] }).items.filter((m) => m.spec.clusterName === name);
  const workers = async () => (await machines()).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === md);
  const running = (ms: Machine[]) => ms.filter((m) => m.status?.phase === 'Running' && !m.metadata.deletionTimestamp);
  const installationId = installationOf(host);
  const provider = new Ec2MachineProvider({ client: ec2, installationId });
  const liveInstances = async () => (await provider.describe('default', name)).filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');

  await cliOk(s, ['apply', '-f', '-'], { input: await generate('v1.31.2', 3) });
  await waitUntil('6 machines running', async () => running(await machines()).length === 6, 180_000);
  expect((await liveInstances()).length).toBe(6);
  // No target group given: clusterless made the control plane's load balancer and recorded its endpoint.
  const elb = createElbv2Client(emulatorClientConfig(endpoint));
  const lbs = new Elbv2ManagedLoadBalancers({ elb, ec2, installationId });
  const lb = (await lbs.describe('default', name))!;
  const cluster = JSON.parse(await cliOk(s, ['get', 'cluster', name, '-o', 'json'])) as { spec: { controlPlaneEndpoint?: { host: string } } };
  expect(cluster.spec.controlPlaneEndpoint?.host).toBe(lb.dnsName);

  await cliOk(s, ['scale', 'machinedeployment', md, '--replicas', '5']);
  await cliOk(s, ['rollout', 'status', 'machinedeployment', md, '--timeout', '180s']);
  // Done means 5 available (Ready nodes, as the MachineSets count them); each Machine's phase is its own status
  // write, which may come a reconcile later (a lost race with an in-place update is retried).
  await waitUntil('5 workers running', async () => running(await workers()).length === 5, 60_000);

  await cliOk(s, ['apply', '-f', '-'], { input: await generate('v1.31.3', 5) });
  await waitUntil('upgraded', async () => running(await workers()).filter((m) => m.spec.version === 'v1.31.3').length === 5, 180_000);
  await cliOk(s, ['rollout', 'status', 'machinedeployment', md, '--timeout', '180s']);

  await cliOk(s, ['rollout', 'undo', 'machinedeployment', md]);
  await waitUntil('undone', async () => running(await workers()).filter((m) => m.spec.version === 'v1.31.2').length === 5, 180_000);
  // Note: the last old machine may not be marked for deletion yet; the rollout is over when the status says so.
  await cliOk(s, ['rollout', 'status', 'machinedeployment', md, '--timeout', '180s']);

  const victim = running(await workers()).find((m) => m.spec.version === 'v1.31.2')!;
  await ec2.terminateInstances({ InstanceIds: [victim.status!.infrastructure!.instanceId!] });
  await waitUntil(
    'the terminated worker replaced and its machine gone',
    async () => {
      const all = await workers();
      return running(all).length === 5 && !all.some((m) => m.metadata.uid === victim.metadata.uid);
    },
    180_000,
  );
  // One live instance per machine, none without its machine.
  expect((await liveInstances()).map((i) => i.machineUid).sort()).toEqual(
    (await machines())
      .filter((m) => !m.metadata.deletionTimestamp)
      .map((m) => m.metadata.uid)
      .sort(),
  );

  await cliOk(s, ['delete', 'cluster', name, '--wait'], { timeoutMs: 180_000 });
  expect(await machines()).toEqual([]);
  expect((await cli(s, ['get', 'cluster', name])).code).toBe(1);
  expect(await liveInstances()).toEqual([]);
  expect(await lbs.describe('default', name)).toBeUndefined();
  elb.destroy();
}, 600_000);

it("bootstraps EC2 machines with kubeadm and serves their cluster's admin kubeconfig (up --kms-key-id, moto)", async () => {
  // Arrange: a network and the control plane's target group on moto; the host with the bootstrap on.
  const endpoint = motoEndpoint();
  const ec2 = motoEc2Client(endpoint);
  const net = await createMotoNetwork(ec2);
  const elb = createElbv2Client(emulatorClientConfig(endpoint));
  const secretsClient = createSecretsManagerClient(emulatorClientConfig(endpoint));
  const kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000002';
  try {
    const tg = await elb.send(
      new CreateTargetGroupCommand({ Name: uniqueName('cp').slice(0, 32), Protocol: 'TCP', Port: 6443, VpcId: net.vpcId, TargetType: 'instance' }),
    );
    const targetGroupArn = tg.TargetGroups![0]!.TargetGroupArn!;
    const targets = async () =>
      ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }))).TargetHealthDescriptions ?? []).map((t) => t.Target!.Id!);
    const env = { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    dataDir = mkdtempSync(join(tmpdir(), 'clusterless-e2e-kubeadm-'));
    host = await startAwsHost(['--data-dir', dataDir, '--time-scale', '30', '--provider', 'aws', '--nodes', 'sim', '--kms-key-id', kmsKeyId], env);
    const s = host.url;
    // The host's secrets are under its installation's prefix.
    const installationId = installationOf(host);
    const secrets = new SecretsManagerSecretStore({ client: secretsClient, kmsKeyId, installationId });
    const bootstrap = new KubeadmBootstrapper({ secrets, clock: systemClock, secretPrefix: `clusterless/${installationId}/` });
    const name = uniqueName('kadm').slice(0, 30);
    // A target group the user brings must say it is this installation's and this cluster's, or nothing is registered.
    await elb.send(
      new AddTagsCommand({
        ResourceArns: [targetGroupArn],
        Tags: [
          { Key: TagKeys.installation, Value: installationId },
          { Key: TagKeys.cluster, Value: `default/${name}` },
        ],
      }),
    );
    const manifests = await cliOk(s, [
      'generate',
      'cluster',
      name,
      '--provider',
      'aws',
      '--kubernetes-version',
      'v1.31.2',
      '--control-plane-machine-count',
      '1',
      '--aws-region',
      'us-east-1',
      ...net.subnets.flatMap((x) => ['--aws-subnet', `${x.id}:${x.availabilityZone}`]),
      '--aws-security-group-id',
      net.securityGroupId,
      '--aws-ami',
      net.ami,
      '--aws-instance-type',
      't3.micro',
      // A reserved name (RFC 2606): nothing answers there, as no kube-apiserver runs on moto's instances.
      '--aws-control-plane-endpoint',
      `${name}.k8s.test`,
      '--aws-target-group-arn',
      targetGroupArn,
    ]);
    const machines = async () =>
      (JSON.parse(await cliOk(s, ['get', 'machines', '-o', 'json'])) as { items: Machine[] }).items.filter((m) => m.spec.clusterName === name);

    // Act 1
    await cliOk(s, ['apply', '-f', '-'], { input: manifests });
    const [machine] = await waitUntil(
      'the control-plane machine running',
      async () => {
        const ms = await machines();
        return ms.length === 1 && ms[0]!.status?.phase === 'Running' ? ms : undefined;
      },
      180_000,
    );
    const instanceId = machine!.status!.infrastructure!.instanceId!;
    const kubeconfig = await cliOk(s, ['get', 'kubeconfig', name]);

    // Assess: the kubeconfig is the cluster's, signed by the CA kept in Secrets Manager.
    const certs = (await bootstrap.certificates('default', name))!;
    expect(certs).toBeDefined();
    const kc = parse(kubeconfig) as { clusters: { cluster: { server: string } }[]; users: { user: { 'client-certificate-data': string } }[] };
    expect(kc.clusters[0]!.cluster.server).toBe(`https://${name}.k8s.test:6443`);
    const client = new X509Certificate(Buffer.from(kc.users[0]!.user['client-certificate-data'], 'base64'));
    expect(client.verify(new X509Certificate(certs.ca.cert).publicKey)).toBe(true);
    // The instance's user data is the boothook that fetches the machine's secret: no key, no token in it.
    // The SDK's client: the adapters' EC2 client does not read instance attributes.
    const motoSdk = motoSdkEc2Client(endpoint);
    const userData = Buffer.from(
      (await motoSdk.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }))).UserData?.Value ?? '',
      'base64',
    ).toString('utf8');
    motoSdk.destroy();
    expect(userData).toContain(`clusterless/${installationId}/default/${name}/machines/${machine!.metadata.uid}`);
    expect(userData).not.toMatch(/PRIVATE KEY|[a-z0-9]{6}\.[a-z0-9]{16}/);
    // The node joined (simulated), so its bootstrap secret is gone; the instance is behind the load balancer.
    await waitUntil(
      "the machine's secret deleted",
      async () => (await secrets.get(bootstrap.secretNames.machine('default', name, machine!.metadata.uid!))) === undefined,
      60_000,
    );
    expect(await targets()).toEqual([instanceId]);

    // Act 2: delete; the target is deregistered and the certificates deleted with the cluster.
    await cliOk(s, ['delete', 'cluster', name, '--wait'], { timeoutMs: 180_000 });
    expect(await targets()).toEqual([]);
    expect(await secrets.get(bootstrap.secretNames.certificates('default', name))).toBeUndefined();
  } finally {
    elb.destroy();
    secretsClient.destroy();
  }
}, 600_000);
