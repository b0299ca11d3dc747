/** Manifests and a request helper shared by the router tests. */
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { API_VERSION, Annotations, Labels } from '../../../functions/api/common.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { KINDS } from '../../../functions/api/kinds.js';
import { handleRequest, type HttpResponse, type RouterDeps } from '../../../functions/api/http/index.js';
import type { Store } from '../../../functions/ports.js';
import { FakeClock } from '../../support/fake-clock.js';

export const BASE = '/apis/clusterless.dev/v1alpha1';
export const ns = (namespace: string, plural: string, name?: string, sub?: string) =>
  [`${BASE}/namespaces/${namespace}/${plural}`, name, sub].filter(Boolean).join('/');

export function cluster(name = 'c1', namespace = 'default'): ApiObject {
  return { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name, namespace }, spec: {} };
}

export function machineClass(name = 'small', namespace = 'default'): ApiObject {
  return { apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name, namespace }, spec: { sim: {} } };
}

export function machineDeployment(
  name = 'md1',
  namespace = 'default',
  extra: { labels?: Record<string, string>; replicas?: number; version?: string } = {},
): ApiObject {
  return {
    apiVersion: API_VERSION,
    kind: 'MachineDeployment',
    metadata: { name, namespace, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      clusterName: 'c1',
      replicas: extra.replicas ?? 3,
      template: { spec: { version: extra.version ?? 'v1.31.2', machineClassRef: { name: 'small' } } },
    },
  };
}

/** A MachineSet of a deployment's revision, as the rollout would make it (selector, hash label, owner). */
export function machineSet(md: ApiObject, revision: number, version: string, hash: string): ApiObject {
  const selector = { matchLabels: { [Labels.clusterName]: 'c1', [Labels.deploymentName]: md.metadata.name, [Labels.templateHash]: hash } };
  return {
    apiVersion: API_VERSION,
    kind: 'MachineSet',
    metadata: {
      name: `${md.metadata.name}-${hash}`,
      namespace: md.metadata.namespace,
      annotations: { [Annotations.revision]: String(revision) },
      ownerReferences: [{ apiVersion: API_VERSION, kind: 'MachineDeployment', name: md.metadata.name, uid: md.metadata.uid!, controller: true }],
    },
    spec: {
      clusterName: 'c1',
      replicas: 0,
      selector,
      template: { metadata: { labels: selector.matchLabels }, spec: { version, machineClassRef: { name: 'small' } } },
    },
  };
}

export interface Reply extends HttpResponse {
  json: any;
}

export interface Api {
  store: Store;
  clock: FakeClock;
  deps: RouterDeps;
  /** Sends JSON with the content type a JSON client sends; a header given as undefined is left out. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string | undefined>, query?: Record<string, string>): Promise<Reply>;
  /** POSTs an object to its collection and returns what the API stored. */
  create(obj: ApiObject): Promise<any>;
  /** Everything in the store, every kind and namespace: compared before and after a refusal. */
  snapshot(): Promise<ApiObject[]>;
}

const PLURAL = new Map(KINDS.map((k) => [k.kind, k.plural]));

export function api(clock = new FakeClock(), store: Store = new MemoryStore({ clock })): Api {
  const deps: RouterDeps = { store };
  const call: Api['call'] = async (method, path, body, headers = {}, query) => {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const contentType = text === undefined ? {} : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' };
    const sent: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...contentType, ...headers })) if (v !== undefined) sent[k] = v;
    const res = await handleRequest({ method, path, query: query ?? {}, headers: sent, body: text }, deps);
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      json = undefined;
    }
    return { ...res, json };
  };
  return {
    store,
    clock,
    deps,
    call,
    async create(obj) {
      const res = await call('POST', ns(obj.metadata.namespace ?? 'default', PLURAL.get(obj.kind)!), obj);
      if (res.status !== 201) throw new Error(`create ${obj.kind} ${obj.metadata.name}: ${res.status} ${res.body}`);
      return res.json;
    },
    async snapshot() {
      return (await Promise.all(KINDS.map((k) => store.list(k.kind as Parameters<Store['list']>[0])))).flat();
    },
  };
}
