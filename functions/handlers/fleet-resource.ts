/**
 * The CloudFormation custom resource behind infra's ClusterFleet (Provider framework onEvent handler): a fleet
 * of clusters declared in CDK is applied, updated and deleted through the API's ObjectService (functions/api/service,
 * the code under the HTTP router), so the fleet gets exactly the API's validation, defaults, finalizers and
 * Kubernetes semantics.
 *
 * - Create: every manifest is checked first (validateCreate, and validateUpdate against an object already
 *   stored, and a Cluster's topology against its ClusterClass, the fleet's own or the stored one); one refusal
 *   refuses the whole fleet with every reason, before anything is written. Then each
 *   object is created, or replaced when it exists (create, then replace on AlreadyExists), in the API's kind order.
 *   Note: a replace, not the API's apply (a merge): the stack declares the whole object, so a field taken out of
 *   the CDK code must go from the object too, and apply (without managed fields) would keep it.
 * - Update: the new manifests are checked and applied the same way; objects the old manifests declared and
 *   the new ones do not are deleted, but for MachineClasses. A class is immutable, so the fleet template names
 *   each after its content and a changed class arrives as a new class plus a reference moved to it; the old one
 *   is deleted only once no ClusterClass, ControlPlane, MachineDeployment, MachineSet or Machine of its namespace names it (the
 *   old machines still use it while they roll away). So every Update also sweeps: each MachineClass of the
 *   fleet's namespaces that carries this resource's annotation and is not declared is deleted if unused, kept
 *   for a later Update otherwise. Cluster API's topology controller does the same with the machine templates it
 *   rotates (cluster-api internal/controllers/topology/machineset/machineset_controller.go, reconcileDelete: a
 *   template is deleted once no MachineDeployment or MachineSet uses it).
 * - Delete: every object is deleted (DELETE sets deletionTimestamp; the workflows tear down and remove them),
 *   the classes kept by earlier Updates included, whether still named or not: the clusters are going.
 *
 * Ownership: each object applied carries the annotation `clusterless.dev/fleet: <physical id>`, and the
 * resource deletes only objects that still carry its own id. So when CloudFormation replaces the resource
 * (a renamed construct: create the new one, then delete the old), or another fleet took an object over, the
 * old resource's delete leaves the objects alone.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { topologyClassCauses, type ClusterClass } from '../api/cluster-class.js';
import type { Cluster, ClusterTopology } from '../api/cluster.js';
import type { ApiObject, KindDef } from '../api/kind.js';
import { KINDS, kindByName, type KindName } from '../api/kinds.js';
import { validateCreate, validateUpdate } from '../api/validate.js';
import { ApiError, ObjectService } from '../api/service/index.js';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import type { Store } from '../ports.js';
import { isPlainObject } from '../api/common.js';

const logger = new Logger();

/** The annotation that says which fleet resource applied an object. */
export const FLEET_ANNOTATION = 'clusterless.dev/fleet';

/** The custom resource's properties (CloudFormation passes strings; the manifests are one JSON array). */
export interface FleetResourceProperties {
  FleetName: string;
  Manifests: string;
}

/** The fleet as given cannot be applied; nothing was changed. */
export class FleetInputError extends Error {
  override name = 'FleetInputError';
}

/** The API refused or failed a write while applying or deleting. */
export class FleetApplyError extends Error {
  override name = 'FleetApplyError';
}

export interface FleetObjectKey {
  kind: KindName;
  namespace: string;
  name: string;
}

interface Manifest extends FleetObjectKey {
  def: KindDef;
  body: Record<string, unknown>;
}

const keyString = (k: FleetObjectKey) => `${k.kind} ${k.namespace}/${k.name}`;
const kindOrder = (kind: string) => KINDS.findIndex((k) => k.kind === kind);

/**
 * The manifests of a Manifests property, in the API's creation order. Refuses what is not a list of objects
 * of known kinds with names, and an object declared twice.
 */
