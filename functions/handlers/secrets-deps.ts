/**
 * The clusters' certificates in Secrets Manager, from the environment the stack sets (infra/constructs/
 * bootstrap-secrets.ts: SECRETS_KMS_KEY_ARN, the key every secret is encrypted with, and SECRETS_NAME_PREFIX;
 * INSTALLATION_ID, tagged on every secret). Kept apart from bootstrap-deps.ts, which adds the kubeadm bootstrap and with
 * it the Kubernetes client: the kubeconfig function only signs with a cluster's CA, and its bundle leaves that client
 * out (bench/coldstart.ts).
 */
import { ClusterCa } from '../adapters/kubeadm/cluster-ca.js';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../adapters/secrets/index.js';
import { SECRETS_ENV, secretNames } from '../bootstrap/names.js';
import { INSTALLATION_ENV, INSTALLATION_ID_PATTERN } from '../installation.js';
import { systemClock, type Clock } from '../ports.js';

/** The installation id the stack set; a function that acts on cloud resources refuses to start without it. */
export function installationIdFromEnvironment(env: NodeJS.ProcessEnv): string {
  const id = env[INSTALLATION_ENV.id];
  if (!id)
    throw new Error(
      `${INSTALLATION_ENV.id} is not set: the function needs the installation id its stack made, to tag what it makes and to act only on what carries it`,
    );
  if (!INSTALLATION_ID_PATTERN.test(id))
    throw new Error(`${INSTALLATION_ENV.id} is ${JSON.stringify(id)}, not an installation id (8 to 64 letters, digits and dashes)`);
  return id;
}

/**
 * The secret store of this installation and the names' prefix; undefined without the key. With the key,
 * INSTALLATION_ID is required: every secret made through the store carries it.
 */
export function secretStoreFromEnvironment(env: NodeJS.ProcessEnv): { secrets: SecretsManagerSecretStore; secretPrefix?: string } | undefined {
  const kmsKeyId = env[SECRETS_ENV.keyArn];
  if (!kmsKeyId) return undefined;
  const installationId = installationIdFromEnvironment(env);
  return {
    secrets: new SecretsManagerSecretStore({ client: createSecretsManagerClient(), kmsKeyId, installationId }),
    ...(env[SECRETS_ENV.namePrefix] ? { secretPrefix: env[SECRETS_ENV.namePrefix] } : {}),
  };
}

/** The clusters' CAs (and the kubeconfigs signed with them) as the kubeadm bootstrap keeps them; undefined without the key. */
export function clusterCaFromEnvironment(env: NodeJS.ProcessEnv, options: { clock?: Clock } = {}): ClusterCa | undefined {
  const store = secretStoreFromEnvironment(env);
  if (!store) return undefined;
  return new ClusterCa({ secrets: store.secrets, clock: options.clock ?? systemClock, names: secretNames(store.secretPrefix) });
}
