/**
 * Moving a cluster from one clusterless installation to another: the serverless form of `clusterctl move`. Learnt
 * from cluster-api cmd/clusterctl/client/cluster/mover.go (pause the source, create the objects in the target in
 * dependency order, delete them from the source without running teardown, resume in the target), written anew for
 * what this project adds: cloud resources are owned by the installation's tag, so between creating and forgetting
 * the move hands the tag over, and each side checks the cloud before it acts.
 *
 * The steps, each idempotent so that a re-run after a crash at any point finishes the move:
 * 1. Pause (source): spec.paused, and the move record (annotations: the target installation, the step).
 * 2. Import (target, one object at a time): each object with its uid, labels, annotations, finalizers, owner
 *    references and status; the Cluster kept paused and marked as moving in; then the cluster's certificates.
 * 3. HandOver (source): the cloud resources carrying the source's installation and cluster tags are re-tagged to
 *    the target's installation; the record says HandedOver.
 * 4. Resume (target): only once every machine's recorded instance carries the target's tag.
 * 5. Forget (source): the objects are removed without teardown, only when the record says HandedOver and the
 *    cloud shows nothing of the cluster still tagged with the source's installation.
 *
 * Note: uids are kept. A machine's instance is tagged with its machine's uid (adoption, the provider's delete
 * check), and a cluster's certificates secret with the Cluster's uid, so new uids would make the target replace
 * every machine; owner references therefore need no rewriting.
 */
import { AlreadyExistsError, ConflictError, NotFoundError, type Store } from '../../ports.js';
import { Annotations } from '../common.js';
import { jsonEqual, type ApiObject } from '../kind.js';
import { KINDS, kindByName, type KindName, type StoredKindName } from '../kinds.js';
import { ApiError, alreadyExists, badRequest, invalid, notFound } from '../http/status.js';
import { isPlainObject } from '../http/merge-patch.js';
import { validateCreate } from '../validate.js';
import { isName, UNGUARDED_ATTEMPTS } from './object-service.js';

/** The move record, on the source Cluster (to, step, wasPaused) and on the target Cluster (movingIn, wasPaused). */
export const MoveAnnotations = {
  /** The target installation's id. */
  to: 'clusterless.dev/move-to',
  /** The last step the source finished: Paused, then HandedOver. */
  step: 'clusterless.dev/move-step',
  /** spec.paused before the move ("true" or "false"): what the target resumes to. */
  wasPaused: 'clusterless.dev/move-was-paused',
  /** On the target until it resumes: the source installation's id. */
  movingIn: 'clusterless.dev/moving-in',
  /** "true" when the move put the paused annotation on the Cluster (resuming takes it off again). */
  addedPaused: 'clusterless.dev/move-added-paused',
} as const;

export type MoveStep = 'Paused' | 'HandedOver';

/** The cloud side of a move, one per provider that can hand its resources over (the ec2 adapter's tags). */
export interface ClusterHandover {
  /** Re-tags what carries the cluster's tag and `from`'s installation tag to `to`; returns the resources' ids. */
  handOver(namespace: string, clusterName: string, from: string, to: string): Promise<string[]>;
  /** The instances of the cluster (any state but terminated) tagged with `installationId`. */
  owned(namespace: string, clusterName: string, installationId: string): Promise<string[]>;
}

/** A cluster's certificates (its CAs and keys, as the kubeadm bootstrapper keeps them in the SecretStore). */
export interface CertificateTransfer {
  read(namespace: string, clusterName: string): Promise<Uint8Array | undefined>;
  /** Creates them, tagged with the Cluster's uid; false (nothing written) when the cluster has some already. */
  create(namespace: string, clusterName: string, clusterUid: string, value: Uint8Array): Promise<boolean>;
}

export interface MoveDeps {
  /** This installation's id (functions/installation.ts). */
  installationId: string;
  /** By provider name (a Cluster's spec.provider key); a provider missing here cannot be moved. */
  handovers: Readonly<Record<string, ClusterHandover>>;
  /** Where the certificates of clusters are kept; without it a cluster with certificates cannot move in. */
  certificates?: CertificateTransfer;
}

/** What the target's GET answers: who it is; what the source's GET answers: that and the cluster's objects. */
export interface MoveExport {
  installationId: string;
  objects: ApiObject[];
  /** The cluster's certificates, base64, when it has some. */
  certificates?: string;
}

/** The kinds a move copies, in creation order (KINDS' order); the namespace-level ones are shared, never forgotten. */
const CLUSTER_KINDS: readonly KindName[] = KINDS.map((k) => k.kind as KindName).filter((k) => k !== 'MachineClass' && k !== 'ClusterResourceSet');
const SHARED_KINDS: readonly KindName[] = ['MachineClass', 'ClusterResourceSet'];

