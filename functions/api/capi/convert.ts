/**
 * Cluster API manifests (as `clusterctl generate cluster --infrastructure aws` prints them) -> clusterless
 * objects. Pure: the parsed documents in, the objects, warnings and errors out.
 *
 * Both versions of the core kinds are read. v1beta2 moved fields (learnt from cluster-api api/core/v1beta2
 * machinedeployment_types.go, machinehealthcheck_types.go, machine_types.go, cluster_types.go and
 * api/controlplane/kubeadm/v1beta2/kubeadm_control_plane_types.go, against their v1beta1 packages):
 * strategy -> rollout.strategy, rollingUpdate.deletePolicy -> deletion.order, nodeDrainTimeout (a duration) ->
 * deletion.nodeDrainTimeoutSeconds, minReadySeconds -> template.spec.minReadySeconds, MachineHealthCheck's
 * unhealthyConditions -> checks.unhealthyNodeConditions (timeoutSeconds), maxUnhealthy ->
 * remediation.triggerIf.unhealthyLessThanOrEqualTo, KubeadmControlPlane's rolloutStrategy -> rollout.strategy,
 * remediationStrategy (durations) -> remediation (seconds), machineTemplate.infrastructureRef ->
 * machineTemplate.spec.infrastructureRef.
 *
 * Where a field is unset, the object keeps Cluster API's behaviour, not clusterless's default: no drain timeout
 * (0), no unhealthy node conditions, an internet-facing load balancer.
 */
import { API_VERSION, Annotations, Labels } from '../common.js';
import { CONTROL_PLANE_TAINT } from '../control-plane.js';
import { KINDS } from '../kinds.js';
import { validateCreate } from '../validate.js';
import { awsClusterProvider, awsMachineClass, type AwsContext } from './aws.js';
import { CapiAnnotations, CapiLabels, FieldReader, durationToSeconds, isRecord, type ConversionIssue, type Path } from './fields.js';

export { formatIssue, type ConversionIssue } from './fields.js';

export interface ConvertOptions {
  /** The image of machine templates that name no AMI (Cluster API AWS looks one up; clusterless cannot). */
  defaultImageSsmParameter?: string;
}

export interface ConversionResult {
  /** The clusterless objects, in the order they are created. Empty when there are errors. */
  objects: Record<string, unknown>[];
  warnings: ConversionIssue[];
  /** What makes the file unconvertible (a ClusterClass, a reference to nothing, a result the API would refuse). */
  errors: ConversionIssue[];
}

const CAPI_GROUP = /^([a-z0-9.-]+\.)?cluster\.x-k8s\.io\/v1beta[12]$/;

/** True for a document of a Cluster API group (cluster.x-k8s.io and its sub-groups). */
export function isClusterApiDocument(doc: unknown): boolean {
  return isRecord(doc) && typeof doc['apiVersion'] === 'string' && /(^|\.)cluster\.x-k8s\.io\//.test(doc['apiVersion']);
}

/**
 * Cluster API's labels and annotations, under clusterless's domain, so that selectors written for Cluster API
 * select the same machines (cluster-api api/core/v1beta2/common_types.go). A MachinePool's machines become a
 * MachineDeployment's, so its pool label becomes the deployment label.
 */
const LABEL_KEYS: Record<string, string> = {
  [CapiLabels.clusterName]: Labels.clusterName,
  [CapiLabels.deploymentName]: Labels.deploymentName,
  [CapiLabels.poolName]: Labels.deploymentName,
  [CapiLabels.setName]: Labels.setName,
  [CapiLabels.controlPlane]: Labels.controlPlane,
  [CapiLabels.controlPlaneName]: Labels.controlPlaneName,
};
const ANNOTATION_KEYS: Record<string, string> = {
  [CapiAnnotations.paused]: Annotations.paused,
  [CapiAnnotations.skipRemediation]: Annotations.skipRemediation,
  [CapiAnnotations.deleteMachine]: Annotations.deleteMachine,
  [CapiAnnotations.skipPreflightChecks]: Annotations.skipPreflightChecks,
};

function renameKeys(map: unknown, table: Record<string, string>): Record<string, string> | undefined {
  if (!isRecord(map) || Object.keys(map).length === 0) return undefined;
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [table[k] ?? k, v as string]));
}

