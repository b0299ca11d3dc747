/**
 * Who may call which route of the API, written once for both doors: the IAM statements HttpApi.grantNamespaces writes
 * for SigV4 callers (infra/constructs/http-api.ts) and the policy the kubectl door's token authorizer answers
 * (functions/handlers/token-authorizer.ts). One grant is one access entry (principal -> namespaces), as EKS calls it.
 *
 * Also the shape of the kubectl door's token, shared by `clusterless token` and the authorizer: an EKS-style token,
 * `k8s-aws-v1.` + base64url(a presigned STS GetCallerIdentity URL) whose signed `x-k8s-aws-id` header names the
 * audience (the API id of the kubectl door), as kubernetes-sigs/aws-iam-authenticator pkg/token/token.go builds them.
 */
import { EVENTS_GROUP, EVENTS_VERSION, GROUP, VERSION } from './group-version.js';

/** The resource API's root. */
export const API_ROOT = `/apis/${GROUP}/${VERSION}`;
/** events.k8s.io/v1: Events, read-only (functions/api/http/events.ts). */
export const EVENTS_ROOT = `/apis/${EVENTS_GROUP}/${EVENTS_VERSION}`;
/** Every principal granted anything may read these: discovery and health. */
export const DISCOVERY_PATHS = [
  '/healthz',
  '/version',
  '/api',
  '/openapi/v3',
  `/openapi/v3/apis/${GROUP}/${VERSION}`,
  '/apis',
  `/apis/${GROUP}`,
  API_ROOT,
  `/apis/${EVENTS_GROUP}`,
  EVENTS_ROOT,
] as const;
const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];
const STATUS_METHODS = ['PUT', 'PATCH'];
/**
 * The cost routes (functions/metering/cost-route.ts): the installation's, and a namespace's (its clusters' rows only).
 * Outside API_ROOT, so no grant's `API_ROOT/*` reaches them by accident.
 */
export const COST_ROUTE = '/clusterless/v1/cost';
export const namespaceCostRoute = (namespace: string) => `/clusterless/v1/namespaces/${namespace}/cost`;
/** The namespaces of an all-namespaces entry. */
export const ALL_NAMESPACES = '*';

/** One grant of the API to one principal (an IAM role or user ARN). */
export interface AccessEntry {
  principalArn: string;
  /** Namespace names, or [ALL_NAMESPACES] (read only: grantAllNamespacesRead). */
  namespaces: readonly string[];
  access: 'read' | 'write';
  /** PUT and PATCH of .../{name}/status; with access write, the transfer routes too (TRANSFER_ROUTES). */
  status: boolean;
  /** GET .../clusters/{name}/kubeconfig. */
  kubeconfig: boolean;
}

/**
 * The routes of `clusterless import` and `clusterless move` (served by the cluster transfer function on AWS), under a
 * namespace: they write objects with their status, store a cluster's CAs, tag instances as the installation's and hand
 * a cluster's instances to another installation; GET of `move` answers a moving cluster's objects and CA keys. The
 * embedded host asks the controller token for them (local/access.ts isStatusWrite); here, the same: a grant that may
 * write the namespace and its status (mayTransfer).
 */
export const TRANSFER_ROUTES = {
  POST: ['/clusters/*/move', '/clusters/*/certificates', '/machines/*/adopt'],
  GET: ['/clusters/*/move'],
} as const;

/** Whether an entry may use the transfer routes of its namespaces: it writes them, status included (a controller's grant). */
export const mayTransfer = (entry: Pick<AccessEntry, 'namespaces' | 'access' | 'status'>): boolean =>
  entry.access === 'write' && entry.status && !entry.namespaces.includes(ALL_NAMESPACES);

/** An Allow or Deny of methods on execute-api path patterns (`*` matches anything, `/` included, as in IAM). */
export interface AccessRule {
  effect: 'Allow' | 'Deny';
  methods: readonly string[];
  paths: readonly string[];
}

