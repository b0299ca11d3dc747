/**
 * Secret names: everything under `clusterless/{namespace}/{cluster}/`, the prefix the control plane's IAM
 * policies and KMS key policy allow (infra/constructs/bootstrap-secrets.ts). Machines' bootstrap secrets are
 * under `machines/`, the only part an instance role may read and delete; the CAs are not.
 */
export const DEFAULT_SECRET_PREFIX = 'clusterless/';

/** The environment variables that name the secrets' KMS key and their name prefix (the stack sets them). */
export const SECRETS_ENV = { keyArn: 'SECRETS_KMS_KEY_ARN', namePrefix: 'SECRETS_NAME_PREFIX' } as const;

export interface SecretNames {
  certificates(namespace: string, clusterName: string): string;
  machine(namespace: string, clusterName: string, machineUid: string): string;
}

export function secretNames(prefix: string = DEFAULT_SECRET_PREFIX): SecretNames {
  const base = (ns: string, cluster: string) => `${prefix.endsWith('/') ? prefix : `${prefix}/`}${ns}/${cluster}`;
  return {
    certificates: (ns, cluster) => `${base(ns, cluster)}/certificates`,
    machine: (ns, cluster, uid) => `${base(ns, cluster)}/machines/${uid}`,
  };
}
