/**
 * Discovery as kube-apiserver serves it for a group of CustomResourceDefinitions: /version, /api, /apis,
 * /apis/{group}, /apis/{group}/{version}, and the aggregated form (apidiscovery.k8s.io/v2) of /api and /apis that
 * kubectl and client-go ask for first. Shapes learnt from kubernetes staging/src/k8s.io/apiserver/pkg/endpoints/
 * discovery (root.go, group.go, version.go, aggregated/handler.go, aggregated/negotiation.go) and
 * apiextensions-apiserver/pkg/apiserver/customresource_discovery_controller.go.
 */
import { GROUP, VERSION } from '../common.js';
import type { ApiObject, KindDef } from '../kind.js';
import { KINDS } from '../kinds.js';
import { groupVersionOpenApi, OPENAPI_GROUP_VERSION_PATH, openApiIndex, sha512Hex } from '../openapi.js';
import { mediaType, serialize } from './body.js';
import { ApiError } from './status.js';

/** The server's version; a unit test holds it equal to package.json's. */
export const SERVER_VERSION = '0.1.0';

/** A subresource as discovery lists it: status, rollback, scale. */
export interface DiscoveredSubresource {
  name: string;
  kind: string;
  /** The group and version of `kind` when it is not the parent's (autoscaling/v1 Scale). */
  group?: string;
  version?: string;
  verbs: readonly string[];
}

/** One resource of a group version, with what kubectl reads: verbs, short names, categories, subresources. */
export interface DiscoveredResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: readonly string[];
  shortNames?: readonly string[];
  categories?: readonly string[];
  subresources?: readonly DiscoveredSubresource[];
}

/** A group version served next to clusterless.dev (events.k8s.io/v1, ...): passed in through RouterDeps. */
export interface DiscoveredGroupVersion {
  group: string;
  version: string;
  resources: readonly DiscoveredResource[];
}

/** What the router serves of every kind, in kube-apiserver's order of verbs. */
export const RESOURCE_VERBS = ['delete', 'get', 'list', 'patch', 'create', 'update', 'watch'] as const;
const SUBRESOURCE_VERBS = ['get', 'patch', 'update'] as const;

function kindResource(k: KindDef<ApiObject>): DiscoveredResource {
  return {
    name: k.plural,
    singularName: k.singular,
    namespaced: true,
    kind: k.kind,
    verbs: RESOURCE_VERBS,
    shortNames: k.shortNames,
    ...(k.categories ? { categories: k.categories } : {}),
    subresources: [
      { name: 'status', kind: k.kind, verbs: SUBRESOURCE_VERBS },
      // The scale route is the router's; `kubectl scale` finds it here as on a CRD with subresources.scale.
      ...(k.scale ? [{ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: SUBRESOURCE_VERBS }] : []),
      ...(k.kind === 'MachineDeployment' ? [{ name: 'rollback', kind: 'MachineDeploymentRollback', verbs: ['create'] }] : []),
    ],
  };
}

/**
 * clusterless.dev/v1alpha1 as discovery lists it: by plural, as kube-apiserver sorts a group's CRDs, so that a
 * category (`kubectl get clusterless`) lists its kinds in the same order.
 */
export function clusterlessGroupVersion(): DiscoveredGroupVersion {
  const resources = KINDS.map(kindResource).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { group: GROUP, version: VERSION, resources };
}

const groupVersions = (extra: readonly DiscoveredGroupVersion[]) => [clusterlessGroupVersion(), ...extra];

/** GET /version: a version.Info (k8s.io/apimachinery/pkg/version/types.go). */
export function versionInfo(platform: string = goPlatform()) {
  const [major = '0', minor = '0'] = SERVER_VERSION.split('.');
  return {
    major,
    minor,
    gitVersion: `v${SERVER_VERSION}`,
    gitCommit: '',
    gitTreeState: '',
    buildDate: '',
    goVersion: '',
    compiler: '',
    platform,
  };
}

/** Node's platform and architecture in Go's words (GOOS/GOARCH), as kube-apiserver reports its own. */
function goPlatform(): string {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
  return `${process.platform === 'win32' ? 'windows' : process.platform}/${arch[process.arch] ?? process.arch}`;
}

