/**
 * `generate cluster NAME`: the manifests of a cluster, like `clusterctl generate cluster`, as multi-document
 * YAML that the API accepts as it is: MachineClass, Cluster, ControlPlane, MachineDeployment and a
 * MachineHealthCheck for the workers (and, for process, one for the control plane). For aws, values only the user
 * knows (region, subnets) come from flags or are left as REPLACE-ME placeholders, each marked with a comment.
 * `generate clusterclass NAME` writes a ClusterClass with its MachineClasses, and `generate cluster NAME --class
 * CLASS` a Cluster of that class (spec.topology), as `clusterctl generate cluster --flavor ...-clusterclass` does.
 */
import { Document, isScalar } from 'yaml';
import { basename } from 'node:path';
import { API_VERSION, Labels, SEMVER, dnsLabelError } from '../../functions/api/common.js';
import { manifestDocuments } from '../../functions/api/cluster-resource-set.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';

export const PLACEHOLDER = 'REPLACE-ME';

/** Ubuntu 24.04 (amd64) published by Canonical in SSM, so that the default needs no AMI id per region. */
export const DEFAULT_IMAGE_SSM_PARAMETER = '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id';
export const DEFAULT_INSTANCE_TYPE = 'm7i.large';
export const DEFAULT_SIM_FAILURE_DOMAINS = ['zone-a', 'zone-b', 'zone-c'];

export interface GenerateOptions {
  kubernetesVersion?: string;
  controlPlaneMachineCount?: string;
  workerMachineCount?: string;
  provider?: string;
  namespace?: string;
  awsRegion?: string;
  awsSubnet?: string[];
  awsSecurityGroupId?: string[];
  awsInstanceType?: string[];
  awsAmi?: string;
  awsImageSsmParameter?: string;
  awsIamInstanceProfile?: string;
  awsControlPlaneEndpoint?: string;
  awsTargetGroupArn?: string;
  /** Manifest files to apply to the cluster once its API answers (a ClusterResourceSet selecting it). */
  addon?: string[];
  /** `generate cluster --class`: a Cluster with spec.topology of this ClusterClass, and nothing else. */
  class?: string;
  /** --version: the short form of --kubernetes-version. */
  version?: string;
  /** --workers: the short form of --worker-machine-count. */
  workers?: string;
}

/** An addon file as read: its name (for the resource) and its manifests. */
export interface AddonFile {
  path: string;
  manifests: string;
}

/** The label a generated Cluster carries so that its ClusterResourceSet selects it. */
export const ADDON_SET_LABEL = 'clusterless.dev/cluster-resource-set';

interface Placeholder {
  /** Index of the document, and the path of the value in it. */
  doc: number;
  path: (string | number)[];
  comment: string;
}

export interface GeneratedCluster {
  objects: Record<string, unknown>[];
  placeholders: Placeholder[];
}

/** The suffix of the longest generated name; the cluster name must leave room for it in 63 characters. */
const LONGEST_SUFFIX = '-control-plane';