function selectorOf(value: unknown): Record<string, unknown> | undefined {
  if (!isRecord(value)) return undefined;
  const matchLabels = renameKeys(value['matchLabels'], LABEL_KEYS);
  const expressions = Array.isArray(value['matchExpressions'])
    ? value['matchExpressions'].map((e) => (isRecord(e) && typeof e['key'] === 'string' ? { ...e, key: LABEL_KEYS[e['key']] ?? e['key'] } : e))
    : undefined;
  if (!matchLabels && !expressions?.length) return undefined;
  return { ...(matchLabels ? { matchLabels } : {}), ...(expressions?.length ? { matchExpressions: expressions } : {}) };
}

/** Labels and annotations at `base` (metadata, or a template's metadata), translated. */
function metaOf(r: FieldReader, base: Path): Record<string, unknown> {
  const labels = renameKeys(r.get([...base, 'labels']), LABEL_KEYS);
  const annotations = renameKeys(r.get([...base, 'annotations']), ANNOTATION_KEYS);
  return { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) };
}

interface Doc {
  object: Record<string, unknown>;
  kind: string;
  version: string;
  name: string;
  namespace: string | undefined;
  source: string;
}

interface Output {
  object: Record<string, unknown>;
  /** The Cluster API objects it was made from, for errors. */
  from: string;
}

const NO_EQUIVALENT = 'clusterless has no equivalent';
const KUBEADM_RENDERED = 'clusterless renders the kubeadm configuration itself';

