/**
 * The kubeadm bootstrap over Secrets Manager, built from the environment the stack sets (infra/constructs/
 * bootstrap-secrets.ts: SECRETS_KMS_KEY_ARN, the key every secret is encrypted with, and SECRETS_NAME_PREFIX;
 * INSTALLATION_ID, tagged on every secret; INSTANCE_ARN_PREFIX, to bind a machine's secret to its instance).
 * Shared by the functions that need a cluster's certificates: the tasks (bootstrap data, workload access) and
 * the HTTP API (the admin kubeconfig). Undefined without the key: such a host does not bootstrap machines.
 */
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../adapters/secrets/index.js';
import { KubeadmBootstrapper } from '../adapters/kubeadm/index.js';
import { SECRETS_ENV } from '../bootstrap/names.js';
import { INSTALLATION_ENV, INSTALLATION_ID_PATTERN } from '../installation.js';
import { systemClock, type Clock, type MachineRole } from '../ports.js';
import type { Logger } from '../workflows/index.js';

/** What the stack's INSTANCE_ARN_PREFIX looks like: `arn:{partition}:ec2:{region}:{account}:instance/`. */
const INSTANCE_ARN_PREFIX = /^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:instance\/$/;

/** The installation id the stack set; a function that acts on cloud resources refuses to start without it. */
export function installationIdFromEnvironment(env: NodeJS.ProcessEnv): string {
  const id = env[INSTALLATION_ENV.id];
  if (!id)
    throw new Error(
      `${INSTALLATION_ENV.id} is not set: the function needs the installation id its stack made, to tag what it makes and to act only on what carries it`,
    );
  if (!INSTALLATION_ID_PATTERN.test(id)) throw new Error(`${INSTALLATION_ENV.id} is ${JSON.stringify(id)}, not an installation id (8 to 64 letters, digits and dashes)`);
  return id;
}

/** NODE_INSTANCE_PROFILES: `{"control-plane": ARN, "worker": ARN}`; an empty object when unset. */
export function nodeInstanceProfilesFromEnvironment(env: NodeJS.ProcessEnv): Partial<Record<MachineRole, string>> {
  const raw = env[INSTALLATION_ENV.nodeInstanceProfiles];
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${INSTALLATION_ENV.nodeInstanceProfiles} is not JSON: ${raw}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${INSTALLATION_ENV.nodeInstanceProfiles} must be a JSON object of role to instance profile`);
  const out: Partial<Record<MachineRole, string>> = {};
  for (const [role, profile] of Object.entries(parsed)) {
    if (role !== 'control-plane' && role !== 'worker') throw new Error(`${INSTALLATION_ENV.nodeInstanceProfiles} names an unknown role ${JSON.stringify(role)} (control-plane, worker)`);
    if (typeof profile !== 'string' || profile === '') throw new Error(`${INSTALLATION_ENV.nodeInstanceProfiles}: the profile of ${role} must be a non-empty string`);
    out[role] = profile;
  }
  return out;
}

/** INSTANCE_ARN_PREFIX, checked; undefined when unset (the secret of a machine is then bound to nothing). */
export function instanceArnPrefixFromEnvironment(env: NodeJS.ProcessEnv): string | undefined {
  const prefix = env[INSTALLATION_ENV.instanceArnPrefix];
  if (!prefix) return undefined;
  if (!INSTANCE_ARN_PREFIX.test(prefix)) throw new Error(`${INSTALLATION_ENV.instanceArnPrefix} is ${JSON.stringify(prefix)}, not arn:{partition}:ec2:{region}:{account}:instance/`);
  return prefix;
}

/** With the key, INSTALLATION_ID is required: every secret this bootstrapper makes carries it. */
export function bootstrapperFromEnvironment(env: NodeJS.ProcessEnv, options: { clock?: Clock; log?: Logger } = {}): KubeadmBootstrapper | undefined {
  const kmsKeyId = env[SECRETS_ENV.keyArn];
  if (!kmsKeyId) return undefined;
  const installationId = installationIdFromEnvironment(env);
  const instanceArnPrefix = instanceArnPrefixFromEnvironment(env);
  return new KubeadmBootstrapper({
    secrets: new SecretsManagerSecretStore({ client: createSecretsManagerClient(), kmsKeyId, installationId }),
    clock: options.clock ?? systemClock,
    ...(env[SECRETS_ENV.namePrefix] ? { secretPrefix: env[SECRETS_ENV.namePrefix] } : {}),
    ...(instanceArnPrefix ? { instanceArnPrefix } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
