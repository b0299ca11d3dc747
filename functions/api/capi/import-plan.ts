/**
 * `clusterless import`: taking over a cluster that Cluster API and its AWS provider (CAPA) manage today. Pure: the
 * Cluster API objects read from the management cluster in; the refusals, the instances to adopt, the certificates
 * and the clusterless objects that make the adopted machines count out.
 *
 * Learnt from:
 * - cluster-api-provider-aws api/v1beta2/tags.go: CAPA tags every instance it launches with
 *   `sigs.k8s.io/cluster-api-provider-aws/cluster/<cluster>=owned` (NameAWSProviderOwned, ResourceLifecycleOwned),
 *   `sigs.k8s.io/cluster-api-provider-aws/role` and `Name`; its AWSMachine records spec.instanceID and
 *   spec.providerID (aws:///<zone>/<instance id>).
 * - cluster-api util/secret/consts.go and certificates.go: the cluster's certificates are Secrets
 *   `<cluster>-ca`, `-etcd`, `-proxy` (tls.crt, tls.key) and `-sa` (tls.crt is the public key, tls.key the private
 *   one) in the cluster's namespace.
 * - cluster-api cmd/clusterctl/client/cluster/mover.go: `clusterctl move` pauses the Cluster (spec.paused) before
 *   anything moves, so that two controllers never act on one object.
 */
import { API_VERSION, Annotations, Labels } from '../common.js';
import type { ControlPlane } from '../control-plane.js';
import type { MachineDeployment } from '../machine-deployment.js';
import type { MachineSet } from '../machine-set.js';
import { machineSetName, machineSetTemplate, templateHash } from '../../core/machinedeployment/template-hash.js';
import { CapiAnnotations, CapiLabels, isRecord, str } from './fields.js';

/** CAPA's ownership tag of a cluster's instances. */
export const capaOwnedTagKey = (capaClusterName: string): string => `sigs.k8s.io/cluster-api-provider-aws/cluster/${capaClusterName}`;
export const CAPA_OWNED = 'owned';
export const CAPA_ROLE_TAG = 'sigs.k8s.io/cluster-api-provider-aws/role';

