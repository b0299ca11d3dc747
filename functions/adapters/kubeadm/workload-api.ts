/**
 * What the bootstrap asks of a workload cluster's API: join tokens (create, list, renew, delete) and the
 * certificates uploaded for control-plane joins (kubeadm-certs and the RBAC that lets bootstrap tokens read it).
 * The Kubernetes implementation talks to the API with the admin kubeconfig; every transport failure, timeout
 * or 5xx is a WorkloadUnavailableError, which the caller retries later.
 */
import {
  NODE_BOOTSTRAP_GROUP,
  TOKEN_SECRET_TYPE,
  TokenLabels,
  tokenSecret,
  tokenSecretName,
  type TokenPurpose,
  type TokenSecretOptions,
} from '../../bootstrap/tokens.js';
import type { KubeconfigSource } from '../kubernetes-client/kubeconfig.js';
import { KubernetesApiError, KubernetesClient, resourcePath } from '../kubernetes-client/rest-client.js';
import type { List, Role, RoleBinding, Secret } from '../kubernetes-client/types.js';
import { KUBEADM_CERTS_ROLE, KUBEADM_CERTS_SECRET } from './uploaded-certs.js';

export class WorkloadUnavailableError extends Error {
  override name = 'WorkloadUnavailableError';
}

export interface TokenInfo {
  id: string;
  purpose?: TokenPurpose;
  machineUid?: string;
  expiration?: string;
}

export interface WorkloadBootstrapApi {
  createToken(options: TokenSecretOptions): Promise<void>;
  /** The token Secrets clusterless made (by label). */
  listTokens(): Promise<TokenInfo[]>;
  setTokenExpiration(id: string, expiration: string): Promise<void>;
  /** No error when it is gone. */
  deleteToken(id: string): Promise<void>;
  /** Writes kubeadm-certs (owned by the token `ownerTokenId`, so it goes when that token expires) and its RBAC. */
  uploadCertificates(data: Record<string, string>, ownerTokenId: string): Promise<void>;
}

const NAMESPACE = 'kube-system';
const secrets = (name?: string) => resourcePath('', 'v1', 'secrets', { namespace: NAMESPACE, ...(name !== undefined ? { name } : {}) });
const rbac = (resource: 'roles' | 'rolebindings') => resourcePath('rbac.authorization.k8s.io', 'v1', resource, { namespace: NAMESPACE });

const statusOf = (err: unknown) => (err instanceof KubernetesApiError ? err.code : undefined);

function describe(err: unknown): string {
  if (err instanceof KubernetesApiError) return `HTTP ${err.code}: ${(err.status ? JSON.stringify(err.status) : err.message).slice(0, 300)}`;
  const e = err as Error & { cause?: { code?: string } };
  return `${e?.message ?? String(err)}${e?.cause?.code ? ` (${e.cause.code})` : ''}`;
}

const decode = (v: string | undefined) => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'));

/** The workload API through the project's REST client (kubernetes-client/); `timeoutMs` bounds every call. */
export class KubernetesWorkloadBootstrapApi implements WorkloadBootstrapApi {
  private readonly api: KubernetesClient;

  constructor(
    kubeconfig: KubeconfigSource,
    private readonly where: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.api = new KubernetesClient(kubeconfig, { timeoutMs });
  }

  /** Runs one call; a refusal the caller expects (`ok` codes) comes back as its code, the rest are errors. */
  private async call<T>(what: string, p: Promise<T>, ok: number[] = []): Promise<T | number> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkloadUnavailableError(`${what} in ${this.where}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([p, deadline]);
    } catch (err) {
      const code = statusOf(err);
      if (code !== undefined && ok.includes(code)) return code;
      if (err instanceof WorkloadUnavailableError) throw err;
      throw new WorkloadUnavailableError(`${what} in ${this.where}: ${describe(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async createToken(options: TokenSecretOptions): Promise<void> {
    const body: Secret = { apiVersion: 'v1', kind: 'Secret', ...tokenSecret(options) };
    await this.call('create bootstrap token', this.api.create(secrets(), body), [409]);
  }

  async listTokens(): Promise<TokenInfo[]> {
    const list = await this.call(
      'list bootstrap tokens',
      this.api.get<List<Secret>>(secrets(), { labelSelector: `${TokenLabels.managedBy}=clusterless`, fieldSelector: `type=${TOKEN_SECRET_TYPE}` }),
    );
    if (typeof list === 'number') return [];
    return (list.items ?? []).flatMap((s) => {
      const id = decode(s.data?.['token-id']);
      if (!id) return [];
      const labels = s.metadata?.labels ?? {};
      const expiration = decode(s.data?.['expiration']);
      return [
        {
          id,
          ...(labels[TokenLabels.purpose] ? { purpose: labels[TokenLabels.purpose] as TokenPurpose } : {}),
          ...(labels[TokenLabels.machineUid] ? { machineUid: labels[TokenLabels.machineUid] } : {}),
          ...(expiration ? { expiration } : {}),
        },
      ];
    });
  }

  async setTokenExpiration(id: string, expiration: string): Promise<void> {
    await this.call('renew bootstrap token', this.api.patch<Secret>(secrets(tokenSecretName(id)), { stringData: { expiration } }, 'merge'));
  }

  async deleteToken(id: string): Promise<void> {
    await this.call('delete bootstrap token', this.api.delete(secrets(tokenSecretName(id))), [404]);
  }

  async uploadCertificates(data: Record<string, string>, ownerTokenId: string): Promise<void> {
    const owner = await this.call('read the uploaded-certs token', this.api.get<Secret>(secrets(tokenSecretName(ownerTokenId))));
    if (typeof owner === 'number' || !owner.metadata?.uid)
      throw new WorkloadUnavailableError(`the token ${ownerTokenId} that owns ${KUBEADM_CERTS_SECRET} is missing in ${this.where}`);
    const body: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: KUBEADM_CERTS_SECRET,
        namespace: NAMESPACE,
        labels: { [TokenLabels.managedBy]: 'clusterless' },
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Secret', name: tokenSecretName(ownerTokenId), uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true },
        ],
      },
      type: 'Opaque',
      data,
    };
    const created = await this.call('upload certificates', this.api.create(secrets(), body), [409]);
    if (created === 409) await this.call('upload certificates', this.api.replace(secrets(KUBEADM_CERTS_SECRET), body));
    // kubeadm's own upload-certs phase binds these too (copycerts.go createRBAC).
    await this.call(
      'create the kubeadm-certs role',
      this.api.create(rbac('roles'), {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: KUBEADM_CERTS_ROLE, namespace: NAMESPACE },
        rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: [KUBEADM_CERTS_SECRET] }],
      } satisfies Role),
      [409],
    );
    await this.call(
      'bind the kubeadm-certs role',
      this.api.create(rbac('rolebindings'), {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: KUBEADM_CERTS_ROLE, namespace: NAMESPACE },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: KUBEADM_CERTS_ROLE },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: NODE_BOOTSTRAP_GROUP }],
      } satisfies RoleBinding),
      [409],
    );
  }
}
