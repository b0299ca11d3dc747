/**
 * kubeadm bootstrap tokens (`abcdef.0123456789abcdef`): a public id and a secret, stored in the workload
 * cluster as a `bootstrap.kubernetes.io/token` Secret in kube-system with an expiration. One per joining
 * machine, renewed while it joins, as Cluster API's bootstrap provider does
 * (bootstrap/kubeadm/internal/controllers/token.go: createToken, refreshToken, shouldRotate at half the TTL;
 * 15 minutes by default). Formats from k8s.io/cluster-bootstrap token/api and token/util. New tokens are drawn by
 * the kubeadm adapter (adapters/kubeadm/bootstrap-tokens.ts); everything here only formats them.
 */

/** The token pattern of k8s.io/cluster-bootstrap (BootstrapTokenPattern). */
export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const TOKEN_SECRET_PREFIX = 'bootstrap-token-';
/** The group kubeadm's node bootstrap RBAC is bound to (CSR creation and auto-approval, kubeadm-certs). */
export const NODE_BOOTSTRAP_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
/** Cluster API's DefaultTokenTTL. */
export const DEFAULT_TOKEN_TTL_SECONDS = 15 * 60;

/** Labels on the token Secrets clusterless makes, so they are found again without the object store. */
export const TokenLabels = {
  managedBy: 'clusterless.dev/managed-by',
  machineUid: 'clusterless.dev/machine-uid',
  purpose: 'clusterless.dev/token-purpose',
} as const;

export type TokenPurpose = 'join' | 'uploaded-certs';

/** The characters of a token's id and secret, as k8s.io/cluster-bootstrap draws them (token/util). */
export const BOOTSTRAP_TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface BootstrapToken {
  id: string;
  secret: string;
}

export const tokenString = (t: BootstrapToken): string => `${t.id}.${t.secret}`;
export const tokenSecretName = (id: string): string => `${TOKEN_SECRET_PREFIX}${id}`;

/** RFC 3339 in UTC without fractions, as the token's expiration field wants. */
export const expirationAt = (now: Date, ttlSeconds: number): string => new Date(now.getTime() + ttlSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** CAPI's shouldRotate: renew once less than half the TTL is left (or the expiration cannot be read). */
export function needsRenewal(expiration: string | undefined, now: Date, ttlSeconds: number): boolean {
  const at = expiration === undefined ? NaN : Date.parse(expiration);
  return Number.isNaN(at) || at < now.getTime() + (ttlSeconds * 1000) / 2;
}

export interface TokenSecretOptions {
  token: BootstrapToken;
  expiration: string;
  description: string;
  purpose: TokenPurpose;
  machineUid?: string;
  /** A join token authenticates and signs cluster-info; the uploaded-certs proxy token does neither. */
  usages: boolean;
}

/** The Secret a bootstrap token is (k8s.io/cluster-bootstrap token/api: the data keys). */
export function tokenSecret(o: TokenSecretOptions): { metadata: { name: string; namespace: string; labels: Record<string, string> }; type: string; stringData: Record<string, string> } {
  return {
    metadata: {
      name: tokenSecretName(o.token.id),
      namespace: 'kube-system',
      labels: {
        [TokenLabels.managedBy]: 'clusterless',
        [TokenLabels.purpose]: o.purpose,
        ...(o.machineUid ? { [TokenLabels.machineUid]: o.machineUid } : {}),
      },
    },
    type: TOKEN_SECRET_TYPE,
    stringData: {
      'token-id': o.token.id,
      'token-secret': o.token.secret,
      expiration: o.expiration,
      description: o.description,
      ...(o.usages
        ? { 'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true', 'auth-extra-groups': NODE_BOOTSTRAP_GROUP }
        : {}),
    },
  };
}
