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
import { BUILTIN_VARIABLES, TopologyLabels } from '../cluster-class.js';
import { SCHEMA_KEYS } from '../cluster-class-variables.js';
import { API_VERSION, Annotations, Labels } from '../common.js';
import { CONTROL_PLANE_TAINT } from '../control-plane.js';
import { KINDS } from '../kinds.js';
import { validateCreate } from '../validate.js';
import { awsClusterProvider, awsMachineClass, type AwsContext } from './aws.js';
import {
  CapiAnnotations,
  CapiLabels,
  FieldReader,
  durationToSeconds,
  formatIssue,
  isRecord,
  pathString,
  str,
  type ConversionIssue,
  type Path,
} from './fields.js';
import { type JsonPatchOp, applyJsonPatch } from './json-patch.js';

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
  // Objects a topology generated stay its own: the topology planner adopts only what carries these.
  [CapiLabels.topologyOwned]: TopologyLabels.owned,
  [CapiLabels.topologyDeploymentName]: TopologyLabels.machineDeploymentName,
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

/** `{ metadata: { labels, annotations } }` at `base`, or nothing when it has neither. */
function metaObject(r: FieldReader, base: Path): { metadata?: Record<string, unknown> } {
  const metadata = metaOf(r, base);
  return Object.keys(metadata).length > 0 ? { metadata } : {};
}

interface Doc {
  /** The document; a class's patch of a machine template replaces it with the patched copy. */
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

/** A patch of a class's AWSClusterTemplate, evaluated for each Cluster of the class. */
interface InfraPatch {
  op: JsonPatchOp;
  path: string;
  value: unknown;
  variable: string | undefined;
  /** Where the patch is in its ClusterClass, for warnings. */
  at: string;
}

interface ClassInfo {
  doc: Doc;
  infra: Doc | undefined;
  infraPatches: InfraPatch[];
  /** Variable -> its schema's default. */
  defaults: Map<string, unknown>;
  /** Variable -> the MachineClasses a patch evaluated it into (with its default), and their worker class (none: the control plane's). */
  machineVariables: Map<string, { machineClass: string; workerClass: string | undefined }[]>;
}

/** The schema at `path` in clusterless's subset: every keyword outside it warned about, by its path. */
function schemaSubset(r: FieldReader, path: Path): unknown {
  const schema = r.peek(path);
  if (!isRecord(schema)) return r.get(path);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (!SCHEMA_KEYS.has(k)) continue; // left unread: named by the leftovers
    if (k === 'properties' && isRecord(v)) out[k] = Object.fromEntries(Object.keys(v).map((p) => [p, schemaSubset(r, [...path, k, p])]));
    else if (k === 'items' && isRecord(v)) out[k] = schemaSubset(r, [...path, k]);
    else out[k] = r.get([...path, k]);
  }
  return out;
}

/**
 * Where a Cluster API patch of a template writes a field clusterless's ControlPlane or MachineDeployment has: the
 * KubeadmControlPlaneTemplate's maxSurge and remediation (durations in v1beta2's seconds only: v1beta1's are Go
 * duration strings, which a patch value cannot be converted from), the KubeadmConfigTemplate's node taints (the
 * MachineDeployment's, in clusterless). Undefined elsewhere.
 */
export function patchTarget(kind: string, path: string): { kind: 'ControlPlane' | 'MachineDeployment'; path: string } | undefined {
  const spec = '/spec/template/spec';
  if (kind === 'KubeadmControlPlaneTemplate') {
    const table: [string, string][] = [
      [`${spec}/rollout/strategy/rollingUpdate/maxSurge`, '/spec/rollout/maxSurge'],
      [`${spec}/rolloutStrategy/rollingUpdate/maxSurge`, '/spec/rollout/maxSurge'],
      [`${spec}/remediation/maxRetry`, '/spec/remediation/maxRetry'],
      [`${spec}/remediationStrategy/maxRetry`, '/spec/remediation/maxRetry'],
      [`${spec}/remediation/retryPeriodSeconds`, '/spec/remediation/retryPeriodSeconds'],
      [`${spec}/remediation/minHealthyPeriodSeconds`, '/spec/remediation/minHealthyPeriodSeconds'],
      [`${spec}/machineTemplate/spec/deletion/nodeDrainTimeoutSeconds`, '/spec/nodeDrainTimeoutSeconds'],
    ];
    const found = table.find(([from]) => from === path);
    return found ? { kind: 'ControlPlane', path: found[1] } : undefined;
  }
  const taints = `${spec}/joinConfiguration/nodeRegistration/taints`;
  if (kind === 'KubeadmConfigTemplate' && (path === taints || path.startsWith(`${taints}/`)))
    return { kind: 'MachineDeployment', path: `/spec/template/spec/taints${path.slice(taints.length)}` };
  return undefined;
}