/** GET /api: the legacy core group; clusterless serves none of it, so no versions. */
export function apiVersions() {
  return { kind: 'APIVersions', versions: [], serverAddressByClientCIDRs: [] };
}

function groupOf(name: string, extra: readonly DiscoveredGroupVersion[]) {
  const versions = groupVersions(extra)
    .filter((gv) => gv.group === name)
    .map((gv) => ({ groupVersion: `${gv.group}/${gv.version}`, version: gv.version }));
  if (versions.length === 0) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions, preferredVersion: versions[0]! };
}

/** GET /apis: every group served, clusterless.dev first. */
export function apiGroupList(extra: readonly DiscoveredGroupVersion[] = []) {
  const names = [...new Set(groupVersions(extra).map((gv) => gv.group))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: names.map((n) => groupOf(n, extra)!) };
}

/** GET /apis/{group}; undefined for a group not served. */
export function apiGroup(name: string = GROUP, extra: readonly DiscoveredGroupVersion[] = []) {
  return groupOf(name, extra);
}

/** GET /apis/{group}/{version}: subresources are their own entries (`machinedeployments/status`). */
export function apiResourceList(group: string = GROUP, version: string = VERSION, extra: readonly DiscoveredGroupVersion[] = []) {
  const gv = groupVersions(extra).find((g) => g.group === group && g.version === version);
  if (!gv) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${group}/${version}`,
    resources: gv.resources.flatMap((r) => [
      {
        name: r.name,
        singularName: r.singularName,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: [...r.verbs],
        ...(r.shortNames?.length ? { shortNames: [...r.shortNames] } : {}),
        ...(r.categories?.length ? { categories: [...r.categories] } : {}),
      },
      ...(r.subresources ?? []).map((s) => ({
        name: `${r.name}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(s.group !== undefined ? { group: s.group, version: s.version } : {}),
        kind: s.kind,
        verbs: [...s.verbs],
      })),
    ]),
  };
}

/** The media type of aggregated discovery, the only version kube-apiserver 1.34 still serves (v2beta1 is gone). */
export const AGGREGATED_DISCOVERY_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/**
 * Whether an Accept header asks for aggregated discovery: a clause `application/json` whose parameters are
 * g=apidiscovery.k8s.io, v=v2 and as=APIGroupDiscoveryList, in any order, before any clause that plain JSON or
 * anything else would satisfy (kubectl lists it first, then v2beta1, then application/json).
 */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  for (const clause of (accept ?? '').split(',')) {
    const type = mediaType(clause);
    const params = mediaParameters(clause);
    if (type === 'application/json' && params['g'] === 'apidiscovery.k8s.io' && params['as'] === 'APIGroupDiscoveryList') {
      if (params['v'] === 'v2') return true;
      continue; // v2beta1 or another version: kube-apiserver 1.34 falls through to the next clause
    }
    if (type !== undefined) return false;
  }
  return false;
}

