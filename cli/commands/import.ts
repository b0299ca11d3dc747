/**
 * `import --kubeconfig FILE [-n NS] [CLUSTER...]`: takes over clusters that Cluster API and its AWS provider manage,
 * without launching or rebooting anything. Their Cluster API objects are read from the management cluster (they must
 * be paused there), converted (functions/api/capi), written paused, their certificates stored, one Machine made for
 * each running instance and the instance tagged as that Machine's; then the clusterless Cluster is unpaused.
 *
 * Every step is create-if-absent or a no-op when done, so running import again after a crash anywhere finishes the
 * job and duplicates nothing. Everything is checked before anything is written: a cluster that cannot be imported
 * leaves clusterless as it was.
 */
import { KubernetesApiError, KubernetesClient, resourcePath as kubePath } from '../../functions/adapters/kubernetes-client/rest-client.js';
import { convertClusterApi, formatIssue } from '../../functions/api/capi/convert.js';
import {
  IMPORTED_KINDS,
  adoptedMachine,
  adoptingMachineSet,
  adoptionsOf,
  certificateSecretNames,
  certificatesOf,
  convertible,
  importRefusal,
  objectsOfCluster,
  resourceSetResources,
  rolloutInProgress,
  type ImportedCertificates,
  type InstanceAdoption,
} from '../../functions/api/capi/import-plan.js';
import type { ControlPlane } from '../../functions/api/control-plane.js';
import { kindByName } from '../../functions/api/kinds.js';
import type { MachineDeployment } from '../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../functions/api/machine-set.js';
import { MERGE_PATCH, resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { AlreadyReported, ApiRequestError, ExitCode, UsageError } from '../errors.js';
import { DEFAULT_IMAGE_SSM_PARAMETER } from './generate.js';

export interface ImportOptions {
  kubeconfig: string;
  namespace?: string;
}

type Obj = Record<string, unknown>;

/** Versions tried for each group, newest first: Cluster API 1.11 serves v1beta2 and v1beta1, older ones v1beta1. */
const VERSIONS: Record<string, readonly string[]> = {
  'infrastructure.cluster.x-k8s.io': ['v1beta2', 'v1beta1'],
  default: ['v1beta2', 'v1beta1'],
};

/** A read, again after the wait the server asks for while it answers 429 (throttled, or a CRD's storage starting). */
async function read<T>(k: KubernetesClient, path: string, sleep: (ms: number) => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await k.get<T>(path);
    } catch (err) {
      if (!(err instanceof KubernetesApiError && err.code === 429) || attempt >= 10) throw err;
      await sleep(Math.min(5, err.retryAfterSeconds ?? 1) * 1000);
    }
  }
}

async function listKind(k: KubernetesClient, group: string, plural: string, namespace: string, sleep: (ms: number) => Promise<void>): Promise<Obj[]> {
  for (const version of VERSIONS[group] ?? VERSIONS['default']!) {
    try {
      const list = await read<{ items?: Obj[] }>(k, kubePath(group, version, plural, { namespace }), sleep);
      const kind = IMPORTED_KINDS.find((x) => x.plural === plural)!.kind;
      // Items of a list carry no kind or apiVersion of their own.
      return (list.items ?? []).map((o) => ({ ...o, apiVersion: `${group}/${version}`, kind }));
    } catch (err) {
      if (!(err instanceof KubernetesApiError && err.code === 404)) throw err;
    }
  }
  return []; // the kind is not installed: no such objects
}

async function getCore(k: KubernetesClient, plural: 'secrets' | 'configmaps', namespace: string, name: string): Promise<Obj | undefined> {
  try {
    const o = await read<Obj>(k, kubePath('', 'v1', plural, { namespace, name }), (ms) => new Promise((r) => setTimeout(r, ms)));
    return { ...o, apiVersion: 'v1', kind: plural === 'secrets' ? 'Secret' : 'ConfigMap' };
  } catch (err) {
    if (err instanceof KubernetesApiError && err.code === 404) return undefined;
    throw err;
  }
}

