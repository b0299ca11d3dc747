/**
 * The kubeadm bootstrap over Secrets Manager, built from the environment the stack sets (infra/constructs/
 * bootstrap-secrets.ts: SECRETS_KMS_KEY_ARN, the key every secret is encrypted with, and SECRETS_NAME_PREFIX;
 * INSTALLATION_ID, tagged on every secret; INSTANCE_ARN_PREFIX, to bind a machine's secret to its instance).
 * Shared by the functions that reach workload clusters: the tasks (bootstrap data, workload access) and the sweep
 * (node reads). The kubeconfig function only signs with a CA: secrets-deps.ts. Undefined without the key: such a host
 * does not bootstrap machines.
 */
import { KubeadmBootstrapper } from '../adapters/kubeadm/index.js';
import { INSTALLATION_ENV } from '../installation.js';
import { systemClock, type Clock, type MachineRole } from '../ports.js';
import type { Logger } from '../workflows/index.js';
import { installationIdFromEnvironment, secretStoreFromEnvironment } from './secrets-deps.js';

export { installationIdFromEnvironment };

/** What the stack's INSTANCE_ARN_PREFIX looks like: `arn:{partition}:ec2:{region}:{account}:instance/`. */
const INSTANCE_ARN_PREFIX = /^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:instance\/$/;

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
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`${INSTALLATION_ENV.nodeInstanceProfiles} must be a JSON object of role to instance profile`);
  const out: Partial<Record<MachineRole, string>> = {};
  for (const [role, profile] of Object.entries(parsed)) {
    if (role !== 'control-plane' && role !== 'worker')
      throw new Error(`${INSTALLATION_ENV.nodeInstanceProfiles} names an unknown role ${JSON.stringify(role)} (control-plane, worker)`);
    if (typeof profile !== 'string' || profile === '')
      throw new Error(`${INSTALLATION_ENV.nodeInstanceProfiles}: the profile of ${role} must be a non-empty string`);
    out[role] = profile;
  }
  return out;
}

/** INSTANCE_ARN_PREFIX, checked; undefined when unset (the secret of a machine is then bound to nothing). */
export function instanceArnPrefixFromEnvironment(env: NodeJS.ProcessEnv): string | undefined {
  const prefix = env[INSTALLATION_ENV.instanceArnPrefix];
  if (!prefix) return undefined;
  if (!INSTANCE_ARN_PREFIX.test(prefix))
    throw new Error(`${INSTALLATION_ENV.instanceArnPrefix} is ${JSON.stringify(prefix)}, not arn:{partition}:ec2:{region}:{account}:instance/`);
  return prefix;
}

/** With the key, INSTALLATION_ID is required: every secret this bootstrapper makes carries it. */
export function bootstrapperFromEnvironment(env: NodeJS.ProcessEnv, options: { clock?: Clock; log?: Logger } = {}): KubeadmBootstrapper | undefined {
  const store = secretStoreFromEnvironment(env);
  if (!store) return undefined;
  const instanceArnPrefix = instanceArnPrefixFromEnvironment(env);
  return new KubeadmBootstrapper({
    secrets: store.secrets,
    clock: options.clock ?? systemClock,
    ...(store.secretPrefix ? { secretPrefix: store.secretPrefix } : {}),
    ...(instanceArnPrefix ? { instanceArnPrefix } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
