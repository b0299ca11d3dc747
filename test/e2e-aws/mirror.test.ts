/**
 * The mirror on AWS through the emulated account: the mirror function of the synthesized template (a stack with the
 * mirror prop) on its own mapping of the table's stream (e2e/aws/event-sources/stream.ts, the role's IAM policies
 * evaluated), its kubeconfig in moto's Secrets Manager under the name the template gives it, the table on moto, and
 * a real kube-apiserver as the management cluster. The scheduled import is invoked with the schedule's own input.
 * One API server, one table and one deployment for the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { enableStream, keepOnlyMappingOf } from '../support/emulated-stack.js';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSecretsManagerClient } from '../../functions/adapters/aws/clients.js';
import { DynamoDbStore, createDynamoDbClient } from '../../functions/adapters/dynamodb/index.js';
import { createTable } from '../../functions/adapters/dynamodb/table.js';
import { MIRROR_FINALIZER, MirrorAnnotations, type TargetObject } from '../../functions/adapters/kubernetes/index.js';
import type { MachineDeployment } from '../../functions/api/machine-deployment.js';
import { MIRROR_KUBECONFIG_SECRET_ENV, createMirrorHandler, secretKubeconfigMirror } from '../../functions/handlers/mirror.js';
import { ControlPlaneStack } from '../../infra/control-plane-stack.js';
import { AccessDeniedError, type AuthorizationRequest, type Json } from '../../e2e/aws/account.js';
import { startStreamSource, type StreamSource } from '../../e2e/aws/event-sources/stream.js';
import { evaluate } from '../../e2e/aws/iam/evaluate.js';
import { Deployment, type TemplateJson } from '../../e2e/aws/template.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';
import { startKube, type RunningKube } from '../support/kube.js';
import { waitUntil } from '../support/wait.js';
import { cdkJsonContext } from '../infra/support.js';
import { apiCreate, manifests } from '../integration/kubernetes/fixtures.js';

const endpoint = () => inject('motoEndpoint');
const ns = 'mirror-aws';
let dir: string;
let kube: RunningKube;
let store: DynamoDbStore;
let source: StreamSource;
let secretName: string;
let syncInput: unknown;
let handler: ReturnType<typeof createMirrorHandler>;
/** What the mirror role asked IAM for, and what was refused. */
const denied: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mirror-aws-'));
  const app = new App({ outdir: dir, context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new ControlPlaneStack(app, 'Clusterless', { mirror: {} });
  const template = app.synth().getStackByName(stack.stackName).template as TemplateJson;
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  const ids = {
    fn: id(stack.mirror!.handler.function),
    table: id(stack.objectTable.table),
    queue: id(stack.mirror!.streamDeadLetterQueue.queue),
    schedule: id(stack.mirror!.schedule),
  };
  // Only the mirror's mapping: the reconcile trigger is another test's.
  const copy = structuredClone(template);
  keepOnlyMappingOf(copy, ids.fn);
  const deployment = new Deployment(stack.stackName, copy, dir);

  const dynamodb = createDynamoDbClient(emulatorClientConfig(endpoint()));
  const tableName = uniqueName('mirror-aws');
  await createTable(dynamodb, tableName);
  const streamArn = await enableStream(dynamodb, tableName);
  const arn = (service: string, resource: string) => `arn:aws:${service}:us-east-1:123456789012:${resource}`;
  deployment.setPhysical(ids.table, { ref: tableName, attributes: { Arn: arn('dynamodb', `table/${tableName}`), StreamArn: streamArn } });
  deployment.setPhysical(ids.fn, { ref: 'Clusterless-mirror', attributes: { Arn: arn('lambda', 'function:Clusterless-mirror') } });
  deployment.setPhysical(ids.queue, { ref: 'mirror-dlq', attributes: { Arn: arn('sqs', 'mirror-dlq'), QueueName: 'mirror-dlq' } });
  store = new DynamoDbStore({ client: dynamodb, tableName });
  // What the role's policies name besides these (its log group, the keys, the bucket): placeholders, never called here.
  for (const rid of Object.keys(copy.Resources))
    if (![ids.table, ids.fn, ids.queue].includes(rid)) deployment.setPhysical(rid, { ref: rid, attributes: { Arn: arn('placeholder', rid) } });

  kube = await startKube();
  await kube.installCrds();
  // The secret under the name the template gives the function, made as an operator would.
  const variables = (template.Resources[ids.fn]!.Properties!['Environment'] as { Variables: Record<string, Json> }).Variables;
  secretName = String(deployment.resolve(variables[MIRROR_KUBECONFIG_SECRET_ENV]));
  const secrets = createSecretsManagerClient(emulatorClientConfig(endpoint()));
  const secretArn = (await secrets.send(new CreateSecretCommand({ Name: secretName, SecretString: kube.mirrorKubeconfigYaml }))).ARN!;
  const role = deployment.roleOfFunction(ids.fn);
  const principal = {
    name: role,
    arn: arn('iam', `role/${role}`).replace(':us-east-1:', '::'),
    policies: deployment.identityPolicies(role),
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  };
  const authorize = async (who: string, operation: string, requests: AuthorizationRequest[]) => {
    for (const r of requests) {
      if ((await evaluate(principal, r)).decision === 'Allowed') continue;
      denied.push(`${who} ${r.action} ${r.resource}`);
      throw new AccessDeniedError(`${who} is not authorized to perform: ${operation}`);
    }
  };
  // The function reads its secret through IAM too: the role must allow exactly the secret it was given.
  await authorize(role, 'secretsmanager:GetSecretValue', [{ action: 'secretsmanager:GetSecretValue', resource: secretArn, context: {} }]);
  handler = createMirrorHandler({ store, mirror: secretKubeconfigMirror(secrets, secretName) });
  syncInput = JSON.parse(String((template.Resources[ids.schedule]!.Properties!['Target'] as { Input: string }).Input));
  source = await startStreamSource({
    deployment,
    endpoint: endpoint(),
    invoke: async (_fn, event) => ({ ok: true, payload: (await handler(event as never)) as unknown as Json }),
    authorize,
    pollMs: 20,
    timeScale: 10,
  });
}, 120_000);

afterAll(async () => {
  await source?.stop();
  await kube?.stop();
  if (secretName)
    await createSecretsManagerClient(emulatorClientConfig(endpoint())).send(
      new DeleteSecretCommand({ SecretId: secretName, ForceDeleteWithoutRecovery: true }),
    );
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function inTarget(kind: string, name: string): Promise<TargetObject | undefined> {
  const r = await kube.kubectl(['get', kind, name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as TargetObject) : undefined;
}

describe('the mirror on AWS', () => {
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

    // Act 2: kubectl scales the deployment and deletes the class there; the schedule's sync runs
    await kube.kubectlOk(['scale', 'md', 'workers', '-n', ns, '--replicas=3']);
    await kube.kubectlOk(['delete', 'machineclass', 'small', '-n', ns, '--wait=false']);
    const result = (await handler(syncInput as never)) as { imports: { name: string; outcome: { type: string } }[] };
    // Assess 2: both in the table; the class is gone from the target too
    expect(result.imports.map((r) => `${r.name} ${r.outcome.type}`).sort()).toEqual(['small deleted', 'workers imported']);
    expect((await store.get<MachineDeployment>('MachineDeployment', ns, 'workers'))!.spec.replicas).toBe(3);
    expect(await store.get('MachineClass', ns, 'small')).toBeUndefined();
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
    await source.drained();
    expect(source.stats.dlq).toBe(0);
    expect(source.errors).toEqual([]);
    expect(denied).toEqual([]);
  });
});