interface ClusterImport {
  name: string;
  capaClusterName: string;
  converted: Obj[];
  adoptions: InstanceAdoption[];
  certificates: ImportedCertificates;
}

/** Reads and checks one cluster; its problems are pushed to `errors`. */
async function planCluster(
  k: KubernetesClient,
  all: Obj[],
  namespace: string,
  name: string,
  errors: string[],
  warnings: string[],
): Promise<ClusterImport | undefined> {
  const own = objectsOfCluster(all, name);
  const cluster = own[0];
  if (!cluster) {
    errors.push(`cluster ${namespace}/${name}: no Cluster API Cluster of that name`);
    return undefined;
  }
  const problems: string[] = [];
  const refusal = importRefusal(cluster);
  if (refusal) problems.push(refusal);
  const extras: Obj[] = [];
  for (const r of resourceSetResources(own)) {
    const o = await getCore(k, r.kind === 'Secret' ? 'secrets' : 'configmaps', namespace, r.name);
    if (o) extras.push(o);
  }
  const result = convertClusterApi([...convertible(own), ...extras], { defaultImageSsmParameter: DEFAULT_IMAGE_SSM_PARAMETER });
  problems.push(...result.errors.map(formatIssue));
  for (const w of result.warnings) warnings.push(`cluster ${namespace}/${name}: ${formatIssue(w)}`);
  const { adoptions, errors: adoptionErrors } = adoptionsOf(own, name);
  problems.push(...adoptionErrors);
  const deployments = result.objects.filter((o) => o['kind'] === 'MachineDeployment') as unknown as MachineDeployment[];
  problems.push(...rolloutInProgress(adoptions, deployments));
  if (adoptions.some((a) => a.role === 'control-plane') && !result.objects.some((o) => o['kind'] === 'ControlPlane'))
    problems.push('its control-plane Machines have no KubeadmControlPlane to be converted into a ControlPlane');
  const secrets: Obj[] = [];
  for (const s of certificateSecretNames(name)) {
    const o = await getCore(k, 'secrets', namespace, s);
    if (o) secrets.push(o);
  }
  const { certificates, errors: certificateErrors } = certificatesOf(secrets, name);
  problems.push(...certificateErrors);
  errors.push(...problems.map((p) => `cluster ${namespace}/${name}: ${p}`));
  if (problems.length > 0 || !certificates) return undefined;
  // Written paused, whatever Cluster API's spec said: nothing reconciles until every instance is adopted.
  const converted = result.objects.map((o) => (o['kind'] === 'Cluster' ? { ...o, spec: { ...(o['spec'] as Obj), paused: true } } : o));
  return { name, capaClusterName: name, converted, adoptions, certificates };
}

/** Creates the object unless one of that name exists; the stored object either way. */
async function ensure<T>(ctx: Context, object: Obj, namespace: string): Promise<{ object: T; created: boolean }> {
  const def = kindByName(String(object['kind']))!;
  const name = String((object['metadata'] as Obj)['name']);
  try {
    return { object: (await ctx.client.request<T>('POST', resourcePath(def, namespace), { body: object })).body, created: true };
  } catch (err) {
    if (!(err instanceof ApiRequestError && err.reason === 'AlreadyExists')) throw err;
  }
  return { object: (await ctx.client.get<T>(resourcePath(def, namespace, name))).body, created: false };
}

