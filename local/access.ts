/**
 * Who may do what on the embedded host's HTTP API. Two credentials: the client token (`--token`, optional) for
 * the API as a whole, and the controller token for writes of status. Status is what the controllers observed;
 * a client that could write it could tell the planners that machines are Running, Ready or gone, so, as in
 * Kubernetes, where `machines/status` is a resource of its own for authorization (kubernetes/kubernetes,
 * staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go: the subresource is part of the request's
 * attributes), writing it is a separate permission. The host's own controllers write the store directly and
 * need neither.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError, statusResponse, type HttpResponse } from '../functions/api/http/index.js';
import type { RequestGate } from './http-server.js';

/** The file, in the data folder, that holds a generated controller token. */
export const CONTROLLER_TOKEN_FILE = 'controller-token';

/** The file, in the data folder, that holds a generated client token (`up --provider aws` without `--token`). */
export const CLIENT_TOKEN_FILE = 'client-token';

/** Compares the bearer token in constant time (over digests, so that lengths do not leak either). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(header ?? ''), digest(`Bearer ${token}`));
}

/** A new bearer token (controller or client): 32 random bytes, hex. */
export function newBearerToken(): string {
  return randomBytes(32).toString('hex');
}

/**
 * True for a request the router would take as a write of the status subresource:
 * `/apis/{group}/{version}/namespaces/{ns}/{plural}/{name}/status` by any method but GET, or as a step of a move
 * (`.../clusters/{name}/move`, which imports objects with their status). The path is split
 * and decoded as the router does (slashes trimmed, each segment percent-decoded), so that `%73tatus` or a
 * trailing slash cannot slip past.
 */
export function isStatusWrite(method: string, path: string): boolean {
  if (['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase())) return false;
  const segments = path.replace(/^\/+|\/+$/g, '').split('/');
  let last: string;
  try {
    last = decodeURIComponent(segments[segments.length - 1] ?? '');
  } catch {
    return false; // the router refuses the path itself (400)
  }
  if (segments.length !== 8) return false;
  // A move's steps write objects with their status (Import) and hand a cluster over: the controllers' permission too.
  return last === 'status' || (last === 'move' && segments[5] === 'clusters');
}

export interface AccessOptions {
  /** When set, every request must carry it (or the controller token) as `Authorization: Bearer`. */
  token?: string;
  /** The bearer that may write status, and that passes wherever the client token does. */
  controllerToken: string;
  /** Where a controller finds the token, for the message of a refusal. */
  controllerTokenHint: string;
}

/** The gate of the embedded host: checked on the request head, before the body is read. */
export function accessGate(options: AccessOptions): RequestGate {
  const refuse = (err: ApiError): HttpResponse => statusResponse(err.status);
  return ({ method, path, headers }) => {
    const authorization = headers['authorization'];
    const controller = bearerMatches(authorization, options.controllerToken);
    if (options.token !== undefined && !controller && !bearerMatches(authorization, options.token))
      return refuse(new ApiError('Unauthorized', 'a valid bearer token is required (clusterless --token)'));
    if (!controller && isStatusWrite(method, path))
      return refuse(
        new ApiError('Forbidden', `status is written by controllers: send the controller token (${options.controllerTokenHint}) as the bearer token`, {
          causes: [{ reason: 'FieldValueForbidden', message: 'writing status needs the controller token', field: 'status' }],
        }),
      );
    return undefined;
  };
}
