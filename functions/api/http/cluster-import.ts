/**
 * The two routes `clusterless import` needs beyond the objects themselves, because they reach what only the host
 * holds (the SecretStore and the EC2 client), never the table:
 *
 * - POST .../clusters/{name}/certificates: the cluster's CAs and service-account key as Cluster API kept them,
 *   stored where the kubeadm bootstrap keeps certificates it made itself (created once; the same set again is a
 *   no-op; another set is refused: a cluster's CA never changes under its nodes).
 * - POST .../machines/{name}/adopt {instanceId, capaClusterName}: tags the instance as the Machine's, only if Cluster
 *   API's AWS provider tagged it as its cluster's, and only while the Machine's Cluster is paused (so no reconcile
 *   launches an instance for the Machine meanwhile). A Machine whose instance already carries its tags answers 200
 *   whatever the pause: a repeated import changes nothing.
 */
import { AdoptionRefusedError, type ImportedCertificates } from '../capi/import-plan.js';
import type { Cluster } from '../cluster.js';
import { Labels } from '../common.js';
import type { Machine } from '../machine.js';
import type { ObjectService } from '../service/object-service.js';
import { parseObjectBody } from './body.js';
import type { FieldCause } from '../kind.js';
import { ApiError, invalid } from './status.js';

export interface ClusterImportHooks {
  /** Stores the certificates unless the cluster has some: `false` when the same set was there already. */
  importCertificates(target: { namespace: string; clusterName: string; clusterUid?: string }, certificates: ImportedCertificates): Promise<boolean>;
  /** Whether the instance already carries the machine's tags. */
  isAdopted(target: { namespace: string; clusterName: string; machineUid: string; instanceId: string }): Promise<boolean>;
  adoptInstance(target: {
    namespace: string;
    clusterName: string;
    machineName: string;
    machineUid: string;
    role: 'control-plane' | 'worker';
    instanceId: string;
    capaClusterName: string;
  }): Promise<void>;
}

export type ImportRoute = { type: 'certificates'; namespace: string; name: string } | { type: 'adopt'; namespace: string; name: string };

const PEM = /^-----BEGIN [A-Z ]+-----\r?\n[\s\S]+-----END [A-Z ]+-----\s*$/;

function certificatesBody(raw: Record<string, unknown>, clusterName: string): ImportedCertificates {
  const causes: FieldCause[] = [];
  const pem = (path: string[]): string => {
    let v: unknown = raw;
    for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    if (typeof v !== 'string' || !PEM.test(v)) causes.push({ field: path.join('.'), message: 'Required value: a PEM block', reason: 'FieldValueRequired' });
    return typeof v === 'string' ? v : '';
  };
  const out: ImportedCertificates = {
    ca: { cert: pem(['ca', 'cert']), key: pem(['ca', 'key']) },
    etcdCa: { cert: pem(['etcdCa', 'cert']), key: pem(['etcdCa', 'key']) },
    frontProxyCa: { cert: pem(['frontProxyCa', 'cert']), key: pem(['frontProxyCa', 'key']) },
    serviceAccount: { key: pem(['serviceAccount', 'key']), pub: pem(['serviceAccount', 'pub']) },
  };
  if (causes.length > 0) throw invalid('Cluster', clusterName, causes);
  return out;
}

function refused(err: unknown, kind: string, name: string): never {
  if (err instanceof AdoptionRefusedError) throw invalid(kind, name, [{ field: err.field, message: err.message }]);
  throw err;
}

export async function serveImportRoute(
  r: ImportRoute,
  req: { body?: string; contentType?: string; bodyLimit: number },
  service: ObjectService,
  hooks: ClusterImportHooks | undefined,
): Promise<[number, unknown]> {
  if (!hooks)
    throw new ApiError(
      'NotFound',
      'this server cannot import clusters: only the embedded host with --provider aws adopts instances (clusterless up --provider aws)',
      {},
    );
  const body = parseObjectBody(req.body, req.contentType, req.bodyLimit);
  if (r.type === 'certificates') {
    const cluster = (await service.get({ kind: 'Cluster', namespace: r.namespace, name: r.name })) as Cluster;
    const certificates = certificatesBody(body, r.name);
    const uid = cluster.metadata.uid;
    const created = await hooks
      .importCertificates({ namespace: r.namespace, clusterName: r.name, ...(uid ? { clusterUid: uid } : {}) }, certificates)
      .catch((e: unknown) => refused(e, 'Cluster', r.name));
    return [created ? 201 : 200, { kind: 'ImportedCertificates', namespace: r.namespace, cluster: r.name, created }];
  }
  const machine = (await service.get({ kind: 'Machine', namespace: r.namespace, name: r.name })) as Machine;
  const instanceId = body['instanceId'];
  const capaClusterName = body['capaClusterName'];
  const causes: { field: string; message: string }[] = [];
  if (typeof instanceId !== 'string' || instanceId === '') causes.push({ field: 'instanceId', message: 'Required value' });
  if (typeof capaClusterName !== 'string' || capaClusterName === '') causes.push({ field: 'capaClusterName', message: 'Required value' });
  // Only instances Cluster API made for a cluster of the Machine's own cluster's name: an API caller cannot point
  // a Machine at another Cluster API cluster's instances.
  else if (capaClusterName !== machine.spec.clusterName)
    causes.push({ field: 'capaClusterName', message: `Invalid value: must be the Machine's cluster, ${machine.spec.clusterName}` });
  // The Machine must already name the instance: what is adopted is what the Machine records.
  if (typeof instanceId === 'string' && machine.spec.providerID?.split('/').pop() !== instanceId)
    causes.push({
      field: 'instanceId',
      message: `Invalid value: the Machine's spec.providerID (${machine.spec.providerID ?? 'none'}) does not name this instance`,
    });
  if (causes.length > 0) throw invalid('Machine', r.name, causes);
  const uid = machine.metadata.uid!;
  const target = { namespace: r.namespace, clusterName: machine.spec.clusterName, machineUid: uid, instanceId: instanceId as string };
  if (await hooks.isAdopted(target).catch((e: unknown) => refused(e, 'Machine', r.name)))
    return [200, { kind: 'InstanceAdoption', machine: r.name, instanceId, adopted: 'AlreadyAdopted' }];
  const cluster = (await service.get({ kind: 'Cluster', namespace: r.namespace, name: machine.spec.clusterName })) as Cluster;
  if (!cluster.spec.paused)
    throw new ApiError('Conflict', `cluster ${machine.spec.clusterName} is not paused: an instance is adopted only while its Cluster is paused`, {
      kind: 'clusters',
      name: machine.spec.clusterName,
    });
  const role = Object.hasOwn(machine.metadata.labels ?? {}, Labels.controlPlane) ? 'control-plane' : 'worker';
  await hooks
    .adoptInstance({ ...target, machineName: r.name, role, capaClusterName: capaClusterName as string })
    .catch((e: unknown) => refused(e, 'Machine', r.name));
  return [200, { kind: 'InstanceAdoption', machine: r.name, instanceId, adopted: 'Tagged' }];
}