const annotationsOf = (o: ApiObject): Record<string, string> => o.metadata.annotations ?? {};
const providerOf = (cluster: ApiObject): string => Object.keys((cluster.spec as { provider?: object } | undefined)?.provider ?? {})[0] ?? '';

async function clusterOrThrow(store: Store, namespace: string, clusterName: string): Promise<ApiObject> {
  const cluster = isName(namespace) && isName(clusterName) ? await store.get('Cluster', namespace, clusterName) : undefined;
  if (!cluster) throw notFound('clusters', clusterName);
  return cluster;
}

/**
 * A change of the Cluster from a fresh read, again on a lost race: a paused cluster's reconciles still write its
 * status, and a step must not fail on that. `change` returns undefined when nothing is to be written.
 */
async function changeCluster(
  store: Store,
  namespace: string,
  clusterName: string,
  change: (cluster: ApiObject) => Promise<ApiObject | undefined> | ApiObject | undefined,
): Promise<ApiObject> {
  for (let attempt = 1; ; attempt++) {
    const cluster = await clusterOrThrow(store, namespace, clusterName);
    const next = await change(cluster);
    if (!next) return cluster;
    try {
      return await store.update(next);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= UNGUARDED_ATTEMPTS) throw err;
    }
  }
}

function handoverOf(deps: MoveDeps, cluster: ApiObject): ClusterHandover {
  const provider = providerOf(cluster);
  const handover = deps.handovers[provider];
  if (!handover)
    throw invalid('Cluster', cluster.metadata.name, [
      { field: 'spec.provider', message: `a ${provider} cluster cannot be moved: this installation cannot hand its ${provider} resources over` },
    ]);
  return handover;
}

/** Every name a `machineClassRef` or a ClusterResourceSetBinding's bindings name, anywhere in the objects. */
function sharedNames(objects: readonly ApiObject[]): { MachineClass: Set<string>; ClusterResourceSet: Set<string> } {
  const out = { MachineClass: new Set<string>(), ClusterResourceSet: new Set<string>() };
  const walk = (v: unknown, key: string | undefined): void => {
    if (Array.isArray(v)) for (const item of v) walk(item, key);
    else if (isPlainObject(v)) {
      if (key === 'machineClassRef' && typeof v['name'] === 'string') out.MachineClass.add(v['name']);
      if (key === 'bindings' && typeof v['clusterResourceSetName'] === 'string') out.ClusterResourceSet.add(v['clusterResourceSetName']);
      for (const [k, child] of Object.entries(v)) walk(child, k);
    }
  };
  for (const o of objects) walk(o, undefined);
  return out;
}

/** 1. The source pauses the cluster and records the move (a re-run with the same target changes nothing). */
export async function pauseForMove(store: Store, deps: MoveDeps, namespace: string, clusterName: string, to: unknown): Promise<ApiObject> {
  if (typeof to !== 'string' || to === '') throw invalid('Cluster', clusterName, [{ field: 'to', message: 'the target installation id is required' }]);
  if (to === deps.installationId) throw invalid('Cluster', clusterName, [{ field: 'to', message: 'the target is this installation' }]);
  return changeCluster(store, namespace, clusterName, async (cluster) => {
    handoverOf(deps, cluster);
    const provider = providerOf(cluster);
    const providerSpec = (cluster.spec as { provider?: Record<string, { controlPlaneLoadBalancer?: unknown } | undefined> }).provider?.[provider];
    // Load balancers and target groups are named after a hash of the installation and tagged with it: handed
    // over as they are, the target would make a second load balancer and move the cluster's endpoint.
    if (providerSpec?.controlPlaneLoadBalancer !== undefined)
      throw invalid('Cluster', clusterName, [
        {
          field: `spec.provider.${provider}.controlPlaneLoadBalancer`,
          message: 'a cluster with a control-plane load balancer cannot be moved yet: its load balancer is named and tagged after the installation',
        },
      ]);
    if (cluster.metadata.deletionTimestamp) throw new ApiError('Conflict', `cluster ${clusterName} is being deleted: it cannot be moved`);
    const record = annotationsOf(cluster);
    if (record[MoveAnnotations.movingIn]) throw new ApiError('Conflict', `cluster ${clusterName} is still moving in from ${record[MoveAnnotations.movingIn]}`);
    if (record[MoveAnnotations.to] !== undefined) {
      if (record[MoveAnnotations.to] !== to)
        throw new ApiError('Conflict', `cluster ${clusterName} is being moved to ${record[MoveAnnotations.to]}, not ${to}`);
      return undefined;
    }
    // As clusterctl's checkProvisioningCompleted: a machine still being provisioned is a workflow in flight that
    // pausing does not stop, so a move starts only once every machine has its node.
    const provisioning = (await store.listCluster(namespace, clusterName)).filter(
      (o) => o.kind === 'Machine' && !o.metadata.deletionTimestamp && !(o.status as { nodeRef?: unknown } | undefined)?.nodeRef,
    );
    if (provisioning.length > 0)
      throw new ApiError(
        'Conflict',
        `cannot start the move while ${provisioning.map((m) => m.metadata.name).join(', ')} ${provisioning.length === 1 ? 'is' : 'are'} still provisioning (no node yet)`,
      );
    const spec = cluster.spec as { paused?: boolean };
    // The paused annotation as well as spec.paused: a user setting spec.paused back to false on the source
    // mid-move must not let it reconcile a cluster whose instances it no longer sees (it would replace them).
    const added: Record<string, string> = Object.hasOwn(record, Annotations.paused) ? {} : { [Annotations.paused]: '', [MoveAnnotations.addedPaused]: 'true' };
    return {
      ...cluster,
      spec: { ...spec, paused: true },
      metadata: {
        ...cluster.metadata,
        annotations: {
          ...record,
          ...added,
          [MoveAnnotations.to]: to,
          [MoveAnnotations.step]: 'Paused',
          [MoveAnnotations.wasPaused]: String(spec.paused === true),
        },
      },
    };
  });
}

