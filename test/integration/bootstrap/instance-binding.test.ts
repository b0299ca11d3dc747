/**
 * A machine's bootstrap secret on moto_server (EC2 and Secrets Manager), through the provision task's steps: made
 * before the launch with the machine's tags (installation, cluster, machine uid, role), and bound to its instance
 * (tagged with the instance's ARN) as soon as the launch step knows the instance id, and again by the first look at
 * the instance only. On AWS the node roles may then read and delete only the secret whose instance-ARN tag is their
 * own instance's (infra: ec2:SourceInstanceARN).
 */
import { DescribeSecretCommand, UntagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { Ec2MachineProvider } from '../../../functions/adapters/ec2/index.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../../../functions/adapters/secrets/index.js';
import { handleRequest, jsonRequest } from '../../../functions/api/http/index.js';
import type { Machine } from '../../../functions/api/machine.js';
import { KubeadmBootstrapper } from '../../../functions/adapters/kubeadm/index.js';
import { noWorkloadsDrainer, systemClock } from '../../../functions/ports.js';
import { checkInstance, launch, recordIntent } from '../../../functions/workflows/provision-machine.js';
import { scaledTimer, silentLogger, workflowDeps } from '../../../functions/workflows/index.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { API, NS_PATH, clusterManifests } from '../../support/control-plane.js';
import { createMotoNetwork, motoEc2Client, type MotoNetwork } from '../../support/ec2.js';
import { INSTANCE_ARN_PREFIX, KMS_KEY_ARN } from './harness.js';

const ec2 = motoEc2Client(motoEndpoint());
const secretsClient = createSecretsManagerClient(emulatorClientConfig(motoEndpoint()));
let network: MotoNetwork;

beforeAll(async () => {
  network = await createMotoNetwork(ec2);
});

afterAll(() => {
  ec2.destroy();
  secretsClient.destroy();
});

/** The provision task's dependencies with the kubeadm bootstrap, and an aws cluster with an endpoint. */
async function world(instanceArnPrefix: string | undefined) {
  const installationId = uniqueName('bind');
  const store = new MemoryStore({ clock: systemClock });
  const bootstrap = new KubeadmBootstrapper({
    secrets: new SecretsManagerSecretStore({ client: secretsClient, kmsKeyId: KMS_KEY_ARN, installationId }),
    clock: systemClock,
    secretPrefix: `clusterless/${installationId}/`,
    ...(instanceArnPrefix ? { instanceArnPrefix } : {}),
  });
  const deps = workflowDeps({
    store,
    provider: new Ec2MachineProvider({ client: ec2, clock: systemClock, installationId }),
    nodes: { listNodes: async () => [] },
    drainer: noWorkloadsDrainer,
    clock: systemClock,
    timer: scaledTimer(1),
    holder: () => 'binding-test',
    log: silentLogger,
    bootstrap,
  });
  const name = uniqueName('bind').slice(0, 40);
  const api = (method: string, path: string, body?: unknown) => handleRequest(jsonRequest(method, path, body), { store });
  for (const m of clusterManifests({ name, network, controlPlaneReplicas: 1, workers: 0 })) {
    if (m.plural !== 'machineclasses' && m.plural !== 'clusters') continue;
    const object =
      m.plural === 'clusters'
        ? { ...m.object, spec: { ...(m.object.spec as object), controlPlaneEndpoint: { host: `${name}.k8s.test`, port: 6443 } } }
        : m.object;
    const r = await api('POST', `${NS_PATH}/default/${m.plural}`, object);
    expect(r.status, r.body).toBe(201);
  }
  // The first control-plane machine: it initialises the cluster, so its bootstrap needs no workload API.
  const r = await api('POST', `${NS_PATH}/default/machines`, {
    apiVersion: API,
    kind: 'Machine',
    metadata: { name: `${name}-cp`, namespace: 'default', labels: { 'clusterless.dev/control-plane': '' } },
    spec: { clusterName: name, version: 'v1.31.2', machineClassRef: { name: `${name}-class` } },
  });
  expect(r.status, r.body).toBe(201);
  const machine = (await store.get<Machine>('Machine', 'default', `${name}-cp`))!;
  const input = { namespace: 'default', clusterName: name, machineName: machine.metadata.name, machineUid: machine.metadata.uid! };
  const secretName = bootstrap.secretNames.machine('default', name, machine.metadata.uid!);
  const secretTags = async () => {
    const tags = (await secretsClient.send(new DescribeSecretCommand({ SecretId: secretName }))).Tags ?? [];
    return Object.fromEntries(tags.map((t) => [t.Key!, t.Value!]));
  };
  return { installationId, name, deps, store, machine, input, secretName, secretTags };
}

describe("a machine's bootstrap secret (moto)", () => {
  it("carries the installation, cluster, machine uid and role, and its instance's ARN once the launch step knows the instance", async () => {
    // Prepare
    const w = await world(INSTANCE_ARN_PREFIX);
    await recordIntent(w.deps, w.input);
    // Act
    const { instanceId } = await launch(w.deps, w.input);
    // Assess
    expect(instanceId).toMatch(/^i-/);
    expect(await w.secretTags()).toEqual({
      'clusterless.dev/installation': w.installationId,
      'clusterless.dev/cluster': `default/${w.name}`,
      'clusterless.dev/machine-uid': w.machine.metadata.uid,
      'clusterless.dev/machine-name': w.machine.metadata.name,
      'clusterless.dev/role': 'control-plane',
      'clusterless.dev/instance-arn': `${INSTANCE_ARN_PREFIX}${instanceId}`,
    });
  });

  it('binds it on the next look at the instance when the launch step died before binding it', async () => {
    // Prepare: the secret is made and the instance launched, but its ARN tag is taken away (a step that died).
    const w = await world(INSTANCE_ARN_PREFIX);
    await recordIntent(w.deps, w.input);
    const { instanceId } = await launch(w.deps, w.input);
    await secretsClient.send(new UntagResourceCommand({ SecretId: w.secretName, TagKeys: ['clusterless.dev/instance-arn'] }));
    expect(await w.secretTags()).not.toHaveProperty(['clusterless.dev/instance-arn']);
    // Act: the next execution's look at the instance
    await checkInstance(w.deps, w.input);
    // Assess
    expect((await w.secretTags())['clusterless.dev/instance-arn']).toBe(`${INSTANCE_ARN_PREFIX}${instanceId}`);
  });

  it('is tagged by the first look at the instance only, not by every later look while the instance boots', async () => {
    // Prepare: the launch step bound the secret; count TagResource from here on.
    const w = await world(INSTANCE_ARN_PREFIX);
    await recordIntent(w.deps, w.input);
    await launch(w.deps, w.input);
    const tagged: string[] = [];
    const name = `count-tag-resource-${w.name}`;
    secretsClient.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'TagResourceCommand') tagged.push((args.input as { SecretId: string }).SecretId);
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      // Act: the first look of the execution, then later ones (the state machine passes the polls so far).
      await checkInstance(w.deps, { ...w.input, polls: 0 });
      for (const polls of [1, 2, 10]) await checkInstance(w.deps, { ...w.input, polls });
      // Assess
      expect(tagged).toEqual([w.secretName]);
    } finally {
      secretsClient.middlewareStack.remove(name);
    }
  });

  it('is bound to nothing on a host that cannot tell instance ARNs', async () => {
    const w = await world(undefined);
    await recordIntent(w.deps, w.input);
    await launch(w.deps, w.input);
    expect(await w.secretTags()).not.toHaveProperty(['clusterless.dev/instance-arn']);
  });
});
