/**
 * The kubeadm bootstrap over Secrets Manager, built from the environment the stack sets (infra/constructs/
 * bootstrap-secrets.ts: SECRETS_KMS_KEY_ARN, the key every secret is encrypted with, and SECRETS_NAME_PREFIX).
 * Shared by the functions that need a cluster's certificates: the tasks (bootstrap data, workload access) and
 * the HTTP API (the admin kubeconfig). Undefined without the key: such a host does not bootstrap machines.
 */
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../adapters/secrets/index.js';
import { KubeadmBootstrapper } from '../bootstrap/index.js';
import { SECRETS_ENV } from '../bootstrap/names.js';
import { systemClock, type Clock } from '../ports.js';
import type { Logger } from '../workflows/index.js';


export function bootstrapperFromEnvironment(env: NodeJS.ProcessEnv, options: { clock?: Clock; log?: Logger } = {}): KubeadmBootstrapper | undefined {
  const kmsKeyId = env[SECRETS_ENV.keyArn];
  if (!kmsKeyId) return undefined;
  return new KubeadmBootstrapper({
    secrets: new SecretsManagerSecretStore({ client: createSecretsManagerClient(), kmsKeyId }),
    clock: options.clock ?? systemClock,
    ...(env[SECRETS_ENV.namePrefix] ? { secretPrefix: env[SECRETS_ENV.namePrefix] } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
