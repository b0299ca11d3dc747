/**
 * The mirror on AWS through the emulated account: the mirror function's esbuild bundle from the cloud assembly of a
 * stack with the mirror on (e2e/aws/assembly.ts, as `cdk deploy -c mirror=true` synthesizes it), run by the emulated
 * Lambda runtime (e2e/aws/lambda-runtime.ts) with the template's environment, every SDK call it makes authorized
 * against its role's policies by the IAM gateway (e2e/aws/gateway.ts) before it reaches moto. It runs on its own
 * mapping of the table's stream (e2e/aws/event-sources/stream.ts) and on its schedule, run by the Scheduler source
 * (e2e/aws/event-sources/schedules.ts) with the schedule's own role, input and dead-letter queue; its kubeconfig is
 * in moto's Secrets Manager under the name the template gives it; the management cluster is a real kube-apiserver.
 * One API server, one table and one deployment for the file.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  DeleteScheduleGroupCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import type { DynamoDbStore } from '../../functions/adapters/dynamodb/index.js';
import { MIRROR_FINALIZER, MirrorAnnotations, type TargetObject } from '../../functions/adapters/kubernetes/index.js';
import type { MachineDeployment } from '../../functions/api/machine-deployment.js';
import { MIRROR_KUBECONFIG_SECRET_ENV, MIRROR_SYNC_EVENT } from '../../functions/handlers/mirror.js';
import { ACCOUNT, type Json, type Principal } from '../../e2e/aws/account.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { startSchedules, type Schedules } from '../../e2e/aws/event-sources/schedules.js';
import { startStreamSource, type StreamSource } from '../../e2e/aws/event-sources/stream.js';
import { AwsGateway } from '../../e2e/aws/gateway.js';
import { denyMessage } from '../../e2e/aws/iam/report.js';
import { LambdaRuntime } from '../../e2e/aws/lambda-runtime.js';
import { Deployment } from '../../e2e/aws/template.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';
import { emulatorDynamoDbClient, newTableStore } from '../support/dynamodb-store-factory.js';
import { enableStream, keepOnlyMappingOf, placeholderPhysicalIds } from '../support/emulated-stack.js';
import { startKube, type RunningKube } from '../support/kube.js';
import { waitUntil } from '../support/wait.js';
import { apiCreate, manifests } from '../integration/kubernetes/fixtures.js';

const endpoint = () => motoEndpoint();
const ns = 'mirror-aws';
/** Scheduler's minute is a second here: the first sync one second after the schedule is made. */
const SCHEDULE_TIME_SCALE = 60;
let dir: string;
let kube: RunningKube;
let store: DynamoDbStore;
let deployment: Deployment;
let gateway: AwsGateway;
let runtime: LambdaRuntime;
let source: StreamSource;
let schedules: Schedules | undefined;
let secretName: string;
let group: string;
const queueUrls: string[] = [];
let ids: { fn: string; role: string; schedule: string; schedulerRole: string };
const scheduler = () => new SchedulerClient(emulatorClientConfig(endpoint()));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mirror-aws-'));
  // kube-apiserver starts (a few seconds) while esbuild bundles the functions.
  const kubeStarted = startKube().then(async (k) => {
    await k.installCrds();
    return k;
  });
  const assembly = synthesize(join(dir, 'assembly'), { controlPlane: { mirror: {} } });
  const functionOf = (prefix: string) => Object.keys(assembly.bundles).find((id) => id.startsWith(prefix))!;
  const fn = functionOf('MirrorHandlerFunction');
  const schedule = Object.entries(assembly.template.Resources).find(
    ([, r]) => r.Type === 'AWS::Scheduler::Schedule' && JSON.stringify(r.Properties?.['Target']).includes(`"${fn}"`),
  )![0];
  // Only the mirror's mapping: the reconcile trigger is another test's.
  keepOnlyMappingOf(assembly.template, fn);
  // A stack of its own: its installation id, and so the secret's name, are this file's alone in the shared moto.
  deployment = new Deployment(assembly.stackName, assembly.template, assembly.directory, randomUUID());
  const target = deployment.resource(schedule).Properties!['Target'] as { RoleArn: { 'Fn::GetAtt': [string, string] } };
  ids = { fn, role: deployment.roleOfFunction(fn), schedule, schedulerRole: target.RoleArn['Fn::GetAtt'][0] };

  const dynamodb = emulatorDynamoDbClient(endpoint());
  const table = await newTableStore(dynamodb);
  store = table.store;
  const streamArn = await enableStream(dynamodb, table.tableName);
  deployment.setPhysical(deployment.ofType('AWS::DynamoDB::Table')[0]!, {
    ref: table.tableName,
    attributes: { Arn: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${table.tableName}`, StreamArn: streamArn },
  });
  // The mirror's dead-letter queues are real: a batch or a sync given up on would land there and be counted.
  const sqs = new SQSClient(emulatorClientConfig(endpoint()));
  for (const id of deployment.ofType('AWS::SQS::Queue').filter((q) => q.startsWith('Mirror'))) {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('mirror-dlq') }))).QueueUrl!;
    queueUrls.push(url);
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
    deployment.setPhysical(id, { ref: url, attributes: { Arn: arn, QueueName: arn.split(':')[5]!, QueueUrl: url } });
  }
  // The schedule lives in a group of this file's own (moto is shared); it is made in the test, when the sync is due.
  group = uniqueName('mirror');
  await scheduler().send(new CreateScheduleGroupCommand({ Name: group }));
  deployment.setPhysical(schedule, { ref: uniqueName('mirror-sync'), attributes: {} });
  placeholderPhysicalIds(deployment, ACCOUNT);

  kube = await kubeStarted;
  // The secret under the name the template gives the function, made as an operator would.
  const variables = (deployment.resource(fn).Properties!['Environment'] as { Variables: Record<string, Json> }).Variables;
  secretName = String(deployment.resolve(variables[MIRROR_KUBECONFIG_SECRET_ENV]!));
  await new SecretsManagerClient(emulatorClientConfig(endpoint())).send(new CreateSecretCommand({ Name: secretName, SecretString: kube.mirrorKubeconfigYaml }));

  const principal = (role: string, key: string): Principal => ({
    name: role,
    arn: String(deployment.physicalOf(role).attributes['Arn']),
    policies: deployment.identityPolicies(role),
    credentials: { accessKeyId: key, secretAccessKey: `${role}-secret`, sessionToken: `${role}-session` },
  });
  const mirrorRole = principal(ids.role, 'ASIAE2EMIRRORFUNCTN1');
  gateway = await AwsGateway.start({ backend: endpoint(), deployment, admin: { accessKeyId: 'test', secretAccessKey: 'test' } });
  gateway.register(mirrorRole);
  gateway.register(principal(ids.schedulerRole, 'ASIAE2EMIRRORSCHEDL1'));
  // The mirror's bundle only: the other functions are other files' (the whole account: account.test.ts).
  runtime = new LambdaRuntime({
    deployment,
    bundles: { [fn]: assembly.bundles[fn]! },
    endpoint: gateway.endpoint,
    principals: new Map([[ids.role, mirrorRole]]),
    logDir: join(dir, 'logs'),
  });
  source = await startStreamSource({ deployment, endpoint: endpoint(), invoke: runtime.invoke, authorize: gateway.authorize, pollMs: 20, timeScale: 10 });
  expect(source.mappings).toHaveLength(1);
}, 180_000);

afterAll(async () => {
  await schedules?.stop();
  await source?.stop();
  await runtime?.stop();
  await gateway?.stop();
  await kube?.stop();
  const config = emulatorClientConfig(endpoint());
  if (secretName) await new SecretsManagerClient(config).send(new DeleteSecretCommand({ SecretId: secretName, ForceDeleteWithoutRecovery: true }));
  if (group) await scheduler().send(new DeleteScheduleGroupCommand({ Name: group }));
  for (const url of queueUrls) await new SQSClient(config).send(new DeleteQueueCommand({ QueueUrl: url }));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function inTarget(kind: string, name: string): Promise<TargetObject | undefined> {
  // A call IAM refused is why nothing arrives: the wait's timeout says which.
  const denied = gateway.denies()[0];
  if (denied) throw new Error(`IAM refused ${denyMessage(denied)}`);
  const r = await kube.kubectl(['get', kind, name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as TargetObject) : undefined;
}

/** The template's schedule, as deploy.ts creates it, in this file's group: Scheduler starts counting its rate now. */
async function createSyncSchedule(): Promise<void> {
  const p = deployment.resolve(deployment.resource(ids.schedule).Properties as Json) as unknown as CreateScheduleCommandInput;
  await scheduler().send(new CreateScheduleCommand({ ...p, Name: deployment.physicalOf(ids.schedule).ref, GroupName: group }));
}

describe('the mirror on AWS, its bundle in the emulated account', () => {
  it('applies API writes into the management cluster from the stream, and imports kubectl edits and deletes at the scheduled sync', async () => {
    // Act 1: API writes land in the table; the stream carries them to the mirror function
    const md = await apiCreate<MachineDeployment>(store, manifests.deployment('prod', ns, 2));
    const mc = await apiCreate(store, manifests.machineClass(ns));
    // Assess 1
    const mirrored = await waitUntil(
      'the stream mirrors the objects',
      async () => (await inTarget('md', 'workers')) && (await inTarget('machineclass', 'small')),
      30_000,
      50,
    );
    expect(mirrored.metadata.annotations?.[MirrorAnnotations.sourceUid]).toBe(mc.metadata.uid);
    expect(mirrored.metadata.finalizers).toEqual([MIRROR_FINALIZER]);
    expect((await inTarget('md', 'workers'))!.metadata.annotations?.[MirrorAnnotations.sourceUid]).toBe(md.metadata.uid);

    // Act 2: kubectl scales the deployment and deletes the class there; then the schedule's syncs run
    await kube.kubectlOk(['scale', 'md', 'workers', '-n', ns, '--replicas=3']);
    await kube.kubectlOk(['delete', 'machineclass', 'small', '-n', ns, '--wait=false']);
    await createSyncSchedule();
    schedules = await startSchedules({
      deployment,
      endpoint: endpoint(),
      invoke: runtime.invoke,
      authorize: gateway.authorize,
      startExecution: async () => {
        throw new Error('the mirror schedule starts no execution');
      },
      groups: [group],
      pollMs: 50,
      timeScale: SCHEDULE_TIME_SCALE,
    });
    // Assess 2: both in the table; the class is gone from the target too
    await waitUntil(
      'the sync imports the scale and the delete',
      async () =>
        (await store.get<MachineDeployment>('MachineDeployment', ns, 'workers'))?.spec.replicas === 3 &&
        (await store.get('MachineClass', ns, 'small')) === undefined,
      30_000,
      50,
    );
    await waitUntil('the class gone from the target', async () => (await inTarget('machineclass', 'small')) === undefined || undefined, 30_000, 50);
    // The imported write comes back by the stream: the target carries the new resourceVersion.
    const after = (await store.get<MachineDeployment>('MachineDeployment', ns, 'workers'))!;
    await waitUntil(
      'the import mirrored back',
      async () =>
        (await inTarget('md', 'workers'))?.metadata.annotations?.[MirrorAnnotations.sourceResourceVersion] === after.metadata.resourceVersion || undefined,
      30_000,
      50,
    );
    await schedules.stop();
    await source.drained();

    // The bundle ran (never the TypeScript source), from the schedule with the schedule's input, and logged the imports.
    expect(runtime.stats.coldStarts[ids.fn]).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(String((deployment.resource(ids.schedule).Properties!['Target'] as { Input: string }).Input))).toEqual(MIRROR_SYNC_EVENT);
    // A sync that failed names its error in the function's log (Invoke Error), as in its CloudWatch log group.
    const log = readFileSync(join(dir, 'logs', `${ids.fn}.log`), 'utf8');
    expect(schedules.stats, log.slice(-4000)).toMatchObject({ failures: 0, dlq: 0 });
    expect(schedules.stats.delivered).toBeGreaterThanOrEqual(1);
    expect(log).toMatch(/"message":"mirror import".*"outcome":"deleted"/);
    expect(log).toMatch(/"message":"mirror import".*"outcome":"imported"/);
    // Nothing given up on, nothing refused: the role's policies allow every call the bundle made.
    expect(source.stats.dlq).toBe(0);
    expect([...source.errors, ...schedules.errors]).toEqual([]);
    expect(gateway.denies()).toEqual([]);
    expect(gateway.problems).toEqual([]);
    const actions = new Set(gateway.records.filter((r) => r.principal === ids.role).map((r) => r.request.action));
    expect(actions.has('secretsmanager:GetSecretValue')).toBe(true);
    expect([...actions].some((a) => a.startsWith('dynamodb:'))).toBe(true);
  });
});
