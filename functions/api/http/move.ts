/**
 * The move subresource of a Cluster, `/apis/clusterless.dev/v1alpha1/namespaces/{ns}/clusters/{name}/move`, the
 * server side of `clusterless move` (the steps are functions/api/service/move.ts). GET answers this installation's
 * id, and the cluster's objects once it is paused for a move; POST takes one step, `{"step": ...}`: Pause (with
 * `to`), Import (with `from` and `object`), ImportCertificates (with `certificates`), HandOver, Resume, Forget.
 *
 * Who may call it: a caller that may write every object of the namespace and their status (it creates objects
 * with their status and forgets a cluster without teardown). On the embedded host the access gate asks the
 * controller token for its POSTs, as for status writes (local/access.ts); on AWS it is its own path, granted apart
 * from the kinds' routes.
 */
import type { Store } from '../../ports.js';
import {
  exportForMove,
  forgetAfterMove,
  handOverForMove,
  importCertificatesForMove,
  importForMove,
  MoveAnnotations,
  pauseForMove,
  resumeAfterMove,
  type MoveDeps,
} from '../service/move.js';
import { isPlainObject } from './merge-patch.js';
import { parseJson } from './body.js';
import { ApiError, badRequest } from './status.js';

/** The body limit of a step: one object (Import) at most, as large as an addon's manifests may make it. */
const MOVE_BODY_BYTES = 4 * 1024 * 1024;

export const MOVE_STEPS = ['Pause', 'Import', 'ImportCertificates', 'HandOver', 'Resume', 'Forget'] as const;

export async function serveMove(
  method: string,
  body: string | undefined,
  target: { namespace: string; name: string },
  store: Store,
  deps: MoveDeps | undefined,
): Promise<[number, unknown]> {
  if (!deps) throw new ApiError('NotFound', 'this installation does not move clusters', {});
  const { namespace, name } = target;
  if (method === 'GET') {
    const cluster = await store.get('Cluster', namespace, name);
    if (cluster?.metadata.annotations?.[MoveAnnotations.to] !== undefined) return [200, await exportForMove(store, deps, namespace, name)];
    return [200, { installationId: deps.installationId, objects: [] }];
  }
  const request = parseJson(body ?? '', MOVE_BODY_BYTES);
  if (!isPlainObject(request)) throw badRequest('the body of a move step is an object: {"step": ...}');
  switch (request['step']) {
    case 'Pause':
      return [200, await pauseForMove(store, deps, namespace, name, request['to'])];
    case 'Import': {
      const { outcome, object } = await importForMove(store, namespace, name, request['object'], request['from']);
      return [outcome === 'created' ? 201 : 200, object];
    }
    case 'ImportCertificates': {
      const { outcome } = await importCertificatesForMove(store, deps, namespace, name, request['certificates']);
      return [outcome === 'created' ? 201 : 200, { outcome }];
    }
    case 'HandOver':
      return [200, await handOverForMove(store, deps, namespace, name)];
    case 'Resume':
      return [200, await resumeAfterMove(store, deps, namespace, name)];
    case 'Forget':
      return [200, await forgetAfterMove(store, deps, namespace, name)];
    default:
      throw badRequest(`step: ${JSON.stringify(request['step'])} is not one of ${MOVE_STEPS.join(', ')}`);
  }
}