/** What the source hands the target: the cluster's objects with status, and the shared objects they name. */
export async function exportForMove(store: Store, deps: MoveDeps, namespace: string, clusterName: string): Promise<MoveExport> {
  const cluster = await clusterOrThrow(store, namespace, clusterName);
  if (annotationsOf(cluster)[MoveAnnotations.to] === undefined)
    throw new ApiError('Conflict', `cluster ${clusterName} is not being moved: pause it for a move first`);
  // Events stay: they are the source's record of what it did.
  const own = (await store.listCluster(namespace, clusterName)).filter((o) => CLUSTER_KINDS.includes(o.kind as KindName));
  const names = sharedNames(own);
  const shared: ApiObject[] = [];
  for (const kind of SHARED_KINDS)
    for (const name of [...names[kind as 'MachineClass' | 'ClusterResourceSet']].sort()) {
      const o = await store.get(kind, namespace, name);
      if (o) shared.push(o);
    }
  const order = (o: ApiObject) => KINDS.findIndex((k) => k.kind === o.kind);
  const certificates = await deps.certificates?.read(namespace, clusterName);
  return {
    installationId: deps.installationId,
    objects: [...shared, ...own].sort((a, b) => order(a) - order(b)),
    ...(certificates ? { certificates: Buffer.from(certificates).toString('base64') } : {}),
  };
}

/**
 * observedGeneration as the target's generation counts: the target's objects start at generation 1, so what the
 * source had observed becomes 1, and what it had not yet observed 0 (rollouts compare them with `<`).
 */
function rebasedStatus(status: ApiObject['status'], generation: number): ApiObject['status'] {
  if (!status) return status;
  const rebase = (g: unknown) => (typeof g === 'number' ? (g >= generation ? 1 : 0) : g);
  const out: Record<string, unknown> = { ...status };
  if ('observedGeneration' in status) out['observedGeneration'] = rebase(status.observedGeneration);
  if (Array.isArray(status.conditions))
    out['conditions'] = status.conditions.map((c) => ('observedGeneration' in c ? { ...c, observedGeneration: rebase(c.observedGeneration) } : c));
  return out as ApiObject['status'];
}

/**
 * 2. The target creates one object of the moving cluster with its uid and status. A re-run finds it (same uid)
 * and changes nothing; a shared object already there with the same spec is used as it is.
 */