/** A path of an AWSClusterTemplate read as an AWSCluster (`spec.region`), as the template spells it. */
const templatePath = (path: string) => (path.startsWith('spec.') ? `spec.template.${path}` : path === 'spec' ? 'spec.template.spec' : path);

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
  const clusterSpecs = [
    ...docs.filter((d) => is(d, 'infrastructure.cluster.x-k8s.io', 'AWSCluster')).map((d) => d.object['spec']),
    // A class's AWSClusterTemplate holds the same settings one level down.
    ...docs
      .filter((d) => is(d, 'infrastructure.cluster.x-k8s.io', 'AWSClusterTemplate'))
      .map((d) => (isRecord(d.object['spec']) && isRecord(d.object['spec']['template']) ? d.object['spec']['template']['spec'] : undefined)),
  ];
  for (const given of clusterSpecs) {
    const spec = isRecord(given) ? given : {};
    if (typeof spec['sshKeyName'] === 'string') clusterSshKeys.add(spec['sshKeyName']);
    const network = isRecord(spec['network']) ? spec['network'] : {};
    for (const s of Array.isArray(network['subnets']) ? network['subnets'] : [])
      if (isRecord(s) && typeof s['id'] === 'string' && typeof s['availabilityZone'] === 'string') subnetZones.set(s['id'], s['availabilityZone']);
  }
  const awsContext: AwsContext = { subnetZones, clusterSshKeys, defaultImageSsmParameter: options.defaultImageSsmParameter };
  const used = new Set<Doc>();
  /** The per-cluster readers of each class's AWSClusterTemplate, and what each found; named once at the end. */
  const infraReaders = new Map<Doc, { reader: FieldReader; warnings: ConversionIssue[] }[]>();

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

  /** A KubeadmControlPlane's (or its template's, under `s`) rollout and remediation, in either version's spelling. */
  const rolloutAndRemediation = (r: FieldReader, s: Path): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const maxSurge = r.first([...s, 'rollout', 'strategy', 'rollingUpdate', 'maxSurge'], [...s, 'rolloutStrategy', 'rollingUpdate', 'maxSurge']);
    r.first([...s, 'rollout', 'strategy', 'type'], [...s, 'rolloutStrategy', 'type']); // RollingUpdate: the only strategy of both
    if (maxSurge) out['rollout'] = { maxSurge: maxSurge.value };
    const remediation: Record<string, unknown> = {};
    const maxRetry = r.first([...s, 'remediation', 'maxRetry'], [...s, 'remediationStrategy', 'maxRetry']);
    if (maxRetry) remediation['maxRetry'] = maxRetry.value;
    const retry = secondsOf(r, [...s, 'remediationStrategy', 'retryPeriod'], [...s, 'remediation', 'retryPeriodSeconds']);
    if (retry !== undefined) remediation['retryPeriodSeconds'] = retry;
    const healthy = secondsOf(r, [...s, 'remediationStrategy', 'minHealthyPeriod'], [...s, 'remediation', 'minHealthyPeriodSeconds']);
    if (healthy !== undefined) remediation['minHealthyPeriodSeconds'] = healthy;
    if (Object.keys(remediation).length > 0) out['remediation'] = remediation;
    return out;
  };

  /**
   * A MachineHealthCheck's checks under `s` (its spec, or a class's machineHealthCheck / healthCheck), in either
   * version's spelling: v1beta2's checks.unhealthyNodeConditions (timeoutSeconds) and remediation.triggerIf.
   */
  const healthCheckOf = (r: FieldReader, s: Path): Record<string, unknown> => {
    const spec: Record<string, unknown> = {};
    const v1beta2 = r.peek([...s, 'checks', 'unhealthyNodeConditions']);
    const conditions = r.get([...s, 'unhealthyConditions']);
    r.skip([...s, 'checks', 'unhealthyNodeConditions']);
    if (Array.isArray(v1beta2))
      spec['unhealthyConditions'] = v1beta2.map((c) =>
        isRecord(c) ? { type: c['type'], status: c['status'], timeout: `${String(c['timeoutSeconds'])}s` } : c,
      );
    else if (Array.isArray(conditions)) spec['unhealthyConditions'] = conditions;
    // Unset, Cluster API checks no node condition (only the node's start-up).
    else spec['unhealthyConditions'] = [];
    const startup = r.first([...s, 'checks', 'nodeStartupTimeoutSeconds'], [...s, 'nodeStartupTimeout']);
    if (startup) spec['nodeStartupTimeout'] = typeof startup.value === 'number' ? `${startup.value}s` : startup.value;
    const maxUnhealthy = r.first([...s, 'remediation', 'triggerIf', 'unhealthyLessThanOrEqualTo'], [...s, 'maxUnhealthy']);
    if (maxUnhealthy) spec['maxUnhealthy'] = maxUnhealthy.value;
    const range = r.first([...s, 'remediation', 'triggerIf', 'unhealthyInRange'], [...s, 'unhealthyRange']);
    if (range) spec['unhealthyRange'] = range.value;
    return spec;
  };

  // ClusterClasses (cluster-api api/core/v1beta1 and v1beta2 clusterclass_types.go). clusterless's class holds
  // the fields of what it stamps out, so each template it references is read into it: the
  // KubeadmControlPlaneTemplate's rollout, remediation and drain, the AWSMachineTemplates' names (each is a
  // MachineClass, below), the KubeadmConfigTemplates' node taints. A class's AWSClusterTemplate is per cluster in
  // clusterless (Cluster.spec.provider), so it is converted into each Cluster of the class, with the class's
  // infrastructureCluster patches evaluated for that cluster's variables.
  const classInfo = new Map<string, ClassInfo>();
  for (const d of docs.filter((d) => is(d, 'cluster.x-k8s.io', 'ClusterClass'))) {
    const r = reader(d);
    const v2 = d.version.endsWith('v1beta2');
    const ref = (base: Path): Path => (v2 ? [...base, 'templateRef'] : [...base, 'ref']);
    const cp = ['spec', 'controlPlane'];
    const cpTemplate = resolve(d, ref(cp), ['KubeadmControlPlaneTemplate']);
    const cpMachine = resolve(d, ref([...cp, 'machineInfrastructure']), ['AWSMachineTemplate']);
    const infra = resolve(d, ref(['spec', 'infrastructure']), ['AWSClusterTemplate']);
    const controlPlane: Record<string, unknown> = { ...metaObject(r, [...cp, 'metadata']), machineClassRef: { name: cpMachine?.name } };
    if (cpTemplate) {
      const tr = reader(cpTemplate);
      const ts = ['spec', 'template', 'spec'];
      Object.assign(controlPlane, rolloutAndRemediation(tr, ts));
      const drain = drainSeconds(tr, [...ts, 'machineTemplate', 'nodeDrainTimeout'], [...ts, 'machineTemplate', 'spec', 'deletion', 'nodeDrainTimeoutSeconds']);
      if (drain > 0) controlPlane['nodeDrainTimeoutSeconds'] = drain;
    }
    // The class's own drain timeout wins over its template's, as Cluster API's topology controller sets it last.
    const drain = r.first([...cp, 'deletion', 'nodeDrainTimeoutSeconds'], [...cp, 'nodeDrainTimeout']);
    if (drain) controlPlane['nodeDrainTimeoutSeconds'] = drainSeconds(r, [...cp, 'nodeDrainTimeout'], [...cp, 'deletion', 'nodeDrainTimeoutSeconds']);
    const cpCheck = r.peek([...cp, v2 ? 'healthCheck' : 'machineHealthCheck']);
    if (isRecord(cpCheck)) controlPlane['machineHealthCheck'] = healthCheckOf(r, [...cp, v2 ? 'healthCheck' : 'machineHealthCheck']);

    const machineTemplates = new Map<string, Doc>(); // worker class -> its AWSMachineTemplate
    const workers: Record<string, unknown>[] = [];
    const given = r.peek(['spec', 'workers', 'machineDeployments']);
    (Array.isArray(given) ? given : []).forEach((_, i) => {
      const base = ['spec', 'workers', 'machineDeployments', i];
      const template = v2 ? base : [...base, 'template'];
      const workerClass = r.get([...base, 'class']);
      const machine = resolve(d, ref([...template, 'infrastructure']), ['AWSMachineTemplate']);
      if (machine && typeof workerClass === 'string') machineTemplates.set(workerClass, machine);
      const bootstrapRef = r.get(ref([...template, 'bootstrap']));
      if (isRecord(bootstrapRef)) {
        const config = find(String(bootstrapRef['kind']), bootstrapRef['name'], d.namespace);
        if (config) used.add(config);
      }
      // v1beta2's MachineTaints on the class and the node taints of its bootstrap template: both end as node taints.
      const classTaints = r.peek([...base, 'taints']);
      const taints = [
        ...(bootstrapTaints(d, bootstrapRef) ?? []),
        ...(Array.isArray(classTaints)
          ? classTaints.map((_, t) => {
              const tp = [...base, 'taints', t];
              const value = r.get([...tp, 'value']);
              return { key: r.get([...tp, 'key']), ...(value !== undefined && value !== '' ? { value } : {}), effect: r.get([...tp, 'effect']) };
            })
          : []),
      ];
      const drainAt = r.first([...base, 'deletion', 'nodeDrainTimeoutSeconds'], [...base, 'nodeDrainTimeout']);
      const metadata = metaObject(r, [...template, 'metadata']);
      const out: Record<string, unknown> = {
        class: workerClass,
        template: {
          ...metadata,
          machineClassRef: { name: machine?.name },
          ...(taints.length > 0 ? { taints } : {}),
          ...(drainAt ? { nodeDrainTimeoutSeconds: drainSeconds(r, [...base, 'nodeDrainTimeout'], [...base, 'deletion', 'nodeDrainTimeoutSeconds']) } : {}),
        },
      };
      const strategy = v2 ? [...base, 'rollout', 'strategy'] : [...base, 'strategy'];
      const type = r.get([...strategy, 'type']);
      const maxSurge = r.get([...strategy, 'rollingUpdate', 'maxSurge']);
      const maxUnavailable = r.get([...strategy, 'rollingUpdate', 'maxUnavailable']);
      if (type !== undefined || maxSurge !== undefined || maxUnavailable !== undefined)
        out['strategy'] = {
          ...(type !== undefined ? { type } : {}),
          ...(maxSurge !== undefined || maxUnavailable !== undefined
            ? { rollingUpdate: { ...(maxSurge !== undefined ? { maxSurge } : {}), ...(maxUnavailable !== undefined ? { maxUnavailable } : {}) } }
            : {}),
        };
      const minReady = r.get([...base, 'minReadySeconds']);
      if (minReady !== undefined) out['minReadySeconds'] = minReady;
      const check = [...base, v2 ? 'healthCheck' : 'machineHealthCheck'];
      if (isRecord(r.peek(check))) out['machineHealthCheck'] = healthCheckOf(r, check);
      workers.push(out);
    });

    // Variables as they are: clusterless reads the same name, required and openAPIV3Schema.
    const variables: Record<string, unknown>[] = [];
    const defaults = new Map<string, unknown>();
    const declared = r.peek(['spec', 'variables']);
    (Array.isArray(declared) ? declared : []).forEach((_, i) => {
      const base = ['spec', 'variables', i];
      const name = r.get([...base, 'name']);
      const required = r.get([...base, 'required']);
      const schema = schemaSubset(r, [...base, 'schema', 'openAPIV3Schema']);
      if (typeof name === 'string' && isRecord(schema) && schema['default'] !== undefined) defaults.set(name, schema['default']);
      variables.push({ name, ...(required !== undefined ? { required } : {}), schema: { openAPIV3Schema: schema } });
    });

    // Patches. Cluster API's inline patches change templates; clusterless's change the ControlPlane and
    // MachineDeployments. So each is evaluated here where it can be, and named where it cannot.
    const infraPatches: InfraPatch[] = [];
    const machineVariables: ClassInfo['machineVariables'] = new Map();
    const workerClassOf = (t: Doc) => [...machineTemplates].find(([, doc]) => doc === t)?.[0];
    const converted = new Map<number, { name: string; definitions: Map<number, { selector: unknown; jsonPatches: unknown[] }> }>();
    const patches = r.peek(['spec', 'patches']);
    (Array.isArray(patches) ? patches : []).forEach((_, i) => {
      const pb = ['spec', 'patches', i];
      r.get([...pb, 'name']);
      r.get([...pb, 'description']);
      if (r.peek([...pb, 'enabledIf']) !== undefined) r.warn([...pb, 'enabledIf'], 'not evaluated (Go templates): the patch was converted as if enabled');
      const definitions = r.peek([...pb, 'definitions']);
      (Array.isArray(definitions) ? definitions : []).forEach((_, j) => {
        const db = [...pb, 'definitions', j];
        const kind = String(r.get([...db, 'selector', 'kind']));
        r.get([...db, 'selector', 'apiVersion']);
        const match = r.get([...db, 'selector', 'matchResources']);
        const ops = r.peek([...db, 'jsonPatches']);
        (Array.isArray(ops) ? ops : []).forEach((op, k) => {
          const pp = [...db, 'jsonPatches', k];
          const jp = isRecord(op) ? op : {};
          if (isRecord(jp['valueFrom']) && jp['valueFrom']['template'] !== undefined) {
            r.warn(pp, 'not converted (valueFrom.template is a Go template, which clusterless does not evaluate)');
            return;
          }
          const variable = isRecord(jp['valueFrom']) ? jp['valueFrom']['variable'] : undefined;
          if (kind === 'AWSClusterTemplate' && isRecord(match) && match['infrastructureCluster'] === true) {
            r.skip(pp);
            infraPatches.push({
              op: String(jp['op']) as JsonPatchOp,
              path: String(jp['path']),
              value: jp['value'],
              variable: str(variable),
              at: pathString(pp),
            });
            return;
          }
          const target = patchTarget(kind, String(jp['path']));
          if (target) {
            // A field clusterless's ControlPlane or MachineDeployment has: the patch stays a patch, of that object.
            const selector =
              target.kind === 'ControlPlane'
                ? isRecord(match) && match['controlPlane'] === true
                  ? { kind: 'ControlPlane', matchResources: { controlPlane: true } }
                  : undefined
                : isRecord(match) && isRecord(match['machineDeploymentClass'])
                  ? { kind: 'MachineDeployment', matchResources: { machineDeploymentClass: match['machineDeploymentClass'] } }
                  : undefined;
            const builtins: readonly string[] = BUILTIN_VARIABLES[target.kind];
            if (!selector) r.warn(pp, `not converted (a ${kind} patch must select the ${target.kind === 'ControlPlane' ? 'control plane' : 'worker classes'})`);
            else if (variable !== undefined && String(variable).startsWith('builtin.') && !builtins.includes(String(variable)))
              r.warn(pp, `not converted (clusterless's built-in variables are ${builtins.join(', ')})`);
            else {
              r.skip(pp);
              const name = String(r.peek([...pb, 'name']));
              const patch = converted.get(i) ?? { name, definitions: new Map<number, { selector: unknown; jsonPatches: unknown[] }>() };
              converted.set(i, patch);
              const definition = patch.definitions.get(j) ?? { selector, jsonPatches: [] };
              patch.definitions.set(j, definition);
              definition.jsonPatches.push({
                op: jp['op'],
                path: target.path,
                ...(variable !== undefined ? { valueFrom: { variable } } : jp['op'] === 'remove' ? {} : { value: jp['value'] }),
              });
            }
            return;
          }
          if (kind !== 'AWSMachineTemplate') {
            r.warn(pp, `not converted (${kind.startsWith('Kubeadm') ? KUBEADM_RENDERED : `a patch of ${kind}: ${NO_EQUIVALENT}`})`);
            return;
          }
          // A MachineClass is shared by every cluster of the class and never changes: the patch is evaluated once,
          // with the variable's default.
          const targets = [
            ...(isRecord(match) && match['controlPlane'] === true && cpMachine ? [cpMachine] : []),
            ...(isRecord(match) && isRecord(match['machineDeploymentClass']) && Array.isArray(match['machineDeploymentClass']['names'])
              ? match['machineDeploymentClass']['names'].flatMap((n) => machineTemplates.get(String(n)) ?? [])
              : []),
          ];
          const value = variable === undefined ? jp['value'] : defaults.get(String(variable));
          if (variable !== undefined && !defaults.has(String(variable))) {
            r.warn(pp, `not converted (variable ${String(variable)} has no default to evaluate it with)`);
            return;
          }
          for (const t of targets) {
            const patched = applyJsonPatch(t.object, String(jp['op']) as JsonPatchOp, String(jp['path']), value);
            if ('error' in patched) {
              r.warn(pp, `not converted (${patched.error})`);
              continue;
            }
            t.object = patched.value as Record<string, unknown>;
            if (variable !== undefined)
              machineVariables.set(String(variable), [
                ...(machineVariables.get(String(variable)) ?? []),
                { machineClass: t.name, workerClass: workerClassOf(t) },
              ]);
          }
          r.warn(
            pp,
            `evaluated into MachineClass ${targets.map((t) => t.name).join(', ') || '(none matched)'}${variable === undefined ? '' : ` with ${String(variable)}'s default ${JSON.stringify(value)}`}: a clusterless patch changes the ControlPlane and MachineDeployments, never the MachineClass they name; to choose a class per cluster, patch machineClassRef.name with a variable`,
          );
        });
      });
    });

    if (infra) {
      // Every cluster reads it through its own copy (below); a class no Cluster of the file uses converts none of it.
      reader(infra).skip(['spec', 'template', 'spec']);
      infraReaders.set(infra, []);
    }
    classInfo.set(`${d.namespace ?? 'default'}/${d.name}`, { doc: d, infra, infraPatches, defaults, machineVariables });
    outputs.push({
      object: {
        apiVersion: API_VERSION,
        kind: 'ClusterClass',
        metadata: { name: d.name, ...ns(d), ...metaOf(r, ['metadata']) },
        spec: {
          controlPlane,
          ...(workers.length > 0 ? { workers: { machineDeployments: workers } } : {}),
          ...(variables.length > 0 ? { variables } : {}),
          ...(converted.size > 0 ? { patches: [...converted.values()].map((p) => ({ name: p.name, definitions: [...p.definitions.values()] })) } : {}),
        },
      },
      from: d.source,
    });
  }

  /**
   * A Cluster's spec.topology (cluster-api api/core/v1beta2 cluster_types.go, Topology; v1beta1's class and
   * classNamespace are v1beta2's classRef), and its spec.provider from its class's AWSClusterTemplate with the
   * class's infrastructureCluster patches evaluated for the cluster's variables.
   */
  const topologyOf = (d: Doc, r: FieldReader, spec: Record<string, unknown>): Record<string, unknown> => {
    const t = ['spec', 'topology'];
    const namespace = d.namespace ?? 'default';
    const classAt = r.first([...t, 'classRef', 'name'], [...t, 'class']);
    const classNamespace = r.first([...t, 'classRef', 'namespace'], [...t, 'classNamespace']);
    if (classNamespace && classNamespace.value !== namespace)
      errors.push({
        source: d.source,
        path: pathString(classNamespace.path),
        message: `Unsupported value: "${String(classNamespace.value)}": clusterless takes a ClusterClass of the Cluster's own namespace`,
      });
    const info = classInfo.get(`${namespace}/${String(classAt?.value)}`);
    if (!info)
      errors.push({
        source: d.source,
        path: classAt ? pathString(classAt.path) : 'spec.topology.class',
        message: `ClusterClass/${String(classAt?.value)} is not in the file (its templates make the cluster)`,
      });
    const topology: Record<string, unknown> = { class: classAt?.value, version: r.get([...t, 'version']) };
    const controlPlane: Record<string, unknown> = { ...metaObject(r, [...t, 'controlPlane', 'metadata']) };
    const replicas = r.get([...t, 'controlPlane', 'replicas']);
    if (replicas !== undefined) controlPlane['replicas'] = replicas;
    if (Object.keys(controlPlane).length > 0) topology['controlPlane'] = controlPlane;

    /**
     * name/value pairs at `at`; a variable a class patch evaluated into a MachineClass (of `workerClass` alone, for a
     * MachineDeployment's overrides) is named when its value differs from the default it was evaluated with.
     */
    const values = (at: Path, workerClass?: unknown): { name: unknown; value: unknown }[] | undefined => {
      const given = r.peek(at);
      if (!Array.isArray(given)) return undefined;
      return given.map((_, i) => {
        const name = r.get([...at, i, 'name']);
        const value = r.get([...at, i, 'value']);
        const classes = info?.machineVariables
          .get(String(name))
          ?.filter((m) => workerClass === undefined || m.workerClass === workerClass)
          .map((m) => m.machineClass);
        if (classes?.length && JSON.stringify(value) !== JSON.stringify(info?.defaults.get(String(name))))
          r.warn(
            [...at, i, 'value'],
            `not applied to MachineClass ${classes.join(', ')}, which was made with the default ${JSON.stringify(info?.defaults.get(String(name)))} (a MachineClass is shared by the clusters of a class)`,
          );
        return { name, value };
      });
    };
    const workers: Record<string, unknown>[] = [];
    const pools = r.peek([...t, 'workers', 'machineDeployments']);
    (Array.isArray(pools) ? pools : []).forEach((_, i) => {
      const base = [...t, 'workers', 'machineDeployments', i];
      const w: Record<string, unknown> = { class: r.get([...base, 'class']), name: r.get([...base, 'name']) };
      for (const f of ['replicas', 'failureDomain']) {
        const v = r.get([...base, f]);
        if (v !== undefined) w[f] = v;
      }
      Object.assign(w, metaObject(r, [...base, 'metadata']));
      const overrides = values([...base, 'variables', 'overrides'], w['class']);
      if (overrides) w['variables'] = { overrides };
      workers.push(w);
    });
    if (workers.length > 0) topology['workers'] = { machineDeployments: workers };
    const variables = values([...t, 'variables']);
    if (variables) topology['variables'] = variables;

    if (info?.infra) {
      const infra = info.infra;
      const known = new Map(info.defaults);
      for (const v of variables ?? []) known.set(String(v.name), v.value);
      // The built-in variables a patch of cluster settings can read (cluster-api internal/topology/variables).
      known.set('builtin.cluster.name', d.name);
      known.set('builtin.cluster.namespace', namespace);
      known.set('builtin.cluster.topology.version', topology['version']);
      known.set('builtin.cluster.topology.class', topology['class']);
      let object: unknown = infra.object;
      for (const p of info.infraPatches) {
        if (p.variable !== undefined && !known.has(p.variable)) {
          warnings.push({ source: info.doc.source, path: p.at, message: `not evaluated for ${d.source} (variable ${p.variable} has no value)` });
          continue;
        }
        const patched = applyJsonPatch(object, p.op, p.path, p.variable === undefined ? p.value : known.get(p.variable));
        if ('error' in patched) warnings.push({ source: info.doc.source, path: p.at, message: `not evaluated for ${d.source} (${patched.error})` });
        else object = patched.value;
      }
      const template = isRecord(object) && isRecord(object['spec']) ? object['spec']['template'] : undefined;
      const own: ConversionIssue[] = [];
      const ir = new FieldReader({ spec: isRecord(template) ? template['spec'] : undefined }, infra.source, own);
      infraReaders.get(infra)?.push({ reader: ir, warnings: own });
      const errs: { path: string; message: string }[] = [];
      const { provider, endpoint } = awsClusterProvider(ir, errs);
      for (const e of errs) errors.push({ source: infra.source, path: templatePath(e.path), message: `${e.message} (for ${d.source})` });
      spec['provider'] = { aws: provider };
      if (endpoint && !spec['controlPlaneEndpoint']) spec['controlPlaneEndpoint'] = endpoint;
    }
    return topology;
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

    if (r.peek(['spec', 'topology']) !== undefined) {
      spec['topology'] = topologyOf(d, r, spec);
      outputs.push({
        object: { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: d.name, ...ns(d), ...metaOf(r, ['metadata']) }, spec },
        from: d.source,
      });
      continue;
    }

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
    Object.assign(spec, rolloutAndRemediation(r, ['spec']));
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
    const spec: Record<string, unknown> = {
      clusterName: r.get(['spec', 'clusterName']),
      selector: selectorOf(r.get(['spec', 'selector'])) ?? {},
      ...healthCheckOf(r, ['spec']),
    };
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
  // A class's cluster settings: named under the template's own paths, once however many clusters read them.
  for (const [infra, read] of infraReaders) {
    if (read.length === 0)
      warnings.push({
        source: infra.source,
        path: 'spec.template.spec',
        message: 'not converted (no Cluster of the file uses its ClusterClass: clusterless keeps these settings on each Cluster)',
      });
    for (const { reader: ir, warnings: own } of read) {
      ir.leftovers(NO_EQUIVALENT);
      for (const w of own) warnings.push({ ...w, path: templatePath(w.path) });
    }
  }
  const seen = new Set<string>();
  const unique = warnings.filter((w) => {
    const key = formatIssue(w);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  warnings.splice(0, warnings.length, ...unique);
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