export function convertClusterApi(documents: readonly unknown[], options: ConvertOptions = {}): ConversionResult {
  const warnings: ConversionIssue[] = [];
  const errors: ConversionIssue[] = [];
  const outputs: Output[] = [];
  const docs: Doc[] = [];

  documents.forEach((d, i) => {
    if (!isRecord(d) || typeof d['kind'] !== 'string' || typeof d['apiVersion'] !== 'string') {
      errors.push({ source: `document ${i + 1}`, path: '', message: 'an object needs apiVersion and kind' });
      return;
    }
    const meta = isRecord(d['metadata']) ? d['metadata'] : {};
    const name = typeof meta['name'] === 'string' ? meta['name'] : '';
    const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined;
    docs.push({ object: d, kind: d['kind'], version: d['apiVersion'], name, namespace, source: `${d['kind']}/${name}` });
  });

  // A ClusterClass-based file is refused whole: its machines are described by the class, not the file.
  for (const d of docs) {
    if (d.kind === 'ClusterClass' && CAPI_GROUP.test(d.version))
      errors.push({
        source: d.source,
        path: '',
        message: 'ClusterClass is not supported yet: write the cluster as Cluster, KubeadmControlPlane and MachineDeployments',
      });
    if (d.kind === 'Cluster' && CAPI_GROUP.test(d.version) && isRecord(d.object['spec']) && d.object['spec']['topology'] !== undefined)
      errors.push({
        source: d.source,
        path: 'spec.topology',
        message: 'ClusterClass is not supported yet: a Cluster with a topology is made from a ClusterClass',
      });
  }
  if (errors.length > 0) return { objects: [], warnings, errors };

  const is = (d: Doc, group: string, kind: string) => d.kind === kind && new RegExp(`^${group.replace(/\./g, '\\.')}/v1beta[12]$`).test(d.version);
  const find = (kind: string, name: unknown, namespace: string | undefined) =>
    docs.find((d) => d.kind === kind && d.name === name && (d.namespace ?? 'default') === (namespace ?? 'default'));
  const readers = new Map<Doc, FieldReader>();
  const reader = (d: Doc) => {
    let r = readers.get(d);
    if (!r) {
      r = new FieldReader(d.object, d.source, warnings);
      readers.set(d, r);
    }
    return r;
  };
  const ns = (d: Doc) => (d.namespace !== undefined ? { namespace: d.namespace } : {});

  // What the machine settings need from the clusters.
  const subnetZones = new Map<string, string>();
  const clusterSshKeys = new Set<string>();
  for (const d of docs.filter((d) => is(d, 'infrastructure.cluster.x-k8s.io', 'AWSCluster'))) {
    const spec = isRecord(d.object['spec']) ? d.object['spec'] : {};
    if (typeof spec['sshKeyName'] === 'string') clusterSshKeys.add(spec['sshKeyName']);
    const network = isRecord(spec['network']) ? spec['network'] : {};
    for (const s of Array.isArray(network['subnets']) ? network['subnets'] : [])
      if (isRecord(s) && typeof s['id'] === 'string' && typeof s['availabilityZone'] === 'string') subnetZones.set(s['id'], s['availabilityZone']);
  }
  const awsContext: AwsContext = { subnetZones, clusterSshKeys, defaultImageSsmParameter: options.defaultImageSsmParameter };
  const used = new Set<Doc>();

  /** The target of a reference at `path` of `from`, which must be of `kind`; an error when it is not in the file. */
  const resolve = (from: Doc, path: Path, kinds: readonly string[]): Doc | undefined => {
    const r = reader(from);
    const ref = r.get(path);
    const where = path.join('.');
    if (!isRecord(ref) || typeof ref['name'] !== 'string') {
      errors.push({ source: from.source, path: where, message: `Required value: a reference to a ${kinds.join(' or ')}` });
      return undefined;
    }
    if (!kinds.includes(String(ref['kind']))) {
      errors.push({
        source: from.source,
        path: `${where}.kind`,
        message: `Unsupported value: "${String(ref['kind'])}": clusterless converts ${kinds.join(', ')}`,
      });
      return undefined;
    }
    const target = find(String(ref['kind']), ref['name'], from.namespace);
    if (!target) errors.push({ source: from.source, path: where, message: `${String(ref['kind'])}/${ref['name']} is not in the file` });
    else used.add(target);
    return target;
  };

  /** Drain timeout, seconds: v1beta2's number, or v1beta1's duration; unset keeps Cluster API's "wait forever" (0). */
  const drainSeconds = (r: FieldReader, v1beta1: Path, v1beta2: Path): number => {
    const found = r.first(v1beta2, v1beta1);
    if (!found) return 0;
    if (typeof found.value === 'number') return found.value;
    const s = durationToSeconds(found.value);
    if (s === undefined) {
      r.warn(found.path, `not converted ("${String(found.value)}" is not a duration)`);
      return 0;
    }
    return s;
  };
  /**
   * The volume-detach and node-deletion timeouts of a machine template, from v1beta1's durations
   * (`{prefix}.nodeVolumeDetachTimeout`) or v1beta2's seconds (`{spec}.deletion.nodeVolumeDetachTimeoutSeconds`). An
   * unset volume-detach timeout keeps Cluster API's "wait forever" (0); an unset node-deletion timeout stays unset,
   * clusterless's default being Cluster API's 10 s.
   */
  const teardownSeconds = (r: FieldReader, v1beta1: Path, v1beta2: Path): Record<string, number> => {
    const out: Record<string, number> = {
      nodeVolumeDetachTimeoutSeconds: drainSeconds(r, [...v1beta1, 'nodeVolumeDetachTimeout'], [...v1beta2, 'deletion', 'nodeVolumeDetachTimeoutSeconds']),
    };
    const found = r.first([...v1beta2, 'deletion', 'nodeDeletionTimeoutSeconds'], [...v1beta1, 'nodeDeletionTimeout']);
    if (found) {
      const seconds = typeof found.value === 'number' ? found.value : durationToSeconds(found.value);
      if (seconds === undefined) r.warn(found.path, `not converted ("${String(found.value)}" is not a duration)`);
      else out['nodeDeletionTimeoutSeconds'] = seconds;
    }
    return out;
  };
  const secondsOf = (r: FieldReader, v1beta1: Path, v1beta2: Path): number | undefined => {
    const found = r.first(v1beta2, v1beta1);
    if (!found) return undefined;
    return typeof found.value === 'number' ? found.value : durationToSeconds(found.value);
  };

  // Clusters, and the ControlPlane of each.
  const clusterOfControlPlane = new Map<Doc, string>();
  for (const d of docs.filter((d) => is(d, 'cluster.x-k8s.io', 'Cluster'))) {
    const r = reader(d);
    const spec: Record<string, unknown> = {};
    const pods = r.get(['spec', 'clusterNetwork', 'pods', 'cidrBlocks']);
    const services = r.get(['spec', 'clusterNetwork', 'services', 'cidrBlocks']);
    const serviceDomain = r.get(['spec', 'clusterNetwork', 'serviceDomain']);
    if (pods !== undefined || services !== undefined || serviceDomain !== undefined)
      spec['clusterNetwork'] = {
        ...(pods !== undefined ? { pods: { cidrBlocks: pods } } : {}),
        ...(services !== undefined ? { services: { cidrBlocks: services } } : {}),
        ...(serviceDomain !== undefined ? { serviceDomain } : {}),
      };
    const paused = r.get(['spec', 'paused']);
    if (paused !== undefined) spec['paused'] = paused;
    const host = r.get(['spec', 'controlPlaneEndpoint', 'host']);
    const port = r.get(['spec', 'controlPlaneEndpoint', 'port']);
    if (typeof host === 'string' && host !== '') spec['controlPlaneEndpoint'] = { host, port: typeof port === 'number' && port > 0 ? port : 6443 };

    const controlPlane = resolve(d, ['spec', 'controlPlaneRef'], ['KubeadmControlPlane']);
    if (controlPlane) clusterOfControlPlane.set(controlPlane, d.name);
    const infra = resolve(d, ['spec', 'infrastructureRef'], ['AWSCluster']);
    let from = d.source;
    if (infra) {
      const ir = reader(infra);
      const errs: { path: string; message: string }[] = [];
      const { provider, endpoint } = awsClusterProvider(ir, errs);
      for (const e of errs) errors.push({ source: infra.source, ...e });
      spec['provider'] = { aws: provider };
      if (endpoint && !spec['controlPlaneEndpoint']) spec['controlPlaneEndpoint'] = endpoint;
      from = `${d.source} and ${infra.source}`;
    }
    outputs.push({ object: { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: d.name, ...ns(d), ...metaOf(r, ['metadata']) }, spec }, from });
  }

  /**
   * A KubeadmControlPlane's taints (kubeadmConfigSpec's init- and joinConfiguration nodeRegistration.taints): the
   * ControlPlane's spec.taints, less kubeadm's control-plane taint, which clusterless always registers first. A list
   * set without it (an empty one: no taint at all) cannot be kept, and neither can two lists that differ.
   */
  const controlPlaneTaints = (r: FieldReader): Record<string, unknown>[] | undefined => {
    const base = ['spec', 'kubeadmConfigSpec'];
    const lists = (['initConfiguration', 'joinConfiguration'] as const)
      .map((c) => ({ path: [...base, c, 'nodeRegistration', 'taints'], value: r.get([...base, c, 'nodeRegistration', 'taints']) }))
      .filter((l): l is { path: string[]; value: unknown[] } => Array.isArray(l.value));
    if (lists.length === 0) return undefined;
    const plain = (t: unknown) =>
      isRecord(t) ? { key: t['key'], ...(t['value'] !== undefined && t['value'] !== '' ? { value: t['value'] } : {}), effect: t['effect'] } : t;
    const converted = lists.map((l) => l.value.map(plain));
    if (converted.length === 2 && JSON.stringify(converted[0]) !== JSON.stringify(converted[1]))
      r.warn(
        lists[1]!.path,
        "differs from initConfiguration's taints; clusterless registers every control-plane node with one list, the initConfiguration one",
      );
    const isControlPlaneTaint = (t: unknown) => isRecord(t) && t['key'] === CONTROL_PLANE_TAINT.key && t['effect'] === CONTROL_PLANE_TAINT.effect;
    const first = converted[0]!;
    if (!first.some(isControlPlaneTaint))
      r.warn(
        lists[0]!.path,
        `has no ${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect}; clusterless registers every control-plane node with kubeadm's control-plane taint`,
      );
    const rest = first.filter((t) => !isControlPlaneTaint(t)) as Record<string, unknown>[];
    return rest.length > 0 ? rest : undefined;
  };

  for (const d of docs.filter((d) => is(d, 'controlplane.cluster.x-k8s.io', 'KubeadmControlPlane'))) {
    const r = reader(d);
    const clusterName = clusterOfControlPlane.get(d);
    if (clusterName === undefined) errors.push({ source: d.source, path: '', message: "no Cluster's spec.controlPlaneRef names it" });
    const template = resolve(
      d,
      d.version.endsWith('v1beta2') ? ['spec', 'machineTemplate', 'spec', 'infrastructureRef'] : ['spec', 'machineTemplate', 'infrastructureRef'],
      ['AWSMachineTemplate'],
    );
    const spec: Record<string, unknown> = {
      clusterName,
      replicas: r.get(['spec', 'replicas']),
      version: r.get(['spec', 'version']),
      machineClassRef: { name: template?.name },
      nodeDrainTimeoutSeconds: drainSeconds(
        r,
        ['spec', 'machineTemplate', 'nodeDrainTimeout'],
        ['spec', 'machineTemplate', 'spec', 'deletion', 'nodeDrainTimeoutSeconds'],
      ),
      ...teardownSeconds(r, ['spec', 'machineTemplate'], ['spec', 'machineTemplate', 'spec']),
    };
    const taints = controlPlaneTaints(r);
    if (taints) spec['taints'] = taints;
    if (spec['replicas'] === undefined) delete spec['replicas'];
    const maxSurge = r.first(['spec', 'rollout', 'strategy', 'rollingUpdate', 'maxSurge'], ['spec', 'rolloutStrategy', 'rollingUpdate', 'maxSurge']);
    r.first(['spec', 'rollout', 'strategy', 'type'], ['spec', 'rolloutStrategy', 'type']); // RollingUpdate: the only strategy of both
    if (maxSurge) spec['rollout'] = { maxSurge: maxSurge.value };
    const remediation: Record<string, unknown> = {};
    const maxRetry = r.first(['spec', 'remediation', 'maxRetry'], ['spec', 'remediationStrategy', 'maxRetry']);
    if (maxRetry) remediation['maxRetry'] = maxRetry.value;
    const retry = secondsOf(r, ['spec', 'remediationStrategy', 'retryPeriod'], ['spec', 'remediation', 'retryPeriodSeconds']);
    if (retry !== undefined) remediation['retryPeriodSeconds'] = retry;
    const healthy = secondsOf(r, ['spec', 'remediationStrategy', 'minHealthyPeriod'], ['spec', 'remediation', 'minHealthyPeriodSeconds']);
    if (healthy !== undefined) remediation['minHealthyPeriodSeconds'] = healthy;
    if (Object.keys(remediation).length > 0) spec['remediation'] = remediation;
    outputs.push({
      object: { apiVersion: API_VERSION, kind: 'ControlPlane', metadata: { name: d.name, ...ns(d), ...metaOf(r, ['metadata']) }, spec },
      from: d.source,
    });
  }

  // Every AWSMachineTemplate is a MachineClass of the same name.
  for (const d of docs.filter((d) => is(d, 'infrastructure.cluster.x-k8s.io', 'AWSMachineTemplate'))) {
    used.add(d);
    const r = reader(d);
    const aws = awsMachineClass(r, ['spec', 'template', 'spec'], awsContext);
    outputs.push({
      object: { apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name: d.name, ...ns(d), ...metaOf(r, ['metadata']) }, spec: { aws } },
      from: d.source,
    });
  }

  /**
   * The taints kubeadm registers the node with (joinConfiguration.nodeRegistration.taints of the KubeadmConfig or
   * KubeadmConfigTemplate the machines bootstrap from): clusterless keeps them on the machine template. A taint's
   * timeAdded is set by the server and dropped.
   */
  const bootstrapTaints = (d: Doc, ref: unknown): Record<string, unknown>[] | undefined => {
    if (!isRecord(ref)) return undefined;
    const config = find(String(ref['kind']), ref['name'], d.namespace);
    if (!config || (config.kind !== 'KubeadmConfigTemplate' && config.kind !== 'KubeadmConfig')) return undefined;
    const spec = config.kind === 'KubeadmConfigTemplate' ? ['spec', 'template', 'spec'] : ['spec'];
    const taints = reader(config).get([...spec, 'joinConfiguration', 'nodeRegistration', 'taints']);
    if (!Array.isArray(taints) || taints.length === 0) return undefined;
    return taints.map((t) =>
      isRecord(t) ? { key: t['key'], ...(t['value'] !== undefined && t['value'] !== '' ? { value: t['value'] } : {}), effect: t['effect'] } : t,
    );
  };

  // MachineDeployments, and MachinePools as MachineDeployments.
  const machineTemplate = (d: Doc, r: FieldReader, infraKinds: string[], bootstrapKinds: string[]) => {
    const t = ['spec', 'template', 'spec'];
    const infra = resolve(d, [...t, 'infrastructureRef'], infraKinds);
    // The bootstrap configuration is named field by field on its own; only kubeadm's is understood.
    const bootstrapKind = r.peek([...t, 'bootstrap', 'configRef', 'kind']);
    if (bootstrapKind === undefined || bootstrapKinds.includes(String(bootstrapKind))) r.skip([...t, 'bootstrap', 'configRef']);
    r.skip([...t, 'clusterName']); // the deployment's own
    const failureDomain = r.get([...t, 'failureDomain']);
    const taints = bootstrapTaints(d, r.peek([...t, 'bootstrap', 'configRef']));
    const metadata = metaOf(r, ['spec', 'template', 'metadata']);
    return {
      infra,
      template: {
        ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
        spec: {
          version: r.get([...t, 'version']),
          machineClassRef: { name: infra?.name },
          ...(failureDomain !== undefined ? { failureDomain } : {}),
          nodeDrainTimeoutSeconds: drainSeconds(r, [...t, 'nodeDrainTimeout'], [...t, 'deletion', 'nodeDrainTimeoutSeconds']),
          ...teardownSeconds(r, t, t),
          ...(taints ? { taints } : {}),
        },
      },
    };
  };

  for (const d of docs.filter((d) => is(d, 'cluster.x-k8s.io', 'MachineDeployment'))) {
    const r = reader(d);
    const { template } = machineTemplate(d, r, ['AWSMachineTemplate'], ['KubeadmConfigTemplate']);
    const spec: Record<string, unknown> = { clusterName: r.get(['spec', 'clusterName']) };
    const replicas = r.get(['spec', 'replicas']);
    if (replicas !== undefined) spec['replicas'] = replicas;
    const selector = selectorOf(r.get(['spec', 'selector']));
    if (selector) spec['selector'] = selector;
    spec['template'] = template;
    const type = r.first(['spec', 'rollout', 'strategy', 'type'], ['spec', 'strategy', 'type'])?.value;
    const maxSurge = r.first(['spec', 'rollout', 'strategy', 'rollingUpdate', 'maxSurge'], ['spec', 'strategy', 'rollingUpdate', 'maxSurge'])?.value;
    const maxUnavailable = r.first(
      ['spec', 'rollout', 'strategy', 'rollingUpdate', 'maxUnavailable'],
      ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'],
    )?.value;
    if (type !== undefined || maxSurge !== undefined || maxUnavailable !== undefined)
      spec['strategy'] = {
        ...(type !== undefined ? { type } : {}),
        ...(maxSurge !== undefined || maxUnavailable !== undefined
          ? { rollingUpdate: { ...(maxSurge !== undefined ? { maxSurge } : {}), ...(maxUnavailable !== undefined ? { maxUnavailable } : {}) } }
          : {}),
      };
    const deletePolicy = r.first(['spec', 'deletion', 'order'], ['spec', 'strategy', 'rollingUpdate', 'deletePolicy'])?.value;
    if (deletePolicy !== undefined) spec['deletePolicy'] = deletePolicy;
    const minReady = r.first(['spec', 'template', 'spec', 'minReadySeconds'], ['spec', 'minReadySeconds'])?.value;
    if (minReady !== undefined) spec['minReadySeconds'] = minReady;
    for (const f of ['revisionHistoryLimit', 'progressDeadlineSeconds', 'paused']) {
      const v = r.get(['spec', f]);
      if (v !== undefined) spec[f] = v;
    }
    outputs.push({
      object: { apiVersion: API_VERSION, kind: 'MachineDeployment', metadata: { name: d.name, ...ns(d), ...metaOf(r, ['metadata']) }, spec },
      from: d.source,
    });
  }

  for (const d of docs.filter((d) => is(d, 'cluster.x-k8s.io', 'MachinePool'))) {
    const r = reader(d);
    const { infra, template } = machineTemplate(d, r, ['AWSMachinePool'], ['KubeadmConfig']);
    r.warn(
      [],
      'converted to a MachineDeployment with the same instance settings: clusterless runs no Auto Scaling group, it makes and replaces each machine itself',
    );
    // A pool's failure domains restrict where its machines go: so does its class's.
    const poolZones = r.get(['spec', 'failureDomains']);
    const spec: Record<string, unknown> = { clusterName: r.get(['spec', 'clusterName']) };
    const replicas = r.get(['spec', 'replicas']);
    if (replicas !== undefined) spec['replicas'] = replicas;
    spec['template'] = template;
    const minReady = r.first(['spec', 'template', 'spec', 'minReadySeconds'], ['spec', 'minReadySeconds'])?.value;
    if (minReady !== undefined) spec['minReadySeconds'] = minReady;
    outputs.push({
      object: { apiVersion: API_VERSION, kind: 'MachineDeployment', metadata: { name: d.name, ...ns(d), ...metaOf(r, ['metadata']) }, spec },
      from: d.source,
    });
    if (infra) {
      const ir = reader(infra);
      const aws = awsMachineClass(ir, ['spec', 'awsLaunchTemplate'], awsContext);
      // Overrides are the instance types the group may use: clusterless tries them in order after the first.
      const overrides = ir.get(['spec', 'mixedInstancesPolicy', 'overrides']);
      if (Array.isArray(overrides))
        for (const o of overrides)
          if (isRecord(o) && typeof o['instanceType'] === 'string' && !(aws['instanceTypes'] as unknown[]).includes(o['instanceType']))
            (aws['instanceTypes'] as unknown[]).push(o['instanceType']);
      const zones = [...((aws['failureDomains'] as string[] | undefined) ?? [])];
      const azs = ir.get(['spec', 'availabilityZones']);
      for (const z of [...(Array.isArray(azs) ? azs : []), ...(Array.isArray(poolZones) ? poolZones : [])])
        if (typeof z === 'string' && !zones.includes(z)) zones.push(z);
      const subnets = ir.peek(['spec', 'subnets']);
      if (Array.isArray(subnets))
        subnets.forEach((s, i) => {
          const zone = isRecord(s) && typeof s['id'] === 'string' ? subnetZones.get(s['id']) : undefined;
          if (zone) {
            ir.skip(['spec', 'subnets', i]);
            if (!zones.includes(zone)) zones.push(zone);
          }
        });
      if (zones.length > 0) aws['failureDomains'] = zones;
      for (const f of ['minSize', 'maxSize'])
        if (ir.peek(['spec', f]) !== undefined)
          ir.warn(['spec', f], 'not converted (clusterless keeps spec.replicas machines; bounds for an autoscaler go in its annotations)');
      outputs.push({
        object: { apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name: infra.name, ...ns(infra), ...metaOf(ir, ['metadata']) }, spec: { aws } },
        from: infra.source,
      });
    }
  }

  for (const d of docs.filter((d) => is(d, 'cluster.x-k8s.io', 'MachineHealthCheck'))) {
    const r = reader(d);
    const spec: Record<string, unknown> = { clusterName: r.get(['spec', 'clusterName']), selector: selectorOf(r.get(['spec', 'selector'])) ?? {} };
    const v1beta2 = r.peek(['spec', 'checks', 'unhealthyNodeConditions']);
    const conditions = r.get(['spec', 'unhealthyConditions']);
    r.skip(['spec', 'checks', 'unhealthyNodeConditions']);
    if (Array.isArray(v1beta2))
      spec['unhealthyConditions'] = v1beta2.map((c) =>
        isRecord(c) ? { type: c['type'], status: c['status'], timeout: `${String(c['timeoutSeconds'])}s` } : c,
      );
    else if (Array.isArray(conditions)) spec['unhealthyConditions'] = conditions;
    // Unset, Cluster API checks no node condition (only the node's start-up).
    else spec['unhealthyConditions'] = [];
    const startup = r.first(['spec', 'checks', 'nodeStartupTimeoutSeconds'], ['spec', 'nodeStartupTimeout']);
    if (startup) spec['nodeStartupTimeout'] = typeof startup.value === 'number' ? `${startup.value}s` : startup.value;
    const maxUnhealthy = r.first(['spec', 'remediation', 'triggerIf', 'unhealthyLessThanOrEqualTo'], ['spec', 'maxUnhealthy']);
    if (maxUnhealthy) spec['maxUnhealthy'] = maxUnhealthy.value;
    const range = r.first(['spec', 'remediation', 'triggerIf', 'unhealthyInRange'], ['spec', 'unhealthyRange']);
    if (range) spec['unhealthyRange'] = range.value;
    outputs.push({
      object: { apiVersion: API_VERSION, kind: 'MachineHealthCheck', metadata: { name: d.name, ...ns(d), ...metaOf(r, ['metadata']) }, spec },
      from: d.source,
    });
  }

  // ClusterResourceSets: each ConfigMap or Secret becomes one resource holding its manifests, its data keys in
  // sorted order as Cluster API applies them (core/reconcilers/clusterresourceset/clusterresourceset_helpers.go,
  // normalizeData).
  for (const d of docs.filter((d) => is(d, 'addons.cluster.x-k8s.io', 'ClusterResourceSet'))) {
    const r = reader(d);
    const resources: Record<string, unknown>[] = [];
    const given = r.get(['spec', 'resources']);
    (Array.isArray(given) ? given : []).forEach((ref, i) => {
      const kind = isRecord(ref) ? ref['kind'] : undefined;
      const target = isRecord(ref) && (kind === 'ConfigMap' || kind === 'Secret') ? find(kind, ref['name'], d.namespace) : undefined;
      if (target?.version !== 'v1') {
        errors.push({
          source: d.source,
          path: `spec.resources[${i}]`,
          message: `${String(kind)}/${String(isRecord(ref) ? ref['name'] : '')} is not in the file`,
        });
        return;
      }
      used.add(target);
      const tr = reader(target);
      const data = tr.get(['data']);
      const texts = Object.entries(isRecord(data) ? data : {})
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, v]) => (kind === 'Secret' ? Buffer.from(String(v), 'base64').toString('utf8') : String(v)));
      tr.skip(['type']);
      if (kind === 'Secret')
        tr.warn(['data'], 'converted to plain manifests of the ClusterResourceSet: whoever may read ClusterResourceSets in the namespace reads them');
      resources.push({ name: target.name, manifests: texts.join('\n---\n') });
    });
    const spec: Record<string, unknown> = { resources };
    const selector = selectorOf(r.get(['spec', 'clusterSelector']));
    if (selector) spec['clusterSelector'] = selector;
    const strategy = r.get(['spec', 'strategy']);
    if (strategy !== undefined) spec['strategy'] = strategy;
    outputs.push({
      object: { apiVersion: API_VERSION, kind: 'ClusterResourceSet', metadata: { name: d.name, ...ns(d), ...metaOf(r, ['metadata']) }, spec },
      from: d.source,
    });
  }

  // Bootstrap configurations: clusterless writes its own, so every field they set is named.
  for (const d of docs.filter((d) => is(d, 'bootstrap.cluster.x-k8s.io', 'KubeadmConfigTemplate') || is(d, 'bootstrap.cluster.x-k8s.io', 'KubeadmConfig')))
    used.add(d);

  // clusterless objects pass through; everything else is converted, or named and skipped.
  for (const d of docs) {
    if (d.version === API_VERSION) {
      outputs.push({ object: d.object, from: d.source });
      continue;
    }
    if (readers.has(d) || used.has(d)) continue;
    const why =
      d.version === 'v1' && (d.kind === 'ConfigMap' || d.kind === 'Secret')
        ? 'no ClusterResourceSet names it'
        : d.kind === 'AWSCluster'
          ? "no Cluster's spec.infrastructureRef names it"
          : d.kind === 'AWSMachinePool'
            ? "no MachinePool's spec.template.spec.infrastructureRef names it"
            : `${NO_EQUIVALENT} of ${d.version} ${d.kind}`;
    warnings.push({ source: d.source, path: '', message: `not converted (${why}); skipped` });
  }

  // Whatever no conversion read is named, object by object.
  for (const d of docs) {
    if (!readers.has(d) && !used.has(d)) continue;
    const kubeadm = d.kind.startsWith('KubeadmConfig');
    reader(d).leftovers((p) => (kubeadm || p.includes('kubeadmConfigSpec') ? KUBEADM_RENDERED : NO_EQUIVALENT));
  }
  warnings.sort((a, b) => docs.findIndex((d) => d.source === a.source) - docs.findIndex((d) => d.source === b.source));

  // Every result must be what the API accepts; where it is not, the field at fault is named.
  // An object already in error (a reference to nothing) is not validated too: one error, not two, per mistake.
  const failed = new Set(errors.map((e) => e.source));
  for (const o of outputs) {
    if (o.from.split(' and ').some((s) => failed.has(s))) continue;
    const v = validateCreate(o.object);
    if (!v.ok) {
      const meta = o.object['metadata'] as { name?: string } | undefined;
      for (const c of v.causes)
        errors.push({ source: `${String(o.object['kind'])}/${meta?.name ?? ''}`, path: c.field, message: `${c.message} (converted from ${o.from})` });
    }
  }
  if (errors.length > 0) return { objects: [], warnings, errors };

  const order = (o: Output) => KINDS.findIndex((k) => k.kind === o.object['kind']);
  const objects = outputs
    .map((o, i) => ({ o, i }))
    .sort((a, b) => order(a.o) - order(b.o) || a.i - b.i)
    .map(({ o }) => o.object);
  return { objects, warnings, errors };
}