export async function importForMove(
  store: Store,
  namespace: string,
  clusterName: string,
  body: unknown,
  from: unknown,
): Promise<{ outcome: 'created' | 'unchanged'; object: ApiObject }> {
  if (typeof from !== 'string' || from === '') throw badRequest('from: the source installation id is required');
  if (!isPlainObject(body)) throw badRequest('object: an object to import is required');
  const kind = String(body['kind']);
  const def = kindByName(kind);
  if (!def) throw badRequest(`object: ${JSON.stringify(kind)} is no kind a move copies`);
  const meta = isPlainObject(body['metadata']) ? body['metadata'] : {};
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const uid = meta['uid'];
  if (meta['namespace'] !== namespace) throw badRequest(`object: the namespace of ${kind} ${name} is not ${namespace}`);
  if (typeof uid !== 'string' || !/^[A-Za-z0-9-]{8,64}$/.test(uid))
    throw invalid(kind, name, [{ field: 'metadata.uid', message: 'a moved object keeps its uid' }]);
  if (meta['deletionTimestamp']) throw invalid(kind, name, [{ field: 'metadata.deletionTimestamp', message: 'an object being deleted is not moved' }]);
  const { status, ...rest } = body;
  const { uid: _u, resourceVersion: _rv, generation, creationTimestamp: _c, ...clientMeta } = meta;
  const v = validateCreate({ ...rest, metadata: clientMeta });
  if (!v.ok) throw invalid(kind, name, v.causes);
  const shared = SHARED_KINDS.includes(kind as KindName);
  if (!shared && def.clusterNameOf(v.object) !== clusterName) throw badRequest(`object: ${kind} ${name} is not of cluster ${clusterName}`);

  const cluster = await store.get('Cluster', namespace, clusterName);
  // Once resumed the target runs the cluster: what the source still holds is older than what the target made since.
  if (cluster && !annotationsOf(cluster)[MoveAnnotations.movingIn])
    throw new ApiError('Conflict', `cluster ${clusterName} has already moved in and resumed here: nothing more is imported`);
  let object: ApiObject = {
    ...v.object,
    metadata: { ...v.object.metadata, uid },
    status: rebasedStatus(status as ApiObject['status'], Number(generation) || 1),
  };
  if (kind === 'Cluster') {
    const annotations = { ...annotationsOf(object) };
    for (const key of [MoveAnnotations.to, MoveAnnotations.step]) delete annotations[key];
    const wasPaused = annotationsOf(v.object)[MoveAnnotations.wasPaused] ?? String((v.object.spec as { paused?: boolean }).paused === true);
    object = {
      ...object,
      spec: { ...(object.spec as object), paused: true },
      metadata: { ...object.metadata, annotations: { ...annotations, [MoveAnnotations.movingIn]: from, [MoveAnnotations.wasPaused]: wasPaused } },
    };
  }
  const existing = await store.get(kind as KindName, namespace, name);
  if (existing) return sameOrRefuse(existing, object, shared, def.plural);
  try {
    return { outcome: 'created', object: await store.create(object) };
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
    const raced = await store.get(kind as KindName, namespace, name);
    if (raced) return sameOrRefuse(raced, object, shared, def.plural);
    throw alreadyExists(def.plural, name);
  }
}

function sameOrRefuse(existing: ApiObject, object: ApiObject, shared: boolean, plural: string) {
  if (existing.metadata.uid === object.metadata.uid || (shared && jsonEqual(existing.spec, object.spec)))
    return { outcome: 'unchanged' as const, object: existing };
  throw alreadyExists(plural, object.metadata.name);
}

/**
 * 2b. The target keeps the moving cluster's certificates (after its Cluster, whose uid they are tagged with). A
 * re-run finds the same bytes and changes nothing; different certificates under the name are refused.
 */
export async function importCertificatesForMove(
  store: Store,
  deps: MoveDeps,
  namespace: string,
  clusterName: string,
  value: unknown,
): Promise<{ outcome: 'created' | 'unchanged' }> {
  if (typeof value !== 'string' || value === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value))
    throw invalid('Cluster', clusterName, [{ field: 'certificates', message: 'the certificates, base64, are required' }]);
  const cluster = await clusterOrThrow(store, namespace, clusterName);
  if (!annotationsOf(cluster)[MoveAnnotations.movingIn]) throw new ApiError('Conflict', `cluster ${clusterName} is not moving in: import its objects first`);
  if (!deps.certificates)
    throw invalid('Cluster', clusterName, [{ field: 'certificates', message: 'this installation keeps no cluster certificates (no kubeadm bootstrap)' }]);
  const bytes = new Uint8Array(Buffer.from(value, 'base64'));
  if (await deps.certificates.create(namespace, clusterName, cluster.metadata.uid!, bytes)) return { outcome: 'created' };
  const existing = await deps.certificates.read(namespace, clusterName);
  if (existing && Buffer.from(existing).equals(Buffer.from(bytes))) return { outcome: 'unchanged' };
  throw new ApiError('Conflict', `cluster ${clusterName} has other certificates here already`);
}

