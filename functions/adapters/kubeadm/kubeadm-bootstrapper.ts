/**
 * The kubeadm bootstrap of machines (DESIGN section 6), Cluster API's kubeadm bootstrap provider and CAPA's
 * secure user data in one place:
 * - the cluster's certificates are made once, on the first machine's launch, and kept in the secret store;
 * - each machine gets a bootstrap secret (its cloud-init document: kubeadm init for the machine that
 *   initialises the control plane, kubeadm join with a token of its own for the others, and the certificate key
 *   for control-plane joins) and user data that only fetches and deletes that secret;
 * - join tokens live DEFAULT_TOKEN_TTL_SECONDS and are renewed while their machine joins
 *   (cluster-api bootstrap/kubeadm/internal/controllers/kubeadmconfig_controller.go, refreshBootstrapTokenIfNeeded);
 * - what is left of a machine's bootstrap is deleted once its node joined or it is gone;
 * - a machine's secret is tagged with its cluster, machine uid and role when made (the store adds the
 *   installation), and with its instance's ARN once the instance exists: on AWS the node roles may read and delete
 *   only a secret whose instance-ARN tag is their own instance's (infra: ec2:SourceInstanceARN), so a node can
 *   fetch no other machine's bootstrap data.
 */
import type { ClusterSpec } from '../../api/cluster.js';
import { bootstrapsWithKubeadm } from '../../api/providers/index.js';
import { renderUserData } from '../../bootstrap/boothook.js';
import { renderCloudConfig } from '../../bootstrap/cloud-config.js';
import {
  parseKubernetesVersion,
  renderInitConfiguration,
  renderJoinConfiguration,
  UnsupportedVersionError,
  type KubeadmCluster,
} from '../../bootstrap/kubeadm-config.js';
import type { Endpoint } from '../../bootstrap/kubeconfig.js';
import { secretNames, type SecretNames } from '../../bootstrap/names.js';
import type { ClusterCertificates } from '../../bootstrap/pki.js';
import { DEFAULT_TOKEN_TTL_SECONDS, expirationAt, needsRenewal } from '../../bootstrap/tokens.js';
import {
  InvalidSpecError,
  ThrottledError,
  type BootstrapRequest,
  type Clock,
  type MachineBootstrapper,
  type MachineRole,
  type SecretStore,
} from '../../ports.js';
import { TagKeys, certificatesSecretTags, clusterTagValue } from '../aws/tags.js';
import { loadKubeconfig, type Kubeconfig } from '../kubernetes-client/kubeconfig.js';
import { generateBootstrapToken } from './bootstrap-tokens.js';
import { caCertHash, generateClusterCertificates, serializeCertificates } from './certificates.js';
import { ClusterCa, WORKLOAD_CREDENTIALS_SECONDS } from './cluster-ca.js';
import { uploadedCertsData } from './uploaded-certs.js';
import { KubernetesWorkloadBootstrapApi, WorkloadUnavailableError, type TokenInfo, type WorkloadBootstrapApi } from './workload-api.js';

/** Secrets Manager's limit for a secret value. */
export const MAX_SECRET_BYTES = 65_536;
export { WORKLOAD_CREDENTIALS_SECONDS };

interface Log {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface KubeadmBootstrapperOptions {
  secrets: SecretStore;
  clock: Clock;
  /** @default 'clusterless/' */
  secretPrefix?: string;
  /** @default DEFAULT_TOKEN_TTL_SECONDS */
  tokenTtlSeconds?: number;
  /**
   * The kubeconfig the control plane reaches a workload API with (tests: a local kube-apiserver).
   * @default - an admin kubeconfig for the cluster's controlPlaneEndpoint, signed by its CA
   */
  workloadKubeconfig?: (namespace: string, clusterName: string) => string | undefined | Promise<string | undefined>;
  /** @default - the Kubernetes API through the project's REST client (KubernetesWorkloadBootstrapApi) */
  workloadApi?: (kubeconfig: Kubeconfig, where: string) => WorkloadBootstrapApi;
  /** How long certificates read from the secret store are kept in memory. @default 300 */
  cacheSeconds?: number;
  log?: Log;
  /**
   * `arn:{partition}:ec2:{region}:{account}:instance/` (INSTANCE_ARN_PREFIX on AWS), or how to learn it: a
   * machine's secret is bound to the ARN of its instance (bindToInstance). Undefined (or a function that answers
   * undefined) skips the binding.
   * @default - no binding
   */
  instanceArnPrefix?: string | (() => Promise<string | undefined>);
}

const encoder = new TextEncoder();

export class KubeadmBootstrapper implements MachineBootstrapper {
  private readonly secrets: SecretStore;
  private readonly clock: Clock;
  private readonly names: SecretNames;
  readonly tokenTtlSeconds: number;
  /** The certificates as kept in the secret store, and the kubeconfigs signed with them. */
  private readonly ca: ClusterCa;
  private readonly apis = new Map<string, { source: string; api: WorkloadBootstrapApi }>();

