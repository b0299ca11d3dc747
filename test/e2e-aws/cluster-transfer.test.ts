/**
 * `clusterless import` and `clusterless move` against a deployed installation, through the emulated account: the
 * cloud assembly's http and cluster-transfer bundles run by the emulated Lambda runtime, behind the SigV4 door of the
 * emulated API Gateway (e2e/aws/api-gateway.ts, IAM on each execute-api ARN), every SDK call of theirs authorized
 * against their roles' policies by the IAM gateway (e2e/aws/gateway.ts) before it reaches moto. The CLI's commands
 * (cli/commands/import.ts, move.ts) run with a client signed as a controller of team-a, as `clusterless --server`
 * signs for an execute-api URL. Beside it: a Cluster API management cluster (a real kube-apiserver with Cluster API's
 * kinds, instances on moto tagged as Cluster API AWS tags them) and an embedded host with the aws provider on moto.
 * One deployment for the file; nothing reconciles in the deployed installation (no stream source): the tests read
 * what the routes wrote.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { ApiClient, isNotFound } from '../../cli/client.js';
import type { ApiRequestError } from '../../cli/errors.js';
import { importClusters } from '../../cli/commands/import.js';
import { move } from '../../cli/commands/move.js';
import { makeContext, type Context } from '../../cli/context.js';
import type { Io } from '../../cli/io.js';
import { createSigV4Signer } from '../../cli/sigv4.js';
import { TagKeys } from '../../functions/adapters/aws/tags.js';
import type { ApiObject } from '../../functions/api/kind.js';
import { MoveAnnotations } from '../../functions/api/service/move.js';
import { secretNames } from '../../functions/bootstrap/names.js';
import { ACCOUNT, REGION, type Principal } from '../../e2e/aws/account.js';
import { type ApiGateway, startApiGateway } from '../../e2e/aws/api-gateway.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { AwsGateway } from '../../e2e/aws/gateway.js';
import { denyMessage } from '../../e2e/aws/iam/report.js';
import { LambdaRuntime } from '../../e2e/aws/lambda-runtime.js';
import { Deployment } from '../../e2e/aws/template.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../local/embedded-host.js';
import { emulatorClientConfig } from '../support/aws.js';
import { emulatorDynamoDbClient, newTableStore } from '../support/dynamodb-store-factory.js';
import { placeholderPhysicalIds } from '../support/emulated-stack.js';
import { createMotoNetwork, motoSdkEc2Client, type MotoNetwork } from '../support/ec2.js';
import { startKube, type RunningKube } from '../support/kube.js';
import { waitUntil } from '../support/wait.js';
import { capaInstance, capiCluster, capiCrds, type CapaInstance } from '../integration/cli/capi-import-fixtures.js';

const NAMESPACE = 'team-a';
const BASE = `/apis/clusterless.dev/v1alpha1/namespaces/${NAMESPACE}`;
const endpoint = () => motoEndpoint();

let dir: string;
let kube: RunningKube;
let ec2: EC2Client;
let net: MotoNetwork;
let deployment: Deployment;
let gateway: AwsGateway;
let runtime: LambdaRuntime;
let api: ApiGateway;
let host: EmbeddedHost;
/** The deployed installation's API, signed as its controller of team-a. */
let deployed: ApiClient;
/** The deployed installation's API, signed as a writer of team-a granted no status. */
let writer: ApiClient;
/** The embedded host's API, with its controller token (a move's steps need it there). */
let embedded: ApiClient;
let functionRoles: Set<string>;
let transferRole: string;
const instances: Record<'imported' | 'moving', CapaInstance[]> = { imported: [], moving: [] };
const savedEnv: Record<string, string | undefined> = {};

/** A CLI context over a client, its output kept (the commands' own lines, as a user would read them). */
function contextOf(client: ApiClient): Context & { lines: string[] } {
  const lines: string[] = [];
  const output = { write: (s: string) => void lines.push(s.trimEnd()), isTTY: false, columns: 200 };
  const io = {
    stdout: output,
    stderr: output,
    env: {},
    fetch: globalThis.fetch,
    now: () => Date.now(),
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  } as unknown as Io;
  return Object.assign(makeContext(io, client), { lines });
}

async function vpcInstances(): Promise<Instance[]> {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}
const tagsOf = async (instanceId: string): Promise<Record<string, string>> =>
  Object.fromEntries(((await vpcInstances()).find((i) => i.InstanceId === instanceId)?.Tags ?? []).map((t) => [t.Key!, t.Value!]));