async function importCluster(ctx: Context, namespace: string, c: ClusterImport): Promise<void> {
  const clusterDef = kindByName('Cluster')!;
  let created = 0;
  for (const o of c.converted) if ((await ensure(ctx, o, namespace)).created) created++;
  await ctx.client.request('POST', resourcePath(clusterDef, namespace, c.name, 'certificates'), { body: c.certificates });

  // Owners first: the MachineSet each deployment's adopted workers join, then the Machines.
  const owners = new Map<string, { controlPlane: ControlPlane } | { machineSet: MachineSet }>();
  const cp = c.converted.find((o) => o['kind'] === 'ControlPlane');
  if (cp) {
    const stored = (await ctx.client.get<ControlPlane>(resourcePath(kindByName('ControlPlane')!, namespace, String((cp['metadata'] as Obj)['name'])))).body;
    owners.set('', { controlPlane: stored });
  }
  for (const name of new Set(c.adoptions.flatMap((a) => (a.deploymentName ? [a.deploymentName] : [])))) {
    const md = (await ctx.client.get<MachineDeployment>(resourcePath(kindByName('MachineDeployment')!, namespace, name))).body;
    const count = c.adoptions.filter((a) => a.deploymentName === name).length;
    owners.set(name, { machineSet: (await ensure<MachineSet>(ctx, adoptingMachineSet(md, count) as unknown as Obj, namespace)).object });
  }
  const machineDef = kindByName('Machine')!;
  let tagged = 0;
  for (const a of c.adoptions) {
    const owner = owners.get(a.deploymentName ?? '');
    if (!owner) throw new Error(`machine ${a.machineName}: cluster ${c.name} has no owner for it`); // checked in planCluster
    await ensure(ctx, adoptedMachine(a, owner), namespace);
    const reply = await ctx.client.request<{ adopted?: string }>('POST', resourcePath(machineDef, namespace, a.machineName, 'adopt'), {
      body: { instanceId: a.instanceId, capaClusterName: c.capaClusterName },
    });
    if (reply.body.adopted === 'Tagged') tagged++;
  }
  const live = (await ctx.client.get<{ spec: { paused?: boolean } }>(resourcePath(clusterDef, namespace, c.name))).body;
  if (live.spec.paused)
    await ctx.client.request('PATCH', resourcePath(clusterDef, namespace, c.name), { body: { spec: { paused: false } }, contentType: MERGE_PATCH });
  ctx.out(`cluster/${c.name} imported: ${c.adoptions.length} machines adopted (${tagged} instances tagged now), ${created} objects created`);
}

export async function importClusters(ctx: Context, clusters: string[], options: ImportOptions): Promise<void> {
  const namespace = options.namespace ?? 'default';
  let k: KubernetesClient;
  try {
    k = new KubernetesClient(options.kubeconfig);
  } catch (err) {
    throw new UsageError(`--kubeconfig ${options.kubeconfig}: ${(err as Error).message}`);
  }
  try {
    const all: Obj[] = [];
    for (const { group, plural } of IMPORTED_KINDS) all.push(...(await listKind(k, group, plural, namespace, ctx.io.sleep)));
    const names = clusters.length > 0 ? clusters : all.filter((o) => o['kind'] === 'Cluster').map((o) => String((o['metadata'] as Obj)['name']));
    if (names.length === 0) throw new UsageError(`no Cluster API clusters in namespace ${namespace}`);
    const errors: string[] = [];
    const warnings: string[] = [];
    const plans: ClusterImport[] = [];
    for (const name of names) {
      const plan = await planCluster(k, all, namespace, name, errors, warnings);
      if (plan) plans.push(plan);
    }
    // What has no equivalent, as `convert` says it.
    for (const w of warnings) ctx.note(`warning: ${w}`);
    // Nothing is written unless every cluster asked for can be imported.
    if (errors.length > 0) {
      for (const e of errors) ctx.note(`error: ${e}`);
      throw new AlreadyReported(ExitCode.failed);
    }
    for (const plan of plans) await importCluster(ctx, namespace, plan);
    ctx.note(
      'Cluster API still holds these clusters, paused: never unpause them there; remove their objects only once their finalizers are removed, or Cluster API deletes the instances',
    );
  } finally {
    k.close();
  }
}