  constructor(private readonly options: KubeadmBootstrapperOptions) {
    this.secrets = options.secrets;
    this.clock = options.clock;
    this.names = secretNames(options.secretPrefix);
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    this.ca = new ClusterCa({
      secrets: this.secrets,
      clock: this.clock,
      names: this.names,
      ...(options.cacheSeconds !== undefined ? { cacheSeconds: options.cacheSeconds } : {}),
    });
  }

  /** The secret names this bootstrapper uses (for tests and cleanup tools). */
  get secretNames(): SecretNames {
    return this.names;
  }

  async prepare(req: BootstrapRequest): Promise<{ userData: string }> {
    if (!bootstrapsWithKubeadm(req.clusterSpec.provider))
      throw new InvalidSpecError(`cluster ${req.namespace}/${req.clusterName}: its provider is not bootstrapped with kubeadm`);
    // A process machine (local/process) reads its certificates from the secret store itself and boots no
    // cloud-init: its user data names the secret only, under a region that stands for none.
    const region = req.clusterSpec.provider.aws?.region ?? 'local';
    const endpoint = req.clusterSpec.controlPlaneEndpoint;
    if (!endpoint)
      throw new InvalidSpecError(
        `cluster ${req.namespace}/${req.clusterName} has no spec.controlPlaneEndpoint: set it to the DNS name of the load balancer in front of the control plane`,
      );
    try {
      parseKubernetesVersion(req.version);
    } catch (err) {
      if (err instanceof UnsupportedVersionError) throw new InvalidSpecError(`machine ${req.machineName}: ${err.message}`, { cause: err });
      throw err;
    }
    const certs = await this.ensureCertificates(req.namespace, req.clusterName, req.clusterUid);
    const cluster = kubeadmCluster(req.clusterName, req.version, endpoint, req.clusterSpec);
    const token = generateBootstrapToken();
    let kubeadmConfig: string;
    if (req.init) {
      kubeadmConfig = renderInitConfiguration(cluster, {
        token,
        ttlSeconds: this.tokenTtlSeconds,
        ...(req.taints ? { taints: req.taints } : {}),
        ...(req.nodeLabels ? { nodeLabels: req.nodeLabels } : {}),
      });
    } else {
      const controlPlane = req.role === 'control-plane';
      await this.withWorkload(req.namespace, req.clusterName, req.clusterSpec, `prepare the join of machine ${req.machineName}`, async (api) => {
        await api.createToken({
          token,
          expiration: expirationAt(this.clock.now(), this.tokenTtlSeconds),
          description: `clusterless: join of machine ${req.namespace}/${req.machineName}`,
          purpose: 'join',
          machineUid: req.machineUid,
          usages: true,
        });
        if (controlPlane) await this.ensureUploadedCertificates(api, certs, await api.listTokens(), true);
      });
      kubeadmConfig = renderJoinConfiguration(cluster, {
        token,
        caCertHashes: [caCertHash(certs.ca.cert)],
        ...(controlPlane ? { certificateKey: certs.certificateKey } : {}),
        ...(req.taints ? { taints: req.taints } : {}),
        ...(req.nodeLabels ? { nodeLabels: req.nodeLabels } : {}),
      });
    }
    const document = renderCloudConfig({ version: req.version, mode: req.init ? 'init' : 'join', kubeadmConfig, ...(req.init ? { certificates: certs } : {}) });
    const bytes = encoder.encode(document);
    if (bytes.length > MAX_SECRET_BYTES)
      throw new InvalidSpecError(
        `the bootstrap data of machine ${req.machineName} is ${bytes.length} bytes; Secrets Manager holds at most ${MAX_SECRET_BYTES}`,
      );
    const secretId = this.names.machine(req.namespace, req.clusterName, req.machineUid);
    await this.secrets.put(secretId, bytes, {
      [TagKeys.cluster]: clusterTagValue(req.namespace, req.clusterName),
      [TagKeys.machineUid]: req.machineUid,
      [TagKeys.machineName]: req.machineName,
      [TagKeys.role]: req.role,
    });
    return { userData: renderUserData({ secretId, region }) };
  }

