/**
 * The same user path with `clusterless up --provider aws --nodes sim` against moto_server: EC2 through the
 * standard credential chain and AWS_ENDPOINT_URL, nodes simulated (no kubelet can join an instance moto runs).
 * An instance terminated out of band on EC2 stands for `sim kill`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterEach, expect, inject, it } from 'vitest';
import type { Machine } from '../../functions/api/machine.js';
import { Ec2MachineProvider } from '../../functions/adapters/ec2/index.js';
import { uniqueName } from '../support/aws.js';
import { createMotoNetwork, motoEc2Client } from '../support/ec2.js';
import { cli, cliOk, startHostProcess, waitUntil, type HostProcess } from '../support/host-process.js';

let host: HostProcess | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await host?.stop();
  host = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('generates, applies, scales, upgrades, undoes, heals and deletes a cluster on EC2 (moto)', async () => {
  const endpoint = inject('motoEndpoint');
  const ec2 = motoEc2Client(endpoint);
  const net = await createMotoNetwork(ec2);
  const env = { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  dataDir = mkdtempSync(join(tmpdir(), 'clusterless-e2e-aws-'));
  host = await startHostProcess(['--data-dir', dataDir, '--time-scale', '30', '--provider', 'aws', '--nodes', 'sim'], env);
  const s = host.url;
  const name = uniqueName('aws').slice(0, 30);
  const md = `${name}-md-0`;
  const generate = (version: string, workers: number) =>
    cliOk(s, [
      'generate', 'cluster', name, '--provider', 'aws', '--kubernetes-version', version,
      '--control-plane-machine-count', '3', '--worker-machine-count', String(workers),
      '--aws-region', 'us-east-1', ...net.subnets.flatMap((x) => ['--aws-subnet', `${x.id}:${x.availabilityZone}`]),
      '--aws-security-group-id', net.securityGroupId, '--aws-ami', net.ami, '--aws-instance-type', 't3.micro',
    ]);
  const machines = async () => (JSON.parse(await cliOk(s, ['get', 'machines', '-o', 'json'])) as { items: Machine[] }).items.filter((m) => m.spec.clusterName === name);
  const workers = async () => (await machines()).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === md);
  const running = (ms: Machine[]) => ms.filter((m) => m.status?.phase === 'Running' && !m.metadata.deletionTimestamp);
  const provider = new Ec2MachineProvider({ client: ec2 });
  const liveInstances = async () => (await provider.describe('default', name)).filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');

  await cliOk(s, ['apply', '-f', '-'], { input: await generate('v1.31.2', 3) });
  await waitUntil('6 machines running', async () => running(await machines()).length === 6, 180_000);
  expect((await liveInstances()).length).toBe(6);

  await cliOk(s, ['scale', 'machinedeployment', md, '--replicas', '5']);
  await cliOk(s, ['rollout', 'status', 'machinedeployment', md, '--timeout', '180s']);
  expect(running(await workers())).toHaveLength(5);

  await cliOk(s, ['apply', '-f', '-'], { input: await generate('v1.32.0', 5) });
  await waitUntil('upgraded', async () => running(await workers()).filter((m) => m.spec.version === 'v1.32.0').length === 5, 180_000);
  await cliOk(s, ['rollout', 'status', 'machinedeployment', md, '--timeout', '180s']);

  await cliOk(s, ['rollout', 'undo', 'machinedeployment', md]);
  await waitUntil('undone', async () => running(await workers()).filter((m) => m.spec.version === 'v1.31.2').length === 5, 180_000);

  const victim = running(await workers())[0]!;
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim.status!.infrastructure!.instanceId!] }));
  await waitUntil('the terminated worker replaced', async () => {
    const now = running(await workers());
    return now.length === 5 && !now.some((m) => m.metadata.uid === victim.metadata.uid);
  }, 180_000);
  // One live instance per machine, none without its machine.
  expect((await liveInstances()).map((i) => i.machineUid).sort()).toEqual((await machines()).filter((m) => !m.metadata.deletionTimestamp).map((m) => m.metadata.uid).sort());

  await cliOk(s, ['delete', 'cluster', name, '--wait'], { timeoutMs: 180_000 });
  expect(await machines()).toEqual([]);
  expect((await cli(s, ['get', 'cluster', name])).code).toBe(1);
  expect(await liveInstances()).toEqual([]);
}, 600_000);