/** 3. The source hands the cloud resources over, then records it; a re-run re-tags what is left (nothing). */
export async function handOverForMove(
  store: Store,
  deps: MoveDeps,
  namespace: string,
  clusterName: string,
): Promise<{ cluster: ApiObject; handedOver: string[] }> {
  const cluster = await clusterOrThrow(store, namespace, clusterName);
  const record = annotationsOf(cluster);
  const to = record[MoveAnnotations.to];
  if (to === undefined) throw new ApiError('Conflict', `cluster ${clusterName} is not being moved: pause it for a move first`);
  const handedOver = await handoverOf(deps, cluster).handOver(namespace, clusterName, deps.installationId, to);
  const recorded = await changeCluster(store, namespace, clusterName, (c) => {
    const current = annotationsOf(c);
    if (current[MoveAnnotations.to] !== to) throw new ApiError('Conflict', `cluster ${clusterName} is no longer being moved to ${to}`);
    if (current[MoveAnnotations.step] === 'HandedOver') return undefined;
    return { ...c, metadata: { ...c.metadata, annotations: { ...current, [MoveAnnotations.step]: 'HandedOver' } } };
  });
  return { cluster: recorded, handedOver };
}

/** 4. The target resumes the cluster once every machine's recorded instance is its own; a re-run changes nothing. */
export async function resumeAfterMove(store: Store, deps: MoveDeps, namespace: string, clusterName: string): Promise<ApiObject> {
  const cluster = await clusterOrThrow(store, namespace, clusterName);
  const record = annotationsOf(cluster);
  if (!record[MoveAnnotations.movingIn]) return cluster;
  const owned = new Set(await handoverOf(deps, cluster).owned(namespace, clusterName, deps.installationId));
  const machines = (await store.listCluster(namespace, clusterName)).filter((o) => o.kind === 'Machine');
  const notYet = machines.filter((m) => {
    const id = (m.status as { infrastructure?: { instanceId?: string } } | undefined)?.infrastructure?.instanceId;
    return id !== undefined && !owned.has(id);
  });
  if (notYet.length > 0)
    throw new ApiError(
      'Conflict',
      `cluster ${clusterName} cannot resume: the instances of ${notYet.map((m) => m.metadata.name).join(', ')} are not this installation's yet (hand them over from the source first)`,
    );
  return changeCluster(store, namespace, clusterName, (c) => {
    const annotations = { ...annotationsOf(c) };
    if (!annotations[MoveAnnotations.movingIn]) return undefined;
    const wasPaused = annotations[MoveAnnotations.wasPaused] === 'true';
    delete annotations[MoveAnnotations.movingIn];
    delete annotations[MoveAnnotations.wasPaused];
    if (annotations[MoveAnnotations.addedPaused] === 'true') delete annotations[Annotations.paused];
    delete annotations[MoveAnnotations.addedPaused];
    return { ...c, spec: { ...(c.spec as object), paused: wasPaused }, metadata: { ...c.metadata, annotations } };
  });
}

/**
 * 5. The source forgets a cluster it has handed over: its objects go, finalizers released first, so no teardown
 * runs and no instance is deleted. The Cluster goes last, so that the cluster stays paused until nothing is left.
 * Refused unless the move record says HandedOver and the cloud shows no instance of the cluster still this
 * installation's. A normal DELETE never comes here.
 */
export async function forgetAfterMove(store: Store, deps: MoveDeps, namespace: string, clusterName: string): Promise<{ forgotten: number }> {
  const cluster = await clusterOrThrow(store, namespace, clusterName);
  if (annotationsOf(cluster)[MoveAnnotations.step] !== 'HandedOver')
    throw new ApiError('Conflict', `cluster ${clusterName} has not been handed over: only a moved cluster is forgotten`);
  const still = await handoverOf(deps, cluster).owned(namespace, clusterName, deps.installationId);
  if (still.length > 0) throw new ApiError('Conflict', `cluster ${clusterName} still owns ${still.join(', ')}: hand them over first`);
  // Dependents first (KINDS reversed, events with them), the Cluster last.
  const rank = (o: ApiObject) => (o.kind === 'Cluster' ? 1 : -1 - CLUSTER_KINDS.indexOf(o.kind as KindName));
  const objects = (await store.listCluster(namespace, clusterName)).sort((a, b) => rank(a) - rank(b));
  let forgotten = 0;
  for (const o of objects) {
    try {
      // Unguarded by version (a paused cluster's reconciles may still write status), guarded by uid: this object only.
      // An object already marked for deletion goes with its finalizers; NotFound then means it is gone.
      if (o.metadata.finalizers?.length) {
        const { resourceVersion: _rv, ...metadata } = o.metadata;
        await store.update({ ...o, metadata: { ...metadata, finalizers: [] } });
      }
      await store.delete(o.kind as StoredKindName, namespace, o.metadata.name, { uid: o.metadata.uid! });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    forgotten++;
  }
  return { forgotten };
}