  async bindToInstance(target: { namespace: string; clusterName: string; machineUid: string }, instanceId: string): Promise<void> {
    const option = this.options.instanceArnPrefix;
    const prefix = typeof option === 'function' ? await option() : option;
    if (!prefix) return;
    await this.secrets.tag(this.names.machine(target.namespace, target.clusterName, target.machineUid), { [TagKeys.instanceArn]: `${prefix}${instanceId}` });
  }

  async release(target: { namespace: string; clusterName: string; machineUid: string; clusterSpec?: ClusterSpec }): Promise<void> {
    await this.secrets.delete(this.names.machine(target.namespace, target.clusterName, target.machineUid));
    // Note: only when the caller knows the workload API answers (the node just joined). A machine that goes
    // during a teardown has nobody to ask, and its token expires by itself within the TTL.
    if (!target.clusterSpec) return;
    try {
      await this.withWorkload(target.namespace, target.clusterName, target.clusterSpec, 'delete join tokens', async (api) => {
        for (const t of await api.listTokens()) if (t.purpose === 'join' && t.machineUid === target.machineUid) await api.deleteToken(t.id);
      });
    } catch (err) {
      if (!(err instanceof ThrottledError)) throw err;
      this.options.log?.warn('join tokens of a joined machine not deleted; they expire by themselves', {
        namespace: target.namespace,
        clusterName: target.clusterName,
        error: err.message,
      });
    }
  }

  async renew(
    namespace: string,
    clusterName: string,
    clusterSpec: ClusterSpec,
    joining: readonly { machineUid: string; role: MachineRole }[],
  ): Promise<{ requeueAfterSeconds?: number }> {
    if (joining.length === 0 || !bootstrapsWithKubeadm(clusterSpec.provider)) return {};
    const requeue = { requeueAfterSeconds: Math.max(1, Math.floor(this.tokenTtlSeconds / 3)) };
    const certs = await this.certificates(namespace, clusterName);
    if (!certs) return requeue;
    const uids = new Set(joining.map((j) => j.machineUid));
    const now = this.clock.now();
    try {
      await this.withWorkload(namespace, clusterName, clusterSpec, 'renew join tokens', async (api) => {
        const tokens = await api.listTokens();
        for (const t of tokens.filter((x) => x.purpose === 'join' && x.machineUid)) {
          if (!uids.has(t.machineUid!)) await api.deleteToken(t.id);
          else if (needsRenewal(t.expiration, now, this.tokenTtlSeconds)) await api.setTokenExpiration(t.id, expirationAt(now, this.tokenTtlSeconds));
        }
        if (joining.some((j) => j.role === 'control-plane')) await this.ensureUploadedCertificates(api, certs, tokens, false);
      });
    } catch (err) {
      if (!(err instanceof ThrottledError)) throw err;
      this.options.log?.warn('join tokens not renewed now; tried again soon', { namespace, clusterName, error: err.message });
    }
    return requeue;
  }

  async releaseCluster(namespace: string, clusterName: string): Promise<void> {
    await this.secrets.delete(this.names.certificates(namespace, clusterName));
    this.ca.forget(namespace, clusterName);
  }

  /** A client certificate of the cluster's etcd CA, for reading and changing its members (ClusterCa). */
  etcdClientCredentials(namespace: string, clusterName: string): ReturnType<ClusterCa['etcdClientCredentials']> {
    return this.ca.etcdClientCredentials(namespace, clusterName);
  }

  async adminKubeconfig(namespace: string, clusterName: string, clusterSpec: ClusterSpec, validitySeconds?: number): Promise<string | undefined> {
    return this.ca.adminKubeconfig(namespace, clusterName, clusterSpec, validitySeconds);
  }

