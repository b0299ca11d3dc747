/**
 * `move CLUSTER --to SERVER`: moves a cluster to another clusterless installation, as `clusterctl move` moves one
 * between management clusters (cluster-api cmd/clusterctl/client/cluster/mover.go: pause, create in the target in
 * dependency order, delete from the source without teardown, resume). The steps are the servers'
 * (functions/api/service/move.ts); this drives them in order. Every step is idempotent and the source's Cluster
 * records how far it got, so after a crash or a refused request the same command finishes the move.
 */
import type { ApiObject } from '../../functions/api/kind.js';
import { kindByName } from '../../functions/api/kinds.js';
import { MoveAnnotations } from '../../functions/api/service/move.js';
import { isNotFound, resourcePath, type ApiClient } from '../client.js';
import type { Context } from '../context.js';
import { OperationError, UsageError } from '../errors.js';

interface MoveExport {
  installationId: string;
  objects: ApiObject[];
  certificates?: string;
}

const CLUSTER = kindByName('Cluster')!;
const movePath = (namespace: string, name: string) => resourcePath(CLUSTER, namespace, name, 'move');
const clusterPath = (namespace: string, name: string) => resourcePath(CLUSTER, namespace, name);

async function clusterAt(client: ApiClient, namespace: string, name: string): Promise<ApiObject | undefined> {
  try {
    return (await client.request<ApiObject>('GET', clusterPath(namespace, name))).body;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function move(ctx: Context, target: ApiClient, clusterName: string, options: { namespace?: string }): Promise<void> {
  const namespace = options.namespace ?? 'default';
  const source = ctx.client;
  if (target.server === source.server) throw new UsageError('--to names the server the cluster is on: give the other installation');
  const step = (client: ApiClient, body: Record<string, unknown>) => client.request<unknown>('POST', movePath(namespace, clusterName), { body });
  const to = (await target.request<MoveExport>('GET', movePath(namespace, clusterName))).body.installationId;

  const atSource = await clusterAt(source, namespace, clusterName);
  const atTarget = await clusterAt(target, namespace, clusterName);
  if (!atSource) {
    // Forgotten by the source: the move ended, unless the target has yet to resume (it resumes before the source forgets).
    if (!atTarget) throw new UsageError(`cluster ${namespace}/${clusterName} is on neither server`);
    await step(target, { step: 'Resume' });
    ctx.out(`cluster.clusterless.dev/${clusterName} moved to ${target.server}`);
    return;
  }
  const resumed = atTarget !== undefined && atTarget.metadata.annotations?.[MoveAnnotations.movingIn] === undefined;
  // A resumed cluster of that name on the target is this move's only once the source has handed it over.
  if (resumed && atSource.metadata.annotations?.[MoveAnnotations.step] !== 'HandedOver')
    throw new OperationError(`a cluster ${namespace}/${clusterName} already runs on ${target.server}: nothing was moved`);
  if (!resumed) {
    // 1. Pause and record the move on the source.
    await step(source, { step: 'Pause', to });
    ctx.note(`paused ${clusterName} on ${source.server} for the move to installation ${to}`);
    // 2. Copy, in dependency order (the export's), each object with its uid and status.
    const exported = (await source.request<MoveExport>('GET', movePath(namespace, clusterName))).body;
    let created = 0;
    for (const object of exported.objects) {
      const reply = await step(target, { step: 'Import', from: exported.installationId, object });
      if (reply.status === 201) created++;
    }
    ctx.note(`copied ${exported.objects.length} objects (${created} new) to ${target.server}`);
    if (exported.certificates) {
      await step(target, { step: 'ImportCertificates', certificates: exported.certificates });
      ctx.note('copied the cluster certificates');
    }
    // 3. Hand the cloud resources over; the source records it.
    const handed = (await step(source, { step: 'HandOver' })).body as { handedOver: string[] };
    ctx.note(`handed over ${handed.handedOver.length} cloud resources`);
    // 4. Resume in the target (refused until it owns every machine's instance).
    await step(target, { step: 'Resume' });
    ctx.note(`resumed ${clusterName} on ${target.server}`);
  }
  // 5. The source forgets the cluster, without teardown.
  const forgotten = (await step(source, { step: 'Forget' })).body as { forgotten: number };
  ctx.note(`forgot ${forgotten.forgotten} objects on ${source.server}`);
  ctx.out(`cluster.clusterless.dev/${clusterName} moved to ${target.server}`);
}
