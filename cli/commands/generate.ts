/**
 * `generate cluster NAME`: the manifests of a cluster, like `clusterctl generate cluster`, as multi-document
 * YAML that the API accepts as it is: MachineClass, Cluster, ControlPlane, MachineDeployment and a
 * MachineHealthCheck for the workers (and, for process, one for the control plane). For aws, values only the user knows (region, subnets) come from flags
 * or are left as REPLACE-ME placeholders, each marked with a comment.
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

/** HOST or HOST:PORT (6443 when not given, as kubeadm's default). */
function controlPlaneEndpoint(value: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(value);
  const port = m?.[2] === undefined ? 6443 : Number(m[2]);
  if (!m || port < 1 || port > 65535)
    throw new UsageError(`--aws-control-plane-endpoint takes HOST or HOST:PORT, e.g. my-cluster-api.example.com:6443, not "${value}"`);
  return { host: m[1]!, port };
}

/** Builds the objects; throws a UsageError for flags the API would refuse anyway. */
export function generateCluster(name: string, options: GenerateOptions, addons: readonly AddonFile[] = []): GeneratedCluster {
  const nameError = dnsLabelError(name);
  if (nameError) throw new UsageError(`invalid cluster name "${name}": ${nameError}`);
  if (name.length + LONGEST_SUFFIX.length > 63)
    throw new UsageError(
      `the cluster name "${name}" is too long: at most ${63 - LONGEST_SUFFIX.length} characters, so that "${name}${LONGEST_SUFFIX}" is a valid name`,
    );
  const namespace = options.namespace ?? 'default';
  const nsError = dnsLabelError(namespace);
  if (nsError) throw new UsageError(`invalid namespace "${namespace}": ${nsError}`);
  if (!options.kubernetesVersion) throw new UsageError('--kubernetes-version is required (for example v1.31.2)');
  // 1.31.2 is taken to mean v1.31.2, as clusterctl users write it both ways.
  const version = options.kubernetesVersion.startsWith('v') ? options.kubernetesVersion : `v${options.kubernetesVersion}`;
  if (!SEMVER.test(version)) throw new UsageError(`--kubernetes-version "${options.kubernetesVersion}" is not a Kubernetes version such as v1.31.2`);
  const provider = options.provider ?? 'sim';
  if (provider !== 'sim' && provider !== 'aws' && provider !== 'process') throw new UsageError(`--provider must be sim, aws or process, not "${provider}"`);
  // A process cluster is there to prove etcd membership, joins and upgrades: three members and two workers by default.
  const controlPlanes = count(options.controlPlaneMachineCount, '--control-plane-machine-count', provider === 'process' ? 3 : 1);
  if (controlPlanes < 1 || controlPlanes % 2 === 0)
    throw new UsageError(`--control-plane-machine-count must be odd (1, 3, 5, ...) so that etcd keeps quorum, not ${controlPlanes}`);
  const workers = count(options.workerMachineCount, '--worker-machine-count', provider === 'process' ? 2 : 0);

  if (provider !== 'aws' && (options.awsControlPlaneEndpoint || options.awsTargetGroupArn)) throw new UsageError('the --aws-* flags are for --provider aws');
  const endpoint = options.awsControlPlaneEndpoint === undefined ? undefined : controlPlaneEndpoint(options.awsControlPlaneEndpoint);
  if (options.awsTargetGroupArn !== undefined && !options.awsTargetGroupArn.startsWith('arn:'))
    throw new UsageError(`--aws-target-group-arn must be the ARN of an ELBv2 target group, not "${options.awsTargetGroupArn}"`);

  const placeholders: Placeholder[] = [];
  const meta = (n: string) => ({ name: n, namespace });
  const className = name;
  const deploymentName = `${name}-md-0`;

  let classSpec: Record<string, unknown>;
  let clusterProvider: Record<string, unknown>;
  if (provider === 'sim') {
    classSpec = { sim: { bootSeconds: 5, nodeReadySeconds: 2 } };
    clusterProvider = { sim: { failureDomains: DEFAULT_SIM_FAILURE_DOMAINS } };
  } else if (provider === 'process') {
    // The load balancer on 127.0.0.1 becomes the endpoint: the admin kubeconfig reaches the API through it.
    classSpec = { process: {} };
    clusterProvider = { process: { controlPlaneLoadBalancer: {} } };
  } else {
    const subnets = (options.awsSubnet ?? []).map((s) => {
      const [id, availabilityZone, extra] = s.split(':');
      if (!id || !availabilityZone || extra !== undefined)
        throw new UsageError(`--aws-subnet takes SUBNET_ID:AVAILABILITY_ZONE, e.g. subnet-0123456789abcdef0:us-east-1a, not "${s}"`);
      return { id, availabilityZone };
    });
    if (options.awsAmi && options.awsImageSsmParameter) throw new UsageError('give --aws-ami or --aws-image-ssm-parameter, not both');
    const region = options.awsRegion ?? PLACEHOLDER;
    if (!options.awsRegion)
      placeholders.push({ doc: 1, path: ['spec', 'provider', 'aws', 'region'], comment: `${PLACEHOLDER}: the AWS region, e.g. us-east-1 (or --aws-region)` });
    if (subnets.length === 0) {
      subnets.push({ id: `subnet-${PLACEHOLDER}`, availabilityZone: PLACEHOLDER });
      placeholders.push(
        {
          doc: 1,
          path: ['spec', 'provider', 'aws', 'subnets', 0, 'id'],
          comment: `${PLACEHOLDER}: a subnet id of your VPC, one subnet per availability zone (or --aws-subnet ID:AZ)`,
        },
        {
          doc: 1,
          path: ['spec', 'provider', 'aws', 'subnets', 0, 'availabilityZone'],
          comment: `${PLACEHOLDER}: the availability zone of that subnet, e.g. us-east-1a`,
        },
      );
    }
    clusterProvider = {
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
    };
    classSpec = {
      aws: {
        instanceTypes: options.awsInstanceType?.length ? options.awsInstanceType : [DEFAULT_INSTANCE_TYPE],
        ...(options.awsAmi ? { ami: options.awsAmi } : { imageSsmParameter: options.awsImageSsmParameter ?? DEFAULT_IMAGE_SSM_PARAMETER }),
        ...(options.awsIamInstanceProfile ? { iamInstanceProfile: options.awsIamInstanceProfile } : {}),
      },
    };
  }

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
        unhealthyConditions: [
          { type: 'Ready', status: 'Unknown', timeout: '300s' },
          { type: 'Ready', status: 'False', timeout: '300s' },
        ],
        nodeStartupTimeout: '10m',
        maxUnhealthy: '40%',
      },
    },
  ];
  if (addons.length > 0) {
    // One set for the files, in their order; the Cluster carries the label its selector matches.
    const setName = `${name}-addons`;
    (objects[1]!['metadata'] as { labels?: Record<string, string> }).labels = { [ADDON_SET_LABEL]: setName };
    const used = new Set<string>();
    objects.push({
      apiVersion: API_VERSION,
      kind: 'ClusterResourceSet',
      metadata: meta(setName),
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
    });
  }
  if (provider === 'process')
    objects.push({
      apiVersion: API_VERSION,
      kind: 'MachineHealthCheck',
      metadata: meta(`${name}-control-plane`),
      spec: {
        clusterName: name,
        selector: { matchLabels: { [Labels.clusterName]: name, [Labels.controlPlane]: '' } },
        unhealthyConditions: [
          { type: 'Ready', status: 'Unknown', timeout: '300s' },
          { type: 'Ready', status: 'False', timeout: '300s' },
        ],
        nodeStartupTimeout: '10m',
        // Remediating one control-plane machine at a time keeps etcd's quorum (KubeadmControlPlane does the same).
        maxUnhealthy: 1,
      },
    });
  return { objects, placeholders };
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
  if (what !== 'cluster') throw new UsageError(`can only generate a cluster, not "${what}": clusterless generate cluster NAME ...`);
  const addons: AddonFile[] = [];
  for (const path of options.addon ?? []) {
    try {
      addons.push({ path, manifests: await ctx.io.readFile(path) });
    } catch (err) {
      throw new UsageError(`--addon ${path}: ${(err as Error).message}`);
    }
  }
  const g = generateCluster(name, options, addons);
  const provider = options.provider ?? 'sim';
  const header = ` Cluster ${name} on ${provider}, made by: clusterless generate cluster ${name}\n Apply it with: clusterless apply -f FILE (or pipe it to: clusterless apply -f -)`;
  ctx.io.stdout.write(renderGenerated(g, header));
  if (g.placeholders.length > 0)
    ctx.note(`note: fill in the ${g.placeholders.length} values marked ${PLACEHOLDER} before applying (or pass the --aws-* flags)`);
}