  /**
   * The kubeconfig the control plane itself uses for a workload cluster (node reads, drains, tokens): a short-lived
   * admin certificate, remade at half its life. Undefined when the cluster has no certificates or no endpoint.
   */
  async workloadKubeconfig(namespace: string, clusterName: string, clusterSpec: ClusterSpec | undefined): Promise<string | undefined> {
    if (this.options.workloadKubeconfig) return this.options.workloadKubeconfig(namespace, clusterName);
    return this.ca.workloadKubeconfig(namespace, clusterName, clusterSpec);
  }

  /** The cluster's certificates, or undefined when none were made yet. */
  async certificates(namespace: string, clusterName: string): Promise<ClusterCertificates | undefined> {
    return this.ca.certificates(namespace, clusterName);
  }

  /** The cluster's certificates, made now if there are none; two launches at once agree on the first. */
  async ensureCertificates(namespace: string, clusterName: string, clusterUid?: string): Promise<ClusterCertificates> {
    const existing = await this.certificates(namespace, clusterName);
    if (existing) return existing;
    const made = await generateClusterCertificates(this.clock.now());
    const name = this.names.certificates(namespace, clusterName);
    const created = await this.secrets.create(name, encoder.encode(serializeCertificates(made)), certificatesSecretTags(namespace, clusterName, clusterUid));
    if (created) {
      this.ca.remember(namespace, clusterName, made);
      return made;
    }
    const winner = await this.certificates(namespace, clusterName);
    if (!winner) throw new ThrottledError(`the certificates of ${namespace}/${clusterName} exist but cannot be read yet; retry`);
    return winner;
  }

  /** kubeadm-certs for control-plane joins, owned by a proxy token renewed like join tokens. */
  private async ensureUploadedCertificates(api: WorkloadBootstrapApi, certs: ClusterCertificates, tokens: TokenInfo[], upload: boolean): Promise<void> {
    const now = this.clock.now();
    const expiration = expirationAt(now, this.tokenTtlSeconds);
    const proxy = tokens.find((t) => t.purpose === 'uploaded-certs');
    if (!proxy) {
      const token = generateBootstrapToken();
      await api.createToken({
        token,
        expiration,
        description: 'clusterless: owns kubeadm-certs and gives it its TTL',
        purpose: 'uploaded-certs',
        usages: false,
      });
      await api.uploadCertificates(uploadedCertsData(certs), token.id);
      return;
    }
    if (needsRenewal(proxy.expiration, now, this.tokenTtlSeconds)) await api.setTokenExpiration(proxy.id, expiration);
    if (upload) await api.uploadCertificates(uploadedCertsData(certs), proxy.id);
  }

  /** Runs `fn` against the cluster's workload API; an unreachable API is a ThrottledError (retried with jitter). */
  private async withWorkload(
    namespace: string,
    clusterName: string,
    spec: ClusterSpec,
    what: string,
    fn: (api: WorkloadBootstrapApi) => Promise<void>,
  ): Promise<void> {
    const source = await this.workloadKubeconfig(namespace, clusterName, spec);
    if (!source) throw new ThrottledError(`${what}: the workload API of ${namespace}/${clusterName} cannot be reached yet (no certificates or endpoint)`);
    // One client per cluster, made again when its kubeconfig changes (renewed credentials, another endpoint).
    const key = `${namespace}/${clusterName}`;
    let api = this.apis.get(key)?.source === source ? this.apis.get(key)!.api : undefined;
    if (!api) {
      const kc = loadKubeconfig(source);
      api = this.options.workloadApi?.(kc, key) ?? new KubernetesWorkloadBootstrapApi(kc, `the workload API of ${key}`);
      this.apis.set(key, { source, api });
    }
    try {
      await fn(api);
    } catch (err) {
      if (err instanceof WorkloadUnavailableError) throw new ThrottledError(`${what}: ${err.message}`, { cause: err });
      throw err;
    }
  }
}

function kubeadmCluster(clusterName: string, version: string, endpoint: Endpoint, spec: ClusterSpec): KubeadmCluster {
  return {
    clusterName,
    version,
    controlPlaneEndpoint: endpoint,
    podSubnets: spec.clusterNetwork.pods.cidrBlocks,
    serviceSubnets: spec.clusterNetwork.services.cidrBlocks,
    dnsDomain: spec.clusterNetwork.serviceDomain,
  };
}