function count(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be an integer >= 0, not "${value}"`);
  return Number(value);
}

/** The worker count of --workers or --worker-machine-count. */
function workerCount(options: GenerateOptions, fallback: number): number {
  if (options.workers !== undefined && options.workerMachineCount !== undefined && options.workers !== options.workerMachineCount)
    throw new UsageError('give --workers or --worker-machine-count, not both');
  return options.workers !== undefined ? count(options.workers, '--workers', fallback) : count(options.workerMachineCount, '--worker-machine-count', fallback);
}

/** The worker pools' health check: Cluster API's usual node conditions. */
const WORKER_HEALTH_CHECK = {
  unhealthyConditions: [
    { type: 'Ready', status: 'Unknown', timeout: '300s' },
    { type: 'Ready', status: 'False', timeout: '300s' },
  ],
  nodeStartupTimeout: '10m',
  maxUnhealthy: '40%',
};

/** The control plane's: remediating one machine at a time keeps etcd's quorum (KubeadmControlPlane does the same). */
const CONTROL_PLANE_HEALTH_CHECK = { ...WORKER_HEALTH_CHECK, maxUnhealthy: 1 };

/** HOST or HOST:PORT (6443 when not given, as kubeadm's default). */
function controlPlaneEndpoint(value: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(value);
  const port = m?.[2] === undefined ? 6443 : Number(m[2]);
  if (!m || port < 1 || port > 65535)
    throw new UsageError(`--aws-control-plane-endpoint takes HOST or HOST:PORT, e.g. my-cluster-api.example.com:6443, not "${value}"`);
  return { host: m[1]!, port };
}

/** The cluster's name, checked: a DNS label leaving room for the longest generated suffix. */
function checkClusterName(name: string): void {
  const nameError = dnsLabelError(name);
  if (nameError) throw new UsageError(`invalid cluster name "${name}": ${nameError}`);
  if (name.length + LONGEST_SUFFIX.length > 63)
    throw new UsageError(
      `the cluster name "${name}" is too long: at most ${63 - LONGEST_SUFFIX.length} characters, so that "${name}${LONGEST_SUFFIX}" is a valid name`,
    );
}

function namespaceOf(options: GenerateOptions): string {
  const namespace = options.namespace ?? 'default';
  const nsError = dnsLabelError(namespace);
  if (nsError) throw new UsageError(`invalid namespace "${namespace}": ${nsError}`);
  return namespace;
}

/** The Kubernetes version of --kubernetes-version (or its short form --version); 1.31.2 is taken as v1.31.2. */
function versionOf(options: GenerateOptions): string {
  const given = options.version ?? options.kubernetesVersion;
  if (options.version !== undefined && options.kubernetesVersion !== undefined && options.version !== options.kubernetesVersion)
    throw new UsageError('give --version or --kubernetes-version, not both');
  if (!given) throw new UsageError('--kubernetes-version is required (for example v1.31.2)');
  // 1.31.2 is taken to mean v1.31.2, as clusterctl users write it both ways.
  const version = given.startsWith('v') ? given : `v${given}`;
  if (!SEMVER.test(version)) throw new UsageError(`--kubernetes-version "${given}" is not a Kubernetes version such as v1.31.2`);
  return version;
}

type Provider = 'sim' | 'aws' | 'process';

function providerOf(options: GenerateOptions): Provider {
  const provider = options.provider ?? 'sim';
  if (provider !== 'sim' && provider !== 'aws' && provider !== 'process') throw new UsageError(`--provider must be sim, aws or process, not "${provider}"`);
  return provider;
}

/** The control-plane machine count: odd, so that etcd keeps quorum; undefined when not given and `fallback` is. */
function controlPlaneCount(options: GenerateOptions, fallback: number): number;
function controlPlaneCount(options: GenerateOptions, fallback: undefined): number | undefined;
function controlPlaneCount(options: GenerateOptions, fallback: number | undefined): number | undefined {
  if (options.controlPlaneMachineCount === undefined && fallback === undefined) return undefined;
  const n = count(options.controlPlaneMachineCount, '--control-plane-machine-count', fallback ?? 1);
  if (n < 1 || n % 2 === 0) throw new UsageError(`--control-plane-machine-count must be odd (1, 3, 5, ...) so that etcd keeps quorum, not ${n}`);
  return n;
}

/** A MachineClass spec of the provider from the --aws-* machine flags. */
function machineClassSpecOf(provider: Provider, options: GenerateOptions): Record<string, unknown> {
  if (provider === 'sim') return { sim: { bootSeconds: 5, nodeReadySeconds: 2 } };
  if (provider === 'process') return { process: {} };
  if (options.awsAmi && options.awsImageSsmParameter) throw new UsageError('give --aws-ami or --aws-image-ssm-parameter, not both');
  return {
    aws: {
      instanceTypes: options.awsInstanceType?.length ? options.awsInstanceType : [DEFAULT_INSTANCE_TYPE],
      ...(options.awsAmi ? { ami: options.awsAmi } : { imageSsmParameter: options.awsImageSsmParameter ?? DEFAULT_IMAGE_SSM_PARAMETER }),
      ...(options.awsIamInstanceProfile ? { iamInstanceProfile: options.awsIamInstanceProfile } : {}),
    },
  };
}

/**
 * The Cluster's spec.provider (and endpoint) from the cluster flags; what only the user knows is a placeholder
 * in document `doc`.
 */
function clusterProviderOf(
  provider: Provider,
  options: GenerateOptions,
  placeholders: Placeholder[],
  doc: number,
): { provider: Record<string, unknown>; endpoint?: { host: string; port: number } } {
  if (provider !== 'aws' && (options.awsControlPlaneEndpoint || options.awsTargetGroupArn)) throw new UsageError('the --aws-* flags are for --provider aws');
  const endpoint = options.awsControlPlaneEndpoint === undefined ? undefined : controlPlaneEndpoint(options.awsControlPlaneEndpoint);
  if (options.awsTargetGroupArn !== undefined && !options.awsTargetGroupArn.startsWith('arn:'))
    throw new UsageError(`--aws-target-group-arn must be the ARN of an ELBv2 target group, not "${options.awsTargetGroupArn}"`);
  if (provider === 'sim') return { provider: { sim: { failureDomains: DEFAULT_SIM_FAILURE_DOMAINS } } };
  // The load balancer on 127.0.0.1 becomes the endpoint: the admin kubeconfig reaches the API through it.
  if (provider === 'process') return { provider: { process: { controlPlaneLoadBalancer: {} } } };
  const subnets = (options.awsSubnet ?? []).map((s) => {
    const [id, availabilityZone, extra] = s.split(':');
    if (!id || !availabilityZone || extra !== undefined)
      throw new UsageError(`--aws-subnet takes SUBNET_ID:AVAILABILITY_ZONE, e.g. subnet-0123456789abcdef0:us-east-1a, not "${s}"`);
    return { id, availabilityZone };
  });
  const region = options.awsRegion ?? PLACEHOLDER;
  if (!options.awsRegion)
    placeholders.push({ doc, path: ['spec', 'provider', 'aws', 'region'], comment: `${PLACEHOLDER}: the AWS region, e.g. us-east-1 (or --aws-region)` });
  if (subnets.length === 0) {
    subnets.push({ id: `subnet-${PLACEHOLDER}`, availabilityZone: PLACEHOLDER });
    placeholders.push(
      {
        doc,
        path: ['spec', 'provider', 'aws', 'subnets', 0, 'id'],
        comment: `${PLACEHOLDER}: a subnet id of your VPC, one subnet per availability zone (or --aws-subnet ID:AZ)`,
      },
      {
        doc,
        path: ['spec', 'provider', 'aws', 'subnets', 0, 'availabilityZone'],
        comment: `${PLACEHOLDER}: the availability zone of that subnet, e.g. us-east-1a`,
      },
    );
  }
  return {
    provider: {
      aws: {
        region,
        subnets,
        ...(options.awsSecurityGroupId?.length ? { securityGroupIds: options.awsSecurityGroupId } : {}),
        // A target group given: the user's load balancer. Neither it nor an endpoint: clusterless makes an
        // internal network load balancer and records its DNS name as the endpoint (Cluster API AWS's default).
        ...(options.awsTargetGroupArn
          ? { controlPlaneLoadBalancer: { targetGroupArn: options.awsTargetGroupArn } }
          : endpoint
            ? {}
            : { controlPlaneLoadBalancer: { scheme: 'internal' } }),
      },
    },
    ...(endpoint ? { endpoint } : {}),
  };
}

/** Builds the objects; throws a UsageError for flags the API would refuse anyway. */
export function generateCluster(name: string, options: GenerateOptions, addons: readonly AddonFile[] = []): GeneratedCluster {
  if (options.class !== undefined) return generateTopologyCluster(name, options, addons);
  checkClusterName(name);
  const namespace = namespaceOf(options);
  const version = versionOf(options);
  const provider = providerOf(options);
  // A process cluster is there to prove etcd membership, joins and upgrades: three members and two workers by default.
  const controlPlanes = controlPlaneCount(options, provider === 'process' ? 3 : 1);
  const workers = workerCount(options, provider === 'process' ? 2 : 0);
  const placeholders: Placeholder[] = [];
  const { provider: clusterProvider, endpoint } = clusterProviderOf(provider, options, placeholders, 1);
  const classSpec = machineClassSpecOf(provider, options);
  const meta = (n: string) => ({ name: n, namespace });
  const className = name;
  const deploymentName = `${name}-md-0`;

  const objects: Record<string, unknown>[] = [
    { apiVersion: API_VERSION, kind: 'MachineClass', metadata: meta(className), spec: classSpec },
    {
      apiVersion: API_VERSION,
      kind: 'Cluster',
      metadata: meta(name),
      spec: { ...(endpoint ? { controlPlaneEndpoint: endpoint } : {}), provider: clusterProvider },
    },
    {
      apiVersion: API_VERSION,
      kind: 'ControlPlane',
      metadata: meta(`${name}-control-plane`),
      spec: { clusterName: name, replicas: controlPlanes, version, machineClassRef: { name: className } },
    },
    {
      apiVersion: API_VERSION,
      kind: 'MachineDeployment',
      metadata: meta(deploymentName),
      spec: {
        clusterName: name,
        replicas: workers,
        template: { spec: { version, machineClassRef: { name: className } } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      },
    },
    {
      apiVersion: API_VERSION,
      kind: 'MachineHealthCheck',
      metadata: meta(deploymentName),
      spec: {
        clusterName: name,
        selector: { matchLabels: { [Labels.clusterName]: name, [Labels.deploymentName]: deploymentName } },
        ...WORKER_HEALTH_CHECK,
      },
    },
  ];
  objects.push(...addonSet(name, namespace, objects[1]!, addons));
  if (provider === 'process')
    objects.push({
      apiVersion: API_VERSION,
      kind: 'MachineHealthCheck',
      metadata: meta(`${name}-control-plane`),
      spec: {
        clusterName: name,
        selector: { matchLabels: { [Labels.clusterName]: name, [Labels.controlPlane]: '' } },
        ...CONTROL_PLANE_HEALTH_CHECK,
      },
    });
  return { objects, placeholders };
}

/** One ClusterResourceSet of the addon files, in their order; `cluster` gets the label its selector matches. */
function addonSet(name: string, namespace: string, cluster: Record<string, unknown>, addons: readonly AddonFile[]): Record<string, unknown>[] {
  if (addons.length === 0) return [];
  const setName = `${name}-addons`;
  const metadata = cluster['metadata'] as { labels?: Record<string, string> };
  metadata.labels = { ...metadata.labels, [ADDON_SET_LABEL]: setName };
  const used = new Set<string>();
  return [
    {
      apiVersion: API_VERSION,
      kind: 'ClusterResourceSet',
      metadata: { name: setName, namespace },
      spec: {
        clusterSelector: { matchLabels: { [ADDON_SET_LABEL]: setName } },
        strategy: 'ApplyOnce',
        resources: addons.map((a) => {
          const parsed = manifestDocuments(a.manifests);
          if ('error' in parsed) throw new UsageError(`--addon ${a.path}: ${parsed.error}`);
          let resource = resourceName(a.path);
          for (let n = 2; used.has(resource); n++) resource = `${resourceName(a.path)}-${n}`;
          used.add(resource);
          return { name: resource, manifests: a.manifests };
        }),
      },
    },
  ];
}

/** The worker class `generate clusterclass` declares and `generate cluster --class` uses. */
export const DEFAULT_WORKER_CLASS = 'default-worker';
/** The variable of the generated class that picks the workers' MachineClass, an example of variables and patches. */
export const WORKER_MACHINE_CLASS_VARIABLE = 'workerMachineClass';

/** Flags that describe one cluster, not a class: refused by `generate clusterclass` rather than ignored. */
const CLUSTER_ONLY_FLAGS: [keyof GenerateOptions, string][] = [
  ['class', '--class'],
  ['kubernetesVersion', '--kubernetes-version'],
  ['version', '--version'],
  ['workerMachineCount', '--worker-machine-count'],
  ['workers', '--workers'],
  ['addon', '--addon'],
  ['awsRegion', '--aws-region'],
  ['awsSubnet', '--aws-subnet'],
  ['awsSecurityGroupId', '--aws-security-group-id'],
  ['awsControlPlaneEndpoint', '--aws-control-plane-endpoint'],
  ['awsTargetGroupArn', '--aws-target-group-arn'],
];
/** Flags that describe machines: a topology cluster takes its machines from its class. */
const CLASS_ONLY_FLAGS: [keyof GenerateOptions, string][] = [
  ['awsInstanceType', '--aws-instance-type'],
  ['awsAmi', '--aws-ami'],
  ['awsImageSsmParameter', '--aws-image-ssm-parameter'],
  ['awsIamInstanceProfile', '--aws-iam-instance-profile'],
];

/**
 * `generate clusterclass NAME`: a ClusterClass and its two MachineClasses (`{name}-control-plane`,
 * `{name}-worker`), the machine flags of `generate cluster` applying to both. The class declares one worker class,
 * `default-worker`, and, as an example to follow, a variable `workerMachineClass` (default `{name}-worker`) with
 * a patch that points the workers' MachineClass at it: a cluster picks another class of the namespace by setting
 * the variable. Variables and patches in the shape of Cluster API's (cluster-api
 * api/core/v1beta2/clusterclass_types.go, ClusterClassVariable and ClusterClassPatch; templates of
 * cluster-api-provider-aws templates/cluster-template-simple-clusterclass.yaml).
 */
export function generateClusterClass(name: string, options: GenerateOptions): GeneratedCluster {
  const nameError = dnsLabelError(name);
  if (nameError) throw new UsageError(`invalid ClusterClass name "${name}": ${nameError}`);
  if (name.length + LONGEST_SUFFIX.length > 63)
    throw new UsageError(`the ClusterClass name "${name}" is too long: at most ${63 - LONGEST_SUFFIX.length} characters`);
  for (const [key, flag] of CLUSTER_ONLY_FLAGS)
    if (options[key] !== undefined) throw new UsageError(`${flag} is for generate cluster: a ClusterClass describes machines, not one cluster`);
  const namespace = namespaceOf(options);
  const provider = providerOf(options);
  const replicas = controlPlaneCount(options, provider === 'process' ? 3 : 1);
  const classSpec = machineClassSpecOf(provider, options);
  const meta = (n: string) => ({ name: n, namespace });
  const controlPlaneClass = `${name}-control-plane`;
  const workerClass = `${name}-worker`;
  return {
    placeholders: [],
    objects: [
      { apiVersion: API_VERSION, kind: 'MachineClass', metadata: meta(controlPlaneClass), spec: classSpec },
      { apiVersion: API_VERSION, kind: 'MachineClass', metadata: meta(workerClass), spec: classSpec },
      {
        apiVersion: API_VERSION,
        kind: 'ClusterClass',
        metadata: meta(name),
        spec: {
          controlPlane: {
            machineClassRef: { name: controlPlaneClass },
            replicas,
            ...(provider === 'process' ? { machineHealthCheck: CONTROL_PLANE_HEALTH_CHECK } : {}),
          },
          workers: {
            machineDeployments: [
              {
                class: DEFAULT_WORKER_CLASS,
                template: { machineClassRef: { name: workerClass } },
                strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                machineHealthCheck: WORKER_HEALTH_CHECK,
              },
            ],
          },
          variables: [
            {
              name: WORKER_MACHINE_CLASS_VARIABLE,
              required: false,
              schema: { openAPIV3Schema: { type: 'string', default: workerClass, description: 'The MachineClass of the default-worker machines.' } },
            },
          ],
          patches: [
            {
              name: 'worker-machine-class',
              definitions: [
                {
                  selector: { kind: 'MachineDeployment', matchResources: { machineDeploymentClass: { names: [DEFAULT_WORKER_CLASS] } } },
                  jsonPatches: [{ op: 'replace', path: '/spec/template/spec/machineClassRef/name', valueFrom: { variable: WORKER_MACHINE_CLASS_VARIABLE } }],
                },
              ],
            },
          ],
        },
      },
    ],
  };
}

/**
 * `generate cluster NAME --class CLASS`: a Cluster with spec.topology and nothing else (the topology planner
 * makes the ControlPlane, MachineDeployments and health checks from the class). Its provider settings come from
 * the same flags as `generate cluster`'s and must match the class's MachineClasses' provider. One worker
 * topology, md-0 of class default-worker, with --workers replicas (0 by default, as `generate cluster`).
 */
export function generateTopologyCluster(name: string, options: GenerateOptions, addons: readonly AddonFile[] = []): GeneratedCluster {
  checkClusterName(name);
  const clusterClass = options.class ?? '';
  const classError = dnsLabelError(clusterClass);
  if (classError) throw new UsageError(`invalid --class "${clusterClass}": ${classError}`);
  for (const [key, flag] of CLASS_ONLY_FLAGS)
    if (options[key] !== undefined) throw new UsageError(`${flag} is for generate clusterclass: a cluster of a class takes its machines from the class`);
  const namespace = namespaceOf(options);
  const version = versionOf(options);
  const provider = providerOf(options);
  const replicas = controlPlaneCount(options, undefined);
  const workers = workerCount(options, provider === 'process' ? 2 : 0);
  const placeholders: Placeholder[] = [];
  const { provider: clusterProvider, endpoint } = clusterProviderOf(provider, options, placeholders, 0);
  const cluster: Record<string, unknown> = {
    apiVersion: API_VERSION,
    kind: 'Cluster',
    metadata: { name, namespace },
    spec: {
      ...(endpoint ? { controlPlaneEndpoint: endpoint } : {}),
      provider: clusterProvider,
      topology: {
        class: clusterClass,
        version,
        ...(replicas !== undefined ? { controlPlane: { replicas } } : {}),
        workers: { machineDeployments: [{ class: DEFAULT_WORKER_CLASS, name: 'md-0', replicas: workers }] },
      },
    },
  };
  return { objects: [cluster, ...addonSet(name, namespace, cluster, addons)], placeholders };
}

/** A resource name from a file name: its base name without extension, as a DNS label. */
function resourceName(path: string): string {
  const base = basename(path).replace(/\.(ya?ml|json)$/i, '');
  const label = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label || 'addon';
}

/** The objects as YAML documents, placeholders marked by a comment on their line. */
export function renderGenerated(g: GeneratedCluster, header: string): string {
  return g.objects
    .map((obj, i) => {
      const doc = new Document(obj);
      if (i === 0) doc.commentBefore = header;
      for (const p of g.placeholders.filter((p) => p.doc === i)) {
        const node = doc.getIn(p.path, true);
        if (isScalar(node)) node.comment = ` ${p.comment}`;
      }
      return `${i === 0 ? '' : '---\n'}${doc.toString({ lineWidth: 0 })}`;
    })
    .join('');
}

export async function generate(ctx: Context, what: string, name: string, options: GenerateOptions): Promise<void> {
  if (what !== 'cluster' && what !== 'clusterclass')
    throw new UsageError(`can generate a cluster or a clusterclass, not "${what}": clusterless generate cluster NAME ... or generate clusterclass NAME ...`);
  const provider = options.provider ?? 'sim';
  if (what === 'clusterclass') {
    const g = generateClusterClass(name, options);
    const header = ` ClusterClass ${name} on ${provider} and its MachineClasses, made by: clusterless generate clusterclass ${name}\n Apply it with: clusterless apply -f FILE; then: clusterless generate cluster NAME --class ${name} --version V --workers N`;
    ctx.io.stdout.write(renderGenerated(g, header));
    return;
  }
  const addons: AddonFile[] = [];
  for (const path of options.addon ?? []) {
    try {
      addons.push({ path, manifests: await ctx.io.readFile(path) });
    } catch (err) {
      throw new UsageError(`--addon ${path}: ${(err as Error).message}`);
    }
  }
  const g = generateCluster(name, options, addons);
  const made = options.class === undefined ? '' : ` of ClusterClass ${options.class} (its machines come from the class: --provider must be the class's)`;
  const header = ` Cluster ${name}${made} on ${provider}, made by: clusterless generate cluster ${name}${options.class === undefined ? '' : ` --class ${options.class}`}\n Apply it with: clusterless apply -f FILE (or pipe it to: clusterless apply -f -)`;
  ctx.io.stdout.write(renderGenerated(g, header));
  if (g.placeholders.length > 0)
    ctx.note(`note: fill in the ${g.placeholders.length} values marked ${PLACEHOLDER} before applying (or pass the --aws-* flags)`);
}