/** Why an instance or certificates are not taken; `field` names the request field at fault (a 422 names it). */
export class AdoptionRefusedError extends Error {
  override name = 'AdoptionRefusedError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** The Cluster API kinds import reads, in the order they are converted: group, kind and the plural of its REST path. */
export const IMPORTED_KINDS = [
  { group: 'cluster.x-k8s.io', kind: 'Cluster', plural: 'clusters' },
  { group: 'controlplane.cluster.x-k8s.io', kind: 'KubeadmControlPlane', plural: 'kubeadmcontrolplanes' },
  { group: 'infrastructure.cluster.x-k8s.io', kind: 'AWSCluster', plural: 'awsclusters' },
  { group: 'infrastructure.cluster.x-k8s.io', kind: 'AWSMachineTemplate', plural: 'awsmachinetemplates' },
  { group: 'bootstrap.cluster.x-k8s.io', kind: 'KubeadmConfigTemplate', plural: 'kubeadmconfigtemplates' },
  { group: 'cluster.x-k8s.io', kind: 'MachineDeployment', plural: 'machinedeployments' },
  { group: 'cluster.x-k8s.io', kind: 'MachineSet', plural: 'machinesets' },
  { group: 'cluster.x-k8s.io', kind: 'Machine', plural: 'machines' },
  { group: 'infrastructure.cluster.x-k8s.io', kind: 'AWSMachine', plural: 'awsmachines' },
  { group: 'cluster.x-k8s.io', kind: 'MachineHealthCheck', plural: 'machinehealthchecks' },
  { group: 'addons.cluster.x-k8s.io', kind: 'ClusterResourceSet', plural: 'clusterresourcesets' },
] as const;

/** Kinds that are read for the adoption only: clusterless makes its own MachineSets and Machines. */
const NOT_CONVERTED = new Set(['MachineSet', 'Machine', 'AWSMachine']);

type Obj = Record<string, unknown>;

const rec = (v: unknown): Obj => (isRecord(v) ? v : {});
const meta = (o: Obj) => rec(o['metadata']);
const nameOf = (o: Obj) => str(meta(o)['name']) ?? '';
const labelsOf = (o: Obj) => rec(meta(o)['labels']) as Record<string, string>;

/** Whether a Cluster API object belongs to the cluster: its cluster-name label, or the Cluster itself. */
export function belongsTo(object: Obj, clusterName: string): boolean {
  if (object['kind'] === 'Cluster') return nameOf(object) === clusterName;
  return labelsOf(object)[CapiLabels.clusterName] === clusterName || rec(object['spec'])['clusterName'] === clusterName;
}

/**
 * Why the cluster cannot be imported now, or undefined. Cluster API must not act on the instances any more while
 * clusterless takes them: its Cluster must be paused, as `clusterctl move` pauses it.
 */
export function importRefusal(cluster: Obj): string | undefined {
  if (rec(cluster['spec'])['paused'] !== true)
    return `Cluster ${nameOf(cluster)} is not paused in Cluster API: set spec.paused to true on it first (as clusterctl move does), so that Cluster API and clusterless never both act on its instances`;
  if (meta(cluster)['deletionTimestamp'] !== undefined) return `Cluster ${nameOf(cluster)} is being deleted in Cluster API`;
  return undefined;
}

/**
 * A Cluster API object as convertClusterApi reads it: its name, namespace, labels and annotations and its spec,
 * without the server's fields (uid, resourceVersion, managedFields, status), which have no meaning here.
 */
export function declared(object: Obj): Obj {
  const m = meta(object);
  const keep: Obj = {};
  for (const k of ['name', 'namespace', 'labels']) if (m[k] !== undefined) keep[k] = m[k];
  // clusterctl move's pause annotation is Cluster API's pause, not a wish for the clusterless object.
  const { [CapiAnnotations.paused]: _paused, ...annotations } = rec(m['annotations']);
  if (Object.keys(annotations).length > 0) keep['annotations'] = annotations;
  const { status: _status, metadata: _metadata, ...rest } = object;
  return { ...rest, metadata: keep };
}

/** The objects to convert: the cluster's own, without the ones clusterless makes itself. */
export function convertible(objects: readonly Obj[]): Obj[] {
  return objects.filter((o) => !NOT_CONVERTED.has(String(o['kind']))).map(declared);
}

/** One running instance of a Cluster API Machine, to be adopted by a clusterless Machine of the same name. */
export interface InstanceAdoption {
  machineName: string;
  instanceId: string;
  providerID: string;
  role: 'control-plane' | 'worker';
  /** The MachineDeployment (converted under the same name) of a worker. */
  deploymentName?: string;
  version?: string;
  failureDomain?: string;
}

export interface AdoptionsResult {
  adoptions: InstanceAdoption[];
  /** Machines that cannot be adopted as they are (no instance yet, being deleted, no owner clusterless knows). */
  errors: string[];
}

/** The infrastructure reference of a Machine (v1beta1 spec.infrastructureRef, v1beta2 the same name with apiGroup). */
function infrastructureName(machine: Obj): string | undefined {
  return str(rec(rec(machine['spec'])['infrastructureRef'])['name']);
}

/** The instance id at the end of an aws:/// providerID. */
export function instanceIdOf(providerID: string | undefined): string | undefined {
  const m = providerID ? /^aws:\/\/\/[^/]*\/(i-[0-9a-f]+)$/.exec(providerID) : null;
  return m?.[1];
}

/** The instances of the cluster's Machines, found through each Machine's AWSMachine (or its own providerID). */
export function adoptionsOf(objects: readonly Obj[], clusterName: string): AdoptionsResult {
  const adoptions: InstanceAdoption[] = [];
  const errors: string[] = [];
  const awsMachines = new Map(objects.filter((o) => o['kind'] === 'AWSMachine').map((o) => [nameOf(o), o]));
  for (const m of objects.filter((o) => o['kind'] === 'Machine' && belongsTo(o, clusterName))) {
    const name = nameOf(m);
    const spec = rec(m['spec']);
    if (meta(m)['deletionTimestamp'] !== undefined) {
      errors.push(`Machine ${name} is being deleted in Cluster API: let it go before importing`);
      continue;
    }
    const infra = rec(rec(awsMachines.get(infrastructureName(m) ?? '') ?? {})['spec']);
    const providerID = str(infra['providerID']) ?? str(spec['providerID']);
    const instanceId = str(infra['instanceID']) ?? instanceIdOf(providerID);
    if (!providerID || !instanceId) {
      errors.push(`Machine ${name} has no instance yet (no providerID on it or its AWSMachine): let Cluster API finish provisioning it, then pause and import`);
      continue;
    }
    const labels = labelsOf(m);
    const controlPlane = Object.hasOwn(labels, CapiLabels.controlPlane);
    const deploymentName = labels[CapiLabels.deploymentName];
    if (!controlPlane && !deploymentName) {
      errors.push(`Machine ${name} belongs to neither the control plane nor a MachineDeployment: clusterless adopts only those`);
      continue;
    }
    adoptions.push({
      machineName: name,
      instanceId,
      providerID,
      role: controlPlane ? 'control-plane' : 'worker',
      ...(controlPlane ? {} : { deploymentName }),
      ...(str(spec['version']) ? { version: str(spec['version']) } : {}),
      ...(str(spec['failureDomain']) ? { failureDomain: str(spec['failureDomain']) } : {}),
    });
  }
  return { adoptions: adoptions.sort((a, b) => a.machineName.localeCompare(b.machineName)), errors };
}

/** A cluster's certificates as Cluster API keeps them, in the shape the clusterless SecretStore keeps them. */
export interface ImportedCertificates {
  ca: { cert: string; key: string };
  etcdCa: { cert: string; key: string };
  frontProxyCa: { cert: string; key: string };
  serviceAccount: { key: string; pub: string };
}

const SECRET_SUFFIXES = { ca: 'ca', etcdCa: 'etcd', frontProxyCa: 'proxy', serviceAccount: 'sa' } as const;

/** The names of the certificate Secrets of a cluster (util/secret: `<cluster>-<purpose>`). */
export const certificateSecretNames = (clusterName: string): string[] => Object.values(SECRET_SUFFIXES).map((s) => `${clusterName}-${s}`);

/** The certificates from the cluster's Secrets (data base64, as the API serves them); a missing part is an error. */
export function certificatesOf(secrets: readonly Obj[], clusterName: string): { certificates?: ImportedCertificates; errors: string[] } {
  const errors: string[] = [];
  const pair = (suffix: string): { crt: string; key: string } | undefined => {
    const name = `${clusterName}-${suffix}`;
    const secret = secrets.find((s) => nameOf(s) === name);
    const data = rec(secret?.['data']);
    const decode = (k: string) => (typeof data[k] === 'string' ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
    const crt = decode('tls.crt');
    const key = decode('tls.key');
    if (!crt || !key) {
      errors.push(secret ? `Secret ${name} has no tls.crt and tls.key` : `Secret ${name} (the cluster's ${suffix} certificate) is missing`);
      return undefined;
    }
    return { crt, key };
  };
  const ca = pair(SECRET_SUFFIXES.ca);
  const etcdCa = pair(SECRET_SUFFIXES.etcdCa);
  const frontProxyCa = pair(SECRET_SUFFIXES.frontProxyCa);
  const sa = pair(SECRET_SUFFIXES.serviceAccount);
  if (!ca || !etcdCa || !frontProxyCa || !sa) return { errors };
  return {
    certificates: {
      ca: { cert: ca.crt, key: ca.key },
      etcdCa: { cert: etcdCa.crt, key: etcdCa.key },
      frontProxyCa: { cert: frontProxyCa.crt, key: frontProxyCa.key },
      serviceAccount: { key: sa.key, pub: sa.crt },
    },
    errors,
  };
}

/**
 * The MachineSet a deployment's adopted machines join: the one the deployment's planner would make for its current
 * template (same name and template hash, computed from the deployment as the server stored it), left without an
 * owner so that the deployment adopts it as an orphan that matches its selector.
 */
export function adoptingMachineSet(md: MachineDeployment, replicas: number): MachineSet {
  const hash = templateHash(md.spec.template);
  const template = machineSetTemplate(md, hash);
  const selector = md.spec.selector ?? { matchLabels: {} };
  return {
    apiVersion: API_VERSION,
    kind: 'MachineSet',
    metadata: {
      name: machineSetName(md, hash),
      namespace: md.metadata.namespace,
      labels: { ...template.metadata.labels, [Labels.deploymentName]: md.metadata.name },
      annotations: { [Annotations.desiredReplicas]: String(md.spec.replicas) },
    },
    spec: {
      clusterName: md.spec.clusterName,
      replicas,
      selector: { ...selector, matchLabels: { ...selector.matchLabels, [Labels.templateHash]: hash } },
      template,
      minReadySeconds: md.spec.minReadySeconds,
      deletePolicy: md.spec.deletePolicy,
    },
  } as MachineSet;
}

/**
 * The clusterless Machine of an adopted instance: the labels its owner selects it by (so the MachineSet adopts it as
 * an orphan, or the control plane counts it), the owner's template, and the instance's providerID. It has no uid
 * yet: the instance is tagged with the uid the server gives it.
 */
export function adoptedMachine(a: InstanceAdoption, owner: { controlPlane: ControlPlane } | { machineSet: MachineSet }): Obj {
  if ('controlPlane' in owner) {
    const cp = owner.controlPlane;
    return {
      apiVersion: API_VERSION,
      kind: 'Machine',
      metadata: {
        name: a.machineName,
        namespace: cp.metadata.namespace,
        labels: { [Labels.clusterName]: cp.spec.clusterName, [Labels.controlPlane]: '', [Labels.controlPlaneName]: cp.metadata.name },
        // As the control plane owns the machines it makes (core/controlplane/machines.ts newControlPlaneMachine).
        ...(cp.metadata.uid
          ? {
              ownerReferences: [
                { apiVersion: API_VERSION, kind: 'ControlPlane', name: cp.metadata.name, uid: cp.metadata.uid, controller: true, blockOwnerDeletion: true },
              ],
            }
          : {}),
      },
      spec: {
        clusterName: cp.spec.clusterName,
        // The machine's own version: one older than the control plane's is rolled out by clusterless as Cluster API would.
        version: a.version ?? cp.spec.version,
        machineClassRef: { ...cp.spec.machineClassRef },
        nodeDrainTimeoutSeconds: cp.spec.nodeDrainTimeoutSeconds,
        ...(cp.spec.nodeVolumeDetachTimeoutSeconds !== undefined ? { nodeVolumeDetachTimeoutSeconds: cp.spec.nodeVolumeDetachTimeoutSeconds } : {}),
        ...(cp.spec.nodeDeletionTimeoutSeconds !== undefined ? { nodeDeletionTimeoutSeconds: cp.spec.nodeDeletionTimeoutSeconds } : {}),
        // kubeadm registered them with the control plane's taints: without them the machine would read as outdated.
        ...(cp.spec.taints?.length ? { taints: cp.spec.taints } : {}),
        providerID: a.providerID,
        ...(a.failureDomain ? { failureDomain: a.failureDomain } : {}),
      },
    };
  }
  const ms = owner.machineSet;
  const t = ms.spec.template;
  return {
    apiVersion: API_VERSION,
    kind: 'Machine',
    metadata: {
      name: a.machineName,
      namespace: ms.metadata.namespace,
      labels: { ...t.metadata.labels, [Labels.clusterName]: ms.spec.clusterName, [Labels.setName]: ms.metadata.name },
      ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
    },
    spec: {
      ...t.spec,
      clusterName: ms.spec.clusterName,
      providerID: a.providerID,
      ...(a.failureDomain && !t.spec.failureDomain ? { failureDomain: a.failureDomain } : {}),
    },
  };
}

/** Workers whose version is not their deployment's: Cluster API was rolling the deployment out. */
export function rolloutInProgress(adoptions: readonly InstanceAdoption[], deployments: readonly MachineDeployment[]): string[] {
  const out: string[] = [];
  for (const a of adoptions) {
    if (a.role !== 'worker') continue;
    const md = deployments.find((d) => d.metadata.name === a.deploymentName);
    if (!md) out.push(`Machine ${a.machineName}: its MachineDeployment ${a.deploymentName} was not converted`);
    else if (a.version !== undefined && a.version !== md.spec.template.spec.version)
      out.push(
        `Machine ${a.machineName} runs ${a.version}, its MachineDeployment ${md.metadata.name} asks for ${md.spec.template.spec.version}: let Cluster API finish the rollout, then pause and import`,
      );
  }
  return out;
}

/** Every `{kind, name}` reference inside a value (Cluster API's object references and CRS resources). */
function referencesIn(value: unknown, out: { kind: string; name: string }[] = []): { kind: string; name: string }[] {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (isRecord(value)) {
    if (typeof value['kind'] === 'string' && typeof value['name'] === 'string') out.push({ kind: value['kind'], name: value['name'] });
    for (const v of Object.values(value)) referencesIn(v, out);
  }
  return out;
}

/** Whether a ClusterResourceSet's clusterSelector (matchLabels only) selects the cluster; an empty one selects none. */
function selectsCluster(crs: Obj, cluster: Obj): boolean {
  const matchLabels = rec(rec(rec(crs['spec'])['clusterSelector'])['matchLabels']);
  const labels = labelsOf(cluster);
  return Object.keys(matchLabels).length > 0 && Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}

/**
 * The cluster's own objects out of a namespace's: the Cluster, what names it (cluster-name label or spec.clusterName),
 * the ClusterResourceSets that select it, and everything those reference, transitively (templates carry no label).
 */
export function objectsOfCluster(all: readonly Obj[], clusterName: string): Obj[] {
  const cluster = all.find((o) => o['kind'] === 'Cluster' && nameOf(o) === clusterName);
  if (!cluster) return [];
  const included: Obj[] = [
    cluster,
    ...all.filter(
      (o) => o !== cluster && o['kind'] !== 'Cluster' && (belongsTo(o, clusterName) || (o['kind'] === 'ClusterResourceSet' && selectsCluster(o, cluster))),
    ),
  ];
  for (let i = 0; i < included.length; i++)
    for (const ref of referencesIn(included[i]!['spec'])) {
      const target = all.find((o) => o['kind'] === ref.kind && nameOf(o) === ref.name);
      if (target && !included.includes(target) && target['kind'] !== 'Cluster') included.push(target);
    }
  return included;
}

/** The ConfigMaps and Secrets the cluster's ClusterResourceSets apply, to be read with them. */
export function resourceSetResources(objects: readonly Obj[]): { kind: 'ConfigMap' | 'Secret'; name: string }[] {
  const out: { kind: 'ConfigMap' | 'Secret'; name: string }[] = [];
  for (const crs of objects.filter((o) => o['kind'] === 'ClusterResourceSet'))
    for (const r of Array.isArray(rec(crs['spec'])['resources']) ? (rec(crs['spec'])['resources'] as unknown[]) : [])
      if (isRecord(r) && (r['kind'] === 'ConfigMap' || r['kind'] === 'Secret') && typeof r['name'] === 'string') out.push({ kind: r['kind'], name: r['name'] });
  return out;
}
