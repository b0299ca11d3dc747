/**
 * What the bootstrap asks of a workload cluster's API: join tokens (create, list, renew, delete) and the
 * certificates uploaded for control-plane joins (kubeadm-certs and the RBAC that lets bootstrap tokens read it).
 * The Kubernetes implementation talks to the API with the admin kubeconfig; every transport failure, timeout
 * or 5xx is a WorkloadUnavailableError, which the caller retries later.
 */
import {
  ApiException,
  CoreV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import { NODE_BOOTSTRAP_GROUP, TOKEN_SECRET_TYPE, TokenLabels, tokenSecret, tokenSecretName, type TokenPurpose, type TokenSecretOptions } from '../../bootstrap/tokens.js';
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
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const statusOf = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

function describe(err: unknown): string {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body);
    return `HTTP ${err.code}: ${(body ?? '').slice(0, 300)}`;
  }
  const e = err as Error & { cause?: { code?: string } };
  return `${e?.message ?? String(err)}${e?.cause?.code ? ` (${e.cause.code})` : ''}`;
}

const decode = (v: string | undefined) => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'));

/** The workload API through @kubernetes/client-node; `timeoutMs` bounds every call. */
export class KubernetesWorkloadBootstrapApi implements WorkloadBootstrapApi {
  private readonly core: CoreV1Api;
  private readonly rbac: RbacAuthorizationV1Api;

  constructor(
    kubeconfig: KubeConfig,
    private readonly where: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.core = kubeconfig.makeApiClient(CoreV1Api);
    this.rbac = kubeconfig.makeApiClient(RbacAuthorizationV1Api);
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
    const body = tokenSecret(options);
    await this.call('create bootstrap token', this.core.createNamespacedSecret({ namespace: NAMESPACE, body }), [409]);
  }

  async listTokens(): Promise<TokenInfo[]> {
    const list = await this.call(
      'list bootstrap tokens',
      this.core.listNamespacedSecret({ namespace: NAMESPACE, labelSelector: `${TokenLabels.managedBy}=clusterless`, fieldSelector: `type=${TOKEN_SECRET_TYPE}` }),
    );
    if (typeof list === 'number') return [];
    return list.items.flatMap((s: V1Secret) => {
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
    await this.call(
      'renew bootstrap token',
      this.core.patchNamespacedSecret({ name: tokenSecretName(id), namespace: NAMESPACE, body: { stringData: { expiration } } }, MERGE_PATCH),
    );
  }

  async deleteToken(id: string): Promise<void> {
    await this.call('delete bootstrap token', this.core.deleteNamespacedSecret({ name: tokenSecretName(id), namespace: NAMESPACE }), [404]);
  }

  async uploadCertificates(data: Record<string, string>, ownerTokenId: string): Promise<void> {
    const owner = await this.call('read the uploaded-certs token', this.core.readNamespacedSecret({ name: tokenSecretName(ownerTokenId), namespace: NAMESPACE }));
    if (typeof owner === 'number' || !owner.metadata?.uid) throw new WorkloadUnavailableError(`the token ${ownerTokenId} that owns ${KUBEADM_CERTS_SECRET} is missing in ${this.where}`);
    const body: V1Secret = {
      metadata: {
        name: KUBEADM_CERTS_SECRET,
        namespace: NAMESPACE,
        labels: { [TokenLabels.managedBy]: 'clusterless' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: tokenSecretName(ownerTokenId), uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      type: 'Opaque',
      data,
    };
    const created = await this.call('upload certificates', this.core.createNamespacedSecret({ namespace: NAMESPACE, body }), [409]);
    if (created === 409) await this.call('upload certificates', this.core.replaceNamespacedSecret({ name: KUBEADM_CERTS_SECRET, namespace: NAMESPACE, body }));
    // kubeadm's own upload-certs phase binds these too (copycerts.go createRBAC).
    await this.call(
      'create the kubeadm-certs role',
      this.rbac.createNamespacedRole({
        namespace: NAMESPACE,
        body: {
          metadata: { name: KUBEADM_CERTS_ROLE, namespace: NAMESPACE },
          rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: [KUBEADM_CERTS_SECRET] }],
        },
      }),
      [409],
    );
    await this.call(
      'bind the kubeadm-certs role',
      this.rbac.createNamespacedRoleBinding({
        namespace: NAMESPACE,
        body: {
          metadata: { name: KUBEADM_CERTS_ROLE, namespace: NAMESPACE },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: KUBEADM_CERTS_ROLE },
          subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: NODE_BOOTSTRAP_GROUP }],
        },
      }),
      [409],
    );
  }
}