/**
 * The rules of one entry, in the order the IAM statements are written. IAM's `*` crosses `/`, so what a grant excludes
 * inside its namespaces (status writes, kubeconfigs) is an explicit Deny.
 */
export function accessRules(entry: AccessEntry): AccessRule[] {
  const rules: AccessRule[] = [{ effect: 'Allow', methods: ['GET'], paths: [...DISCOVERY_PATHS] }];
  if (entry.namespaces.includes(ALL_NAMESPACES)) {
    rules.push({ effect: 'Allow', methods: ['GET'], paths: [`${API_ROOT}/*`, `${EVENTS_ROOT}/*`] });
    // The cost of every cluster: a reader of every namespace.
    rules.push({ effect: 'Allow', methods: ['GET'], paths: [COST_ROUTE, namespaceCostRoute('*')] });
    if (!entry.kubeconfig) rules.push({ effect: 'Deny', methods: ['GET'], paths: [`${API_ROOT}/namespaces/*/*/*/kubeconfig`] });
    // Reading everything is not reading a moving cluster's CA keys.
    rules.push({ effect: 'Deny', methods: ['GET'], paths: TRANSFER_ROUTES.GET.map((p) => `${API_ROOT}/namespaces/*${p}`) });
    return rules;
  }
  const base = (ns: string) => `${API_ROOT}/namespaces/${ns}`;
  const under = (rest: string) => entry.namespaces.map((ns) => `${base(ns)}${rest}`);
  const write = entry.access === 'write';
  rules.push({ effect: 'Allow', methods: ['GET'], paths: under('/*') });
  // The namespaces' events: their list and each event.
  rules.push({
    effect: 'Allow',
    methods: ['GET'],
    paths: entry.namespaces.flatMap((ns) => [`${EVENTS_ROOT}/namespaces/${ns}/events`, `${EVENTS_ROOT}/namespaces/${ns}/events/*`]),
  });
  // The cost of the namespaces' clusters: any grant of the namespace reads it.
  rules.push({ effect: 'Allow', methods: ['GET'], paths: entry.namespaces.map(namespaceCostRoute) });
  if (write) rules.push({ effect: 'Allow', methods: WRITE_METHODS, paths: under('/*') });
  else if (entry.status) rules.push({ effect: 'Allow', methods: STATUS_METHODS, paths: under('/*/*/status') });
  if (write && !entry.status) rules.push({ effect: 'Deny', methods: STATUS_METHODS, paths: under('/*/*/status') });
  if (!entry.kubeconfig) rules.push({ effect: 'Deny', methods: ['GET'], paths: under('/*/*/kubeconfig') });
  // The namespace's `/*` covers the transfer routes (GET for every grant, POST for writers): only a writer of status keeps them.
  if (!mayTransfer(entry)) {
    rules.push({ effect: 'Deny', methods: ['GET'], paths: TRANSFER_ROUTES.GET.flatMap(under) });
    if (write) rules.push({ effect: 'Deny', methods: ['POST'], paths: TRANSFER_ROUTES.POST.flatMap(under) });
  }
  return rules;
}

/** The token authorizer's environment variable holding the access entries (JSON), written by HttpApi at synth. */
export const ACCESS_ENTRIES_ENV = 'ACCESS_ENTRIES';

/** The token's prefix (aws-iam-authenticator's v1Prefix). */
export const TOKEN_PREFIX = 'k8s-aws-v1.';
/** The signed header that names the audience (aws-iam-authenticator's clusterIDHeader). */
export const AUDIENCE_HEADER = 'x-k8s-aws-id';
/**
 * How long a token is good for after its X-Amz-Date. STS honours a presigned GetCallerIdentity for 15 minutes whatever
 * X-Amz-Expires says (aws-iam-authenticator's note in token.go); the authorizer holds tokens to X-Amz-Expires itself.
 */
export const TOKEN_EXPIRES_SECONDS = 60;
/** The longest token the authorizer reads (aws-iam-authenticator's maxTokenLenBytes). */
export const MAX_TOKEN_LENGTH = 4096;