/** The parameters of one media range, keys lower-cased (`application/json;as=Table;v=v1` → {as: 'Table', v: 'v1'}). */
export function mediaParameters(clause: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of clause.split(';').slice(1)) {
    const eq = p.indexOf('=');
    if (eq > 0)
      out[p.slice(0, eq).trim().toLowerCase()] = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/**
 * The aggregated discovery document of /apis (every group) or /api (the core group: empty here). Each
 * subresource lists its response kind; freshness is always Current (nothing is aggregated from elsewhere).
 */
export function aggregatedDiscovery(root: 'api' | 'apis', extra: readonly DiscoveredGroupVersion[] = []) {
  const items =
    root === 'api'
      ? []
      : [...new Set(groupVersions(extra).map((gv) => gv.group))].map((group) => ({
          metadata: { name: group },
          versions: groupVersions(extra)
            .filter((gv) => gv.group === group)
            .map((gv) => ({
              version: gv.version,
              resources: gv.resources.map((r) => ({
                resource: r.name,
                responseKind: { group: gv.group, version: gv.version, kind: r.kind },
                scope: r.namespaced ? 'Namespaced' : 'Cluster',
                singularResource: r.singularName,
                verbs: [...r.verbs],
                ...(r.shortNames?.length ? { shortNames: [...r.shortNames] } : {}),
                ...(r.categories?.length ? { categories: [...r.categories] } : {}),
                ...(r.subresources?.length
                  ? {
                      subresources: r.subresources.map((s) => ({
                        subresource: s.name,
                        responseKind: { group: s.group ?? gv.group, version: s.version ?? gv.version, kind: s.kind },
                        verbs: [...s.verbs],
                      })),
                    }
                  : {}),
              })),
              freshness: 'Current',
            })),
        }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}

// ---------------------------------------------------------------------------------------------------------
// The responses of the read-side routes that are not objects: discovery and OpenAPI.

/** The routes answered here; the router parses the path, this file writes the answer. */
export type DiscoveryRoute =
  | { type: 'version' | 'api' | 'apis' | 'openapi' }
  | { type: 'group'; group: string }
  | { type: 'resources'; group: string; version: string }
  | { type: 'openapi-group-version'; path: string };

export interface DiscoveryRequest {
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  /** Group versions served next to clusterless.dev (RouterDeps.apiGroups). */
  extra: readonly DiscoveredGroupVersion[];
  /** Milliseconds since the epoch, for the Expires of an immutable OpenAPI document. */
  now: number;
  yaml: boolean;
  pretty: boolean;
}

export interface DiscoveryResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const notServed = () => new ApiError('NotFound', 'the server could not find the requested resource', {});

function answer(value: unknown, req: DiscoveryRequest, headers: Record<string, string> = {}): DiscoveryResponse {
  const s = serialize(value, req.yaml, req.pretty);
  return { status: 200, headers: { 'content-type': s.contentType, ...headers }, body: s.body };
}

/** Answers a discovery or OpenAPI route; throws a NotFound ApiError for a group, version or document not served. */
export function discoveryResponse(r: DiscoveryRoute, req: DiscoveryRequest): DiscoveryResponse {
  switch (r.type) {
    case 'version':
      return answer(versionInfo(), req);
    case 'api':
    case 'apis':
      if (wantsAggregatedDiscovery(req.headers['accept'])) {
        const body = JSON.stringify(aggregatedDiscovery(r.type, req.extra));
        return { status: 200, headers: { 'content-type': AGGREGATED_DISCOVERY_TYPE, vary: 'Accept', etag: `"${sha512Hex(body)}"` }, body };
      }
      return answer(r.type === 'api' ? apiVersions() : apiGroupList(req.extra), req);
    case 'group':
      return answer(apiGroup(r.group, req.extra) ?? throwNotServed(), req);
    case 'resources':
      return answer(apiResourceList(r.group, r.version, req.extra) ?? throwNotServed(), req);
    case 'openapi':
      return answer(openApiIndex(), { ...req, yaml: false }, { 'cache-control': 'no-cache, private' });
    case 'openapi-group-version':
      return openApiDocumentResponse(r.path, req);
  }
}

function throwNotServed(): never {
  throw notServed();
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * A group version's OpenAPI document, cached as kube-openapi's handler3 caches it: with the current `?hash=` it is
 * immutable for a year; with another hash a 301 to the current one; without one it must be revalidated; an
 * If-None-Match of the current ETag is a 304.
 */
function openApiDocumentResponse(path: string, req: DiscoveryRequest): DiscoveryResponse {
  if (path !== OPENAPI_GROUP_VERSION_PATH) throw notServed();
  const { body, hash } = groupVersionOpenApi();
  const etag = `"${hash}"`;
  const base = { etag, vary: 'Accept' };
  if (req.headers['if-none-match'] === etag) return { status: 304, headers: { ...base, 'cache-control': 'no-cache, private' }, body: '' };
  const asked = req.query['hash'];
  if (asked !== undefined && asked !== hash)
    return {
      status: 301,
      headers: {
        ...base,
        'cache-control': 'no-cache, private',
        location: `/openapi/v3/${OPENAPI_GROUP_VERSION_PATH}?hash=${hash}`,
        'content-type': 'application/json',
      },
      body: '',
    };
  const caching: Record<string, string> =
    asked === hash ? { 'cache-control': 'public, immutable', expires: new Date(req.now + YEAR_MS).toUTCString() } : { 'cache-control': 'no-cache, private' };
  return { status: 200, headers: { 'content-type': 'application/json', ...base, ...caching }, body };
}