async function clusterOn(client: ApiClient, name: string): Promise<ApiObject | undefined> {
  try {
    return (await client.request<ApiObject>('GET', `${BASE}/clusters/${name}`)).body;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
const machinesOn = async (client: ApiClient, cluster: string) =>
  ((await client.request<{ items: ApiObject[] }>('GET', `${BASE}/machines`)).body.items ?? []).filter(
    (m) => (m.spec as { clusterName?: string }).clusterName === cluster,
  );
/** The instances the transfer function's own role was allowed to tag (IAM evaluated by the gateway). */
const taggedByTransfer = () =>
  gateway.records
    .filter((r) => r.principal === transferRole && r.request.action === 'ec2:CreateTags' && r.decision === 'Allowed')
    .map((r) => r.request.resource.split('/').pop());
/** What IAM refused a function of the deployment (never a caller's refusal): each in words. */
const functionDenies = () =>
  gateway
    .denies()
    .filter((d) => functionRoles.has(d.principal))
    .map(denyMessage);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cluster-transfer-'));
  // kube-apiserver (the Cluster API management cluster) starts while esbuild bundles the functions.
  const kubeStarted = startKube().then(async (k) => {
    await k.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: capiCrds() }) });
    await k.kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    await k.kubectlOk(['create', 'namespace', NAMESPACE]);
    return k;
  });
  const assembly = synthesize(join(dir, 'assembly'));
  const functionOf = (prefix: string) => Object.keys(assembly.bundles).find((id) => id.startsWith(prefix))!;
  const fns = { http: functionOf('httphandler'), transfer: functionOf('clustertransferhandler') };
  // A stack of its own: its installation id, and so its secrets' names and its tags, are this file's alone in the shared moto.
  deployment = new Deployment(assembly.stackName, assembly.template, assembly.directory, randomUUID());

  const dynamodb = emulatorDynamoDbClient(endpoint());
  const { tableName } = await newTableStore(dynamodb);
  deployment.setPhysical(deployment.ofType('AWS::DynamoDB::Table')[0]!, {
    ref: tableName,
    attributes: {
      Arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName}`,
      StreamArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName}/stream/none`,
    },
  });
  // The secrets key is real: the certificates are created with it, and the gateway checks its key policy.
  const kms = new KMSClient(emulatorClientConfig(endpoint()));
  const secretsKey = deployment.ofType('AWS::KMS::Key').find((id) => id.startsWith('SecretsKey'))!;
  const key = (await kms.send(new CreateKeyCommand({ Description: 'e2e: the secrets key' }))).KeyMetadata!;
  deployment.setPhysical(secretsKey, { ref: key.KeyId!, attributes: { Arn: key.Arn!, KeyId: key.KeyId! } });
  placeholderPhysicalIds(deployment, ACCOUNT);

  const principal = (role: string, key: string): Principal => ({
    name: role,
    arn: String(deployment.physicalOf(role).attributes['Arn']),
    policies: deployment.identityPolicies(role),
    credentials: { accessKeyId: key, secretAccessKey: `${role}-secret`, sessionToken: `${role}-session` },
  });
  const roles = { http: deployment.roleOfFunction(fns.http), transfer: deployment.roleOfFunction(fns.transfer) };
  functionRoles = new Set(Object.values(roles));
  transferRole = roles.transfer;
  const functionPrincipals = new Map([
    [roles.http, principal(roles.http, 'ASIAE2EHTTPFUNCTION9')],
    [roles.transfer, principal(roles.transfer, 'ASIAE2ETRANSFERFUNC1')],
  ]);
  const controller = principal(assembly.callerRoles.TeamAController, 'ASIAE2ETEAMACONTROL1');
  const teamWriter = principal(assembly.callerRoles.TeamAWriter, 'ASIAE2ETEAMAWRITER09');
  gateway = await AwsGateway.start({ backend: endpoint(), deployment, admin: { accessKeyId: 'test', secretAccessKey: 'test' } });
  for (const p of [...functionPrincipals.values(), controller, teamWriter]) gateway.register(p);
  runtime = new LambdaRuntime({
    deployment,
    bundles: { [fns.http]: assembly.bundles[fns.http]!, [fns.transfer]: assembly.bundles[fns.transfer]! },
    endpoint: gateway.endpoint,
    principals: functionPrincipals,
    logDir: join(dir, 'logs'),
  });
  api = await startApiGateway({
    deployment,
    invoke: runtime.invoke,
    invokeWithResponseStream: runtime.invokeWithResponseStream,
    principals: () => [controller, teamWriter],
    authorize: gateway.authorize,
  });
  const signer = createSigV4Signer({ region: REGION, credentials: controller.credentials });
  deployed = new ApiClient({ server: api.url, fetch, signer: async () => signer });
  const writerSigner = createSigV4Signer({ region: REGION, credentials: teamWriter.credentials });
  writer = new ApiClient({ server: api.url, fetch, signer: async () => writerSigner });

  // Cluster API's instances: two clusters of one control-plane machine and one worker each.
  ec2 = motoSdkEc2Client(endpoint());
  net = await createMotoNetwork(ec2);
  for (const cluster of ['imported', 'moving'] as const) {
    instances[cluster].push(await capaInstance(ec2, net, { cluster, machine: `${cluster}-control-plane-0`, role: 'control-plane' }));
    instances[cluster].push(await capaInstance(ec2, net, { cluster, machine: `${cluster}-md-0-abc-0`, role: 'node', zone: 1 }));
  }
  kube = await kubeStarted;
  const objects = [];
  for (const cluster of ['imported', 'moving'] as const) {
    const [cp, worker] = instances[cluster] as [CapaInstance, CapaInstance];
    const own = await capiCluster({ name: cluster, namespace: NAMESPACE, paused: true, net, controlPlane: [cp], workers: [worker] });
    // No control-plane load balancer (the user's DNS in front): a cluster with one cannot move yet. No
    // ClusterResourceSet: its manifests go to the payload bucket, and the emulated account has no S3.
    for (const o of own) if (o['kind'] === 'AWSCluster') o['spec'] = { ...(o['spec'] as object), controlPlaneLoadBalancer: { loadBalancerType: 'disabled' } };
    objects.push(...own.filter((o) => o['kind'] !== 'ClusterResourceSet'));
  }
  await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });

  // The embedded host builds its AWS clients from the environment, as `clusterless up --provider aws` does; with a
  // KMS key of its own it keeps certificates in Secrets Manager, so that a move carries them.
  for (const [k, v] of Object.entries({ AWS_ENDPOINT_URL: endpoint(), AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' })) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  const hostKey = (await kms.send(new CreateKeyCommand({ Description: 'e2e: the embedded host key' }))).KeyMetadata!;
  kms.destroy();
  host = await startEmbeddedHost({ port: 0, dataDir: join(dir, 'host'), provider: 'aws', timeScale: 20, sweepSeconds: 3600, kmsKeyId: hostKey.Arn! });
  embedded = new ApiClient({ server: host.url, fetch, token: host.controllerToken });
}, 240_000);

afterAll(async () => {
  await host?.close();
  await api?.stop();
  await runtime?.stop();
  await gateway?.stop();
  await kube?.stop();
  ec2?.destroy();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('clusterless import into a deployed installation', () => {
  it("adopts Cluster API AWS's instances: Machines with their providerIDs, the instances tagged as the installation's, nothing launched", async () => {
    // Prepare
    const before = (await vpcInstances()).length;
    const ctx = contextOf(deployed);

    // Act
    await importClusters(ctx, ['imported'], { kubeconfig: kube.adminKubeconfig, namespace: NAMESPACE });

    // Assess
    expect(ctx.lines.join('\n')).toMatch(/cluster\/imported imported: 2 machines adopted \(2 instances tagged now\)/);
    expect(functionDenies()).toEqual([]);
    expect(taggedByTransfer().sort()).toEqual(instances.imported.map((i) => i.instanceId).sort());
    expect((await vpcInstances()).length).toBe(before);
    const machines = await machinesOn(deployed, 'imported');
    expect(machines.map((m) => (m.spec as { providerID?: string }).providerID).sort()).toEqual(
      instances.imported.map((i) => `aws:///${i.zone}/${i.instanceId}`).sort(),
    );
    for (const i of instances.imported) {
      const tags = await tagsOf(i.instanceId);
      expect(tags[TagKeys.installation], i.instanceId).toBe(deployment.installationId);
      expect(machines.map((m) => m.metadata.uid)).toContain(tags[TagKeys.machineUid]);
    }
    // The certificates went to this installation's Secrets Manager prefix, under its key.
    const secrets = new SecretsManagerClient(emulatorClientConfig(endpoint()));
    const secret = await secrets.send(
      new DescribeSecretCommand({ SecretId: secretNames(`clusterless/${deployment.installationId}/`).certificates(NAMESPACE, 'imported') }),
    );
    secrets.destroy();
    expect(secret.Tags).toContainEqual({ Key: TagKeys.installation, Value: deployment.installationId });
    expect((await clusterOn(deployed, 'imported'))?.spec).toMatchObject({ paused: false });
  }, 90_000);
});

describe('clusterless move between an embedded host and a deployed installation', () => {
  /** Who owns the cluster: where its Cluster is, and the installation tag of each of its instances. */
  async function owners(): Promise<{ onHost: boolean; onDeployed: boolean; tags: string[] }> {
    const tags = await Promise.all(instances.moving.map(async (i) => (await tagsOf(i.instanceId))[TagKeys.installation] ?? '(none)'));
    return { onHost: (await clusterOn(embedded, 'moving')) !== undefined, onDeployed: (await clusterOn(deployed, 'moving')) !== undefined, tags };
  }

  it('moves a cluster from the embedded host into the deployed installation: one owner at the end, machines kept', async () => {
    // Prepare: the cluster imported into the host, which finds its machines' nodes.
    await importClusters(contextOf(embedded), ['moving'], { kubeconfig: kube.adminKubeconfig, namespace: NAMESPACE });
    await waitUntil(
      "the host's machines with their nodes",
      async () => {
        const machines = await machinesOn(embedded, 'moving');
        return machines.length === 2 && machines.every((m) => (m.status as { nodeRef?: unknown } | undefined)?.nodeRef);
      },
      60_000,
      100,
    );
    const uids = (await machinesOn(embedded, 'moving')).map((m) => m.metadata.uid).sort();
    const before = (await vpcInstances()).length;

    // Act
    await move(contextOf(embedded), deployed, 'moving', { namespace: NAMESPACE });

    // Assess
    expect(functionDenies()).toEqual([]);
    expect(await owners()).toEqual({ onHost: false, onDeployed: true, tags: [deployment.installationId, deployment.installationId] });
    const cluster = (await clusterOn(deployed, 'moving'))!;
    expect(cluster.metadata.annotations?.[MoveAnnotations.movingIn]).toBeUndefined();
    expect((await machinesOn(deployed, 'moving')).map((m) => m.metadata.uid).sort()).toEqual(uids);
    expect((await vpcInstances()).length).toBe(before);
  }, 90_000);

  it('moves it back out of the deployed installation: the deployed one hands its instances over and forgets the cluster', async () => {
    // Prepare
    const hostId = (await embedded.request<{ installationId: string }>('GET', `${BASE}/clusters/moving/move`)).body.installationId;

    const tagged = taggedByTransfer().length;
    const ctx = contextOf(deployed);

    // Act
    await move(ctx, embedded, 'moving', { namespace: NAMESPACE });

    // Assess: the deployed installation re-tagged the two instances itself, under its role's hand-over grant.
    expect(ctx.lines.join('\n')).toMatch(/handed over 2 cloud resources[\s\S]*forgot \d+ objects/);
    expect(functionDenies()).toEqual([]);
    expect(taggedByTransfer().slice(tagged).sort()).toEqual(instances.moving.map((i) => i.instanceId).sort());
    expect(await owners()).toEqual({ onHost: true, onDeployed: false, tags: [hostId, hostId] });
    expect(await machinesOn(deployed, 'moving')).toEqual([]);
  }, 90_000);
});

describe('who may call them', () => {
  it('refuses every step to a writer of the namespace granted no status (403 from the door), and nothing changes', async () => {
    // Prepare: the imported cluster, as the first test left it.
    const before = await clusterOn(deployed, 'imported');
    const machine = (await machinesOn(deployed, 'imported'))[0]!;
    const calls: [string, string, unknown][] = [
      ['GET', `${BASE}/clusters/imported/move`, undefined],
      ['POST', `${BASE}/clusters/imported/move`, { step: 'Pause', to: randomUUID() }],
      ['POST', `${BASE}/clusters/imported/certificates`, {}],
      ['POST', `${BASE}/machines/${machine.metadata.name}/adopt`, { instanceId: instances.moving[0]!.instanceId, capaClusterName: 'moving' }],
    ];

    // Act
    const statuses = await Promise.all(
      calls.map(([method, path, body]) =>
        writer.request(method, path, body === undefined ? {} : { body }).then(
          (r) => r.status,
          (err: ApiRequestError) => err.httpStatus,
        ),
      ),
    );

    // Assess
    expect(statuses).toEqual([403, 403, 403, 403]);
    expect((await writer.request<ApiObject>('GET', `${BASE}/clusters/imported`)).body.metadata.resourceVersion).toBe(before!.metadata.resourceVersion);
  }, 30_000);
});
