/**
 * The Secrets Manager requests the bootstrap code sends, captured from a run of the real bootstrapper
 * (functions/adapters/kubeadm/kubeadm-bootstrapper.ts) over the real adapter (adapters/secrets/secrets-manager-store.ts)
 * on moto_server, grouped by the function that runs each path: what that function's policy must allow, with the
 * names, tags and key the code really sends rather than a restatement of them.
 *
 * Which function runs which path: provision-machine (prepare, again when a step is retried, bindToInstance, and
 * release when a launch fails);
 * the reconciling tasks (reconcile-cluster and apply-plan: the workload kubeconfig, renew, release of a joined or
 * deleted machine, releaseCluster); the kubeconfig function (adminKubeconfig); the sweep (the workload kubeconfig).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../../functions/adapters/secrets/index.js';
import { clusterSpec } from '../../functions/api/cluster.js';
import { KubeadmBootstrapper } from '../../functions/adapters/kubeadm/index.js';
import { systemClock } from '../../functions/ports.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';
import { FakeWorkloadApi } from '../unit/bootstrap/fake-workload.js';

/** One request as the SDK sent it. */
export interface SecretRequest {
  /** The IAM action, e.g. secretsmanager:CreateSecret. */
  action: string;
  /** The secret's name (Name or SecretId). */
  name: string;
  /** The Tags of the request, as a map; empty when it has none. */
  tags: Record<string, string>;
  /** KmsKeyId of CreateSecret. */
  kmsKeyId?: string;
}

export type SecretCaller = 'provision' | 'reconciling' | 'kubeconfig' | 'sweep';

/** A client whose every request is appended to `into` before it is sent. */
function recordingClient(endpoint: string, into: SecretRequest[]): SecretsManagerClient {
  const client = createSecretsManagerClient(emulatorClientConfig(endpoint));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Name?: string; SecretId?: string; Tags?: { Key?: string; Value?: string }[]; KmsKeyId?: string };
      into.push({
        action: `secretsmanager:${String(context.commandName).replace(/Command$/, '')}`,
        name: input.Name ?? input.SecretId ?? '',
        tags: Object.fromEntries((input.Tags ?? []).map((t) => [t.Key, t.Value])),
        ...(input.KmsKeyId ? { kmsKeyId: input.KmsKeyId } : {}),
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordSecretRequests' },
  );
  return client;
}

export interface CaptureOptions {
  motoEndpoint: string;
  installationId: string;
  /** SECRETS_KMS_KEY_ARN as the stack sets it. */
  kmsKeyArn: string;
  /** INSTANCE_ARN_PREFIX as the stack sets it. */
  instanceArnPrefix: string;
}

/** Runs every path of the bootstrap that touches secrets, for one cluster, and returns each function's requests. */
export async function captureSecretRequests(o: CaptureOptions): Promise<Record<SecretCaller, SecretRequest[]>> {
  const requests: Record<SecretCaller, SecretRequest[]> = { provision: [], reconciling: [], kubeconfig: [], sweep: [] };
  const clients: SecretsManagerClient[] = [];
  const workload = new FakeWorkloadApi();
  // One bootstrapper per function, as each Lambda builds its own; no cache, so every read reaches Secrets Manager.
  const bootstrapperOf = (caller: SecretCaller) => {
    const client = recordingClient(o.motoEndpoint, requests[caller]);
    clients.push(client);
    return new KubeadmBootstrapper({
      secrets: new SecretsManagerSecretStore({ client, kmsKeyId: o.kmsKeyArn, installationId: o.installationId }),
      clock: systemClock,
      secretPrefix: `clusterless/${o.installationId}/`,
      instanceArnPrefix: o.instanceArnPrefix,
      cacheSeconds: 0,
      workloadApi: () => workload,
    });
  };
  const namespace = uniqueName('ns').toLowerCase().slice(0, 63);
  const clusterName = 'prod';
  const spec = clusterSpec.parse({
    controlPlaneEndpoint: { host: 'prod-cp.example.com' },
    provider: { aws: { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }] } },
  });
  const machine = (machineUid: string, role: 'control-plane' | 'worker', init = false) => ({
    namespace,
    clusterName,
    clusterUid: '3d0c8a52-5f0e-4b7e-9d55-6a0c1b2d3e4f',
    machineName: `${clusterName}-${machineUid}`,
    machineUid,
    role,
    version: 'v1.34.1',
    init,
    clusterSpec: spec,
  });
  const cluster = { namespace, clusterName };
  try {
    const provision = bootstrapperOf('provision');
    await provision.prepare(machine('cp-0', 'control-plane', true));
    await provision.bindToInstance({ ...cluster, machineUid: 'cp-0' }, 'i-0aaaaaaaaaaaaaaaa');
    await provision.prepare(machine('w-1', 'worker'));
    await provision.prepare(machine('cp-1', 'control-plane'));
    // A step retried after a timeout prepares the same machine again: its secret exists, so PutSecretValue.
    await provision.prepare(machine('w-1', 'worker'));
    await provision.release({ ...cluster, machineUid: 'w-1', clusterSpec: spec });

    const kubeconfig = bootstrapperOf('kubeconfig');
    await kubeconfig.adminKubeconfig(namespace, clusterName, spec);
    await kubeconfig.adminKubeconfig(namespace, 'not-launched-yet', spec);

    await bootstrapperOf('sweep').workloadKubeconfig(namespace, clusterName, spec);

    const reconciling = bootstrapperOf('reconciling');
    await reconciling.workloadKubeconfig(namespace, clusterName, spec);
    await reconciling.workloadKubeconfig(namespace, 'not-launched-yet', spec);
    await reconciling.renew(namespace, clusterName, spec, [{ machineUid: 'cp-1', role: 'control-plane' }]);
    await reconciling.release({ ...cluster, machineUid: 'cp-1', clusterSpec: spec });
    await reconciling.release({ ...cluster, machineUid: 'cp-0' });
    await reconciling.releaseCluster(namespace, clusterName);
  } finally {
    for (const c of clients) c.destroy();
  }
  return requests;
}