export function parseManifests(text: unknown): Manifest[] {
  let value: unknown;
  try {
    value = typeof text === 'string' ? JSON.parse(text) : text;
  } catch (e) {
    throw new FleetInputError(`Manifests is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(value)) throw new FleetInputError('Manifests must be a JSON array of clusterless objects');
  const problems: string[] = [];
  const seen = new Set<string>();
  const out: Manifest[] = [];
  for (const [i, item] of value.entries()) {
    if (!isPlainObject(item)) {
      problems.push(`Manifests[${i}]: must be an object`);
      continue;
    }
    const def = typeof item['kind'] === 'string' ? kindByName(item['kind']) : undefined;
    if (!def) {
      problems.push(`Manifests[${i}]: kind ${JSON.stringify(item['kind'])} is not a clusterless kind (${KINDS.map((k) => k.kind).join(', ')})`);
      continue;
    }
    const meta = isPlainObject(item['metadata']) ? item['metadata'] : {};
    if (typeof meta['name'] !== 'string' || meta['name'] === '') {
      problems.push(`Manifests[${i}]: ${def.kind} has no metadata.name`);
      continue;
    }
    const namespace = typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? meta['namespace'] : 'default';
    const m: Manifest = { kind: def.kind as KindName, namespace, name: meta['name'], def, body: item };
    if (seen.has(keyString(m))) {
      problems.push(`Manifests[${i}]: ${keyString(m)} is declared twice`);
      continue;
    }
    seen.add(keyString(m));
    out.push(m);
  }
  if (problems.length) throw new FleetInputError(`the fleet was refused, nothing was changed:\n- ${problems.join('\n- ')}`);
  return out.sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind));
}

/** The manifest as the API receives it: server fields and status dropped, the owner annotation added. */
function requestBody(m: Manifest, owner: string): Record<string, unknown> {
  const { status: _s, ...rest } = m.body;
  const meta = isPlainObject(m.body['metadata']) ? m.body['metadata'] : {};
  const { uid: _u, resourceVersion: _rv, generation: _g, creationTimestamp: _c, deletionTimestamp: _d, ...clientMeta } = meta;
  const annotations = isPlainObject(clientMeta['annotations']) ? clientMeta['annotations'] : {};
  return { ...rest, metadata: { ...clientMeta, namespace: m.namespace, annotations: { ...annotations, [FLEET_ANNOTATION]: owner } } };
}

const causesText = (causes: { field: string; message: string }[]) => causes.map((c) => `${c.field}: ${c.message}`).join('; ');

/**
 * Every reason the API would refuse a manifest, found before anything is written: validateCreate of each
 * (names, defaults, webhook rules) and, for an object already stored, validateUpdate (immutable fields).
 */
export async function checkManifests(store: Store, manifests: Manifest[], owner: string): Promise<void> {
  const problems: string[] = [];
  const classes = new Map<string, ClusterClass>();
  const topologies: { m: Manifest; topology: ClusterTopology }[] = [];
  for (const m of manifests) {
    const body = requestBody(m, owner);
    const created = validateCreate(body);
    if (!created.ok) {
      problems.push(`${keyString(m)}: ${causesText(created.causes)}`);
      continue;
    }
    if (m.kind === 'ClusterClass') classes.set(`${m.namespace}/${m.name}`, created.object as ClusterClass);
    const topology = m.kind === 'Cluster' ? (created.object as Cluster).spec.topology : undefined;
    if (topology) topologies.push({ m, topology });
    const current = await store.get(m.kind, m.namespace, m.name);
    if (!current) continue;
    const updated = validateUpdate(current, current.status === undefined ? body : { ...body, status: current.status });
    if (!updated.ok) problems.push(`${keyString(m)}: ${causesText(updated.causes)}`);
  }
  // A topology against its class as the fleet declares it (it is written first), else as stored: the API's admission
  // would refuse it half-way through the apply otherwise.
  for (const { m, topology } of topologies) {
    const cc = classes.get(`${m.namespace}/${topology.class}`) ?? (await store.get<ClusterClass>('ClusterClass', m.namespace, topology.class));
    const causes = cc ? topologyClassCauses(topology, cc) : [];
    if (causes.length) problems.push(`${keyString(m)}: ${causesText(causes)}`);
  }
  if (problems.length) throw new FleetInputError(`the fleet was refused, nothing was changed:\n- ${problems.join('\n- ')}`);
}

/**
 * The answer the API would give for an error of the service: its Status, or a 500 (logged) for anything else, so
 * that the fleet reports what `clusterless apply` would have shown.
 */
function answerOf(err: unknown): { code: number; reason?: string; message: string } {
  if (err instanceof ApiError) return { code: err.code, ...(err.status.reason ? { reason: err.status.reason } : {}), message: err.message };
  logger.error('API internal error', err as Error);
  return { code: 500, reason: 'InternalError', message: 'an internal error occurred; the request was not completed' };
}

const refused = (k: FleetObjectKey, err: unknown) => {
  const a = answerOf(err);
  return new FleetApplyError(`${keyString(k)}: the API answered ${a.code}: ${a.message}`, { cause: err });
};

export interface ApplyResult {
  created: FleetObjectKey[];
  replaced: FleetObjectKey[];
}

/**
 * Creates or replaces each object (POST, then PUT when it exists), in the API's kind order. Progress is
 * recorded in `result` as it goes, so that a caller sees what was written before a failure.
 */
export async function applyManifests(
  store: Store,
  manifests: Manifest[],
  owner: string,
  result: ApplyResult = { created: [], replaced: [] },
): Promise<ApplyResult> {
  const service = new ObjectService({ store });
  for (const m of manifests) {
    const body = requestBody(m, owner);
    const key: FleetObjectKey = { kind: m.kind, namespace: m.namespace, name: m.name };
    try {
      await service.create(m.kind, m.namespace, body);
      result.created.push(key);
      continue;
    } catch (err) {
      if (!(err instanceof ApiError && err.status.reason === 'AlreadyExists')) throw refused(m, err);
    }
    try {
      await service.replace(key, body);
      result.replaced.push(key);
    } catch (err) {
      throw refused(m, err);
    }
  }
  return result;
}

export interface DeleteResult {
  deleted: FleetObjectKey[];
  /** Gone already, or owned by another fleet resource (or by nobody: applied by hand since). */
  skipped: FleetObjectKey[];
}

/** Deletes the objects this owner applied, dependents first (the reverse of the API's kind order). */
export async function deleteOwned(store: Store, keys: FleetObjectKey[], owner: string): Promise<DeleteResult> {
  const service = new ObjectService({ store });
  const result: DeleteResult = { deleted: [], skipped: [] };
  const ordered = [...keys].sort((a, b) => kindOrder(b.kind) - kindOrder(a.kind));
  for (const key of ordered) {
    let current: Awaited<ReturnType<typeof service.get>>;
    try {
      current = await service.get(key);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) {
        result.skipped.push(key);
        continue;
      }
      throw refused(key, err);
    }
    if (current.metadata.annotations?.[FLEET_ANNOTATION] !== owner) {
      logger.info('not deleting an object this fleet resource does not own', {
        object: keyString(key),
        owner: current.metadata.annotations?.[FLEET_ANNOTATION],
      });
      result.skipped.push(key);
      continue;
    }
    try {
      // The uid precondition: an object deleted and created again meanwhile is someone else's now.
      await service.delete(key, { uid: current.metadata.uid });
      result.deleted.push(key);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) result.skipped.push(key);
      else throw refused(key, err);
    }
  }
  return result;
}

/**
 * The kinds whose objects name a MachineClass: while one of them does, the class is in use. A ClusterClass names
 * the classes its topology clusters' ControlPlanes and MachineDeployments will be stamped from.
 */
export const CLASS_USERS = ['ClusterClass', 'ControlPlane', 'MachineDeployment', 'MachineSet', 'Machine'] as const satisfies readonly KindName[];

/** The MachineClass an object names: a ControlPlane's or Machine's spec.machineClassRef, a template's otherwise. */
export function machineClassRefOf(o: ApiObject): string | undefined {
  const spec = isPlainObject(o.spec) ? o.spec : {};
  const template = isPlainObject(spec['template']) && isPlainObject(spec['template']['spec']) ? spec['template']['spec'] : {};
  const ref = isPlainObject(spec['machineClassRef']) ? spec['machineClassRef'] : isPlainObject(template['machineClassRef']) ? template['machineClassRef'] : {};
  return typeof ref['name'] === 'string' ? ref['name'] : undefined;
}

/** Every MachineClass an object names: a ClusterClass's control plane and worker classes, or machineClassRefOf's one. */
export function machineClassRefsOf(o: ApiObject): string[] {
  if (o.kind !== 'ClusterClass') return [machineClassRefOf(o) ?? []].flat();
  const spec = (o as ClusterClass).spec;
  return [spec.controlPlane.machineClassRef.name, ...spec.workers.machineDeployments.map((m) => m.template.machineClassRef.name)];
}

/**
 * The names of the MachineClasses of `namespace` some ClusterClass, ControlPlane, MachineDeployment, MachineSet or
 * Machine names, those being deleted included: a machine is launched from its class, and an old MachineSet may
 * still make one.
 */
export async function classesInUse(store: Store, namespace: string): Promise<Set<string>> {
  const users = await Promise.all(CLASS_USERS.map((kind) => store.list(kind, namespace)));
  return new Set(users.flat().flatMap(machineClassRefsOf));
}

export interface SweepResult extends DeleteResult {
  /** Owned and undeclared, but still named: deleted by a later Update or the Delete. */
  kept: FleetObjectKey[];
}

/**
 * Deletes the MachineClasses this owner applied and no longer declares: those `removed` names, and every class of
 * `namespaces` carrying the owner's annotation that `declared` does not name (kept by an earlier Update). With
 * `whenUnused`, a class some object still names is kept. Ownership and the uid precondition are deleteOwned's.
 */
export async function sweepClasses(
  store: Store,
  o: { declared: readonly FleetObjectKey[]; removed: readonly FleetObjectKey[]; namespaces: readonly string[]; owner: string; whenUnused: boolean },
): Promise<SweepResult> {
  const declared = new Set(o.declared.map(keyString));
  const candidates = new Map<string, FleetObjectKey>();
  for (const k of o.removed) if (k.kind === 'MachineClass' && !declared.has(keyString(k))) candidates.set(keyString(k), k);
  for (const namespace of o.namespaces) {
    for (const mc of await store.list('MachineClass', namespace)) {
      const key: FleetObjectKey = { kind: 'MachineClass', namespace, name: mc.metadata.name };
      if (mc.metadata.annotations?.[FLEET_ANNOTATION] === o.owner && !declared.has(keyString(key))) candidates.set(keyString(key), key);
    }
  }
  const kept: FleetObjectKey[] = [];
  const unused: FleetObjectKey[] = [];
  const inUse = new Map<string, Set<string>>();
  for (const key of candidates.values()) {
    if (o.whenUnused) {
      const names = inUse.get(key.namespace) ?? (await classesInUse(store, key.namespace));
      inUse.set(key.namespace, names);
      if (names.has(key.name)) {
        logger.info('keeping a MachineClass the fleet no longer declares: machines still use it', { object: keyString(key) });
        kept.push(key);
        continue;
      }
    }
    unused.push(key);
  }
  return { ...(await deleteOwned(store, unused, o.owner)), kept };
}

/** The objects of `old` that `current` does not declare. */
const undeclared = (old: readonly FleetObjectKey[], current: readonly FleetObjectKey[]) => {
  const declared = new Set(current.map(keyString));
  return old.filter((k) => !declared.has(keyString(k)));
};

const namespacesOf = (keys: readonly FleetObjectKey[]) => [...new Set(keys.map((k) => k.namespace))].sort();

export interface FleetResponse {
  PhysicalResourceId: string;
  Data: { Applied: number; Deleted: number };
}

function fleetName(props: Record<string, unknown> | undefined): string {
  const name = props?.['FleetName'];
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name))
    throw new FleetInputError(`FleetName must be 1-128 letters, digits, '.', '_' or '-', not ${JSON.stringify(name)}`);
  return name;
}

/** The manifests a stored (old) property names, for deletion; unreadable ones name nothing. */
function oldKeys(props: Record<string, unknown> | undefined): FleetObjectKey[] {
  try {
    return parseManifests(props?.['Manifests'] ?? '[]').map(({ kind, namespace, name }) => ({ kind, namespace, name }));
  } catch (e) {
    logger.warn('the previous manifests cannot be read; nothing of them is deleted', { error: (e as Error).message });
    return [];
  }
}

/** The custom resource's event: the same for the Lambda and for the tests. */
export async function onFleetEvent(event: CloudFormationCustomResourceEvent, deps: { store: Store }): Promise<FleetResponse> {
  const { store } = deps;
  switch (event.RequestType) {
    case 'Create': {
      // The request id is unique per resource created: a replacement gets another owner id.
      const owner = `${fleetName(event.ResourceProperties)}-${event.RequestId.replace(/[^A-Za-z0-9-]/g, '')}`;
      const manifests = parseManifests(event.ResourceProperties['Manifests']);
      await checkManifests(store, manifests, owner);
      const applied: ApplyResult = { created: [], replaced: [] };
      try {
        await applyManifests(store, manifests, owner, applied);
      } catch (err) {
        // The Provider framework ignores the Delete that follows a failed Create: take back what this one made.
        await deleteOwned(store, applied.created, owner).catch((e: unknown) => logger.error('could not take back a failed create', e as Error));
        throw err;
      }
      return { PhysicalResourceId: owner, Data: { Applied: applied.created.length + applied.replaced.length, Deleted: 0 } };
    }
    case 'Update': {
      const owner = event.PhysicalResourceId;
      const manifests = parseManifests(event.ResourceProperties['Manifests']);
      await checkManifests(store, manifests, owner);
      const applied = await applyManifests(store, manifests, owner);
      const old = oldKeys(event.OldResourceProperties);
      const removed = undeclared(old, manifests);
      const deleted = await deleteOwned(
        store,
        removed.filter((k) => k.kind !== 'MachineClass'),
        owner,
      );
      const classes = await sweepClasses(store, { declared: manifests, removed, namespaces: namespacesOf([...manifests, ...old]), owner, whenUnused: true });
      return {
        PhysicalResourceId: owner,
        Data: { Applied: applied.created.length + applied.replaced.length, Deleted: deleted.deleted.length + classes.deleted.length },
      };
    }
    case 'Delete': {
      const owner = event.PhysicalResourceId;
      const declared = oldKeys(event.ResourceProperties);
      const deleted = await deleteOwned(store, declared, owner);
      // The classes earlier Updates kept for their machines go too: everything of the fleet is deleted.
      const classes = await sweepClasses(store, { declared, removed: [], namespaces: namespacesOf(declared), owner, whenUnused: false });
      return { PhysicalResourceId: owner, Data: { Applied: 0, Deleted: deleted.deleted.length + classes.deleted.length } };
    }
  }
}

export function createFleetHandler(deps: { store: Store } | (() => { store: Store })) {
  let resolved: { store: Store } | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event: CloudFormationCustomResourceEvent, context?: Context): Promise<FleetResponse> => {
    resolved ??= (deps as () => { store: Store })();
    if (context) logger.addContext(context);
    logger.appendKeys({ correlation_id: event.RequestId });
    try {
      const response = await onFleetEvent(event, resolved);
      logger.info('fleet applied', { requestType: event.RequestType, ...response });
      return response;
    } catch (err) {
      logger.error('fleet refused or failed', { requestType: event.RequestType, error: err as Error });
      throw err;
    }
  };
}

export function fleetDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): { store: Store } {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the fleet resource needs the name of the clusterless table');
  return { store: new DynamoDbStore({ client: createDynamoDbClient(), tableName }) };
}

/** The Lambda entry point (the Provider framework's onEvent handler). */
export const handler = createFleetHandler(() => fleetDepsFromEnvironment());
