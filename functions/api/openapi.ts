/**
 * JSON schemas of the kinds, generated from the zod schemas, and the OpenAPI document of the HTTP API
 * (DESIGN section 3) served at /openapi/v3.
 *
 * Schemas are generated in zod's `input` mode: the form a client sends, with defaults declared as
 * `default` and defaulted fields optional. Objects the API returns satisfy it too (a parsed object parses
 * to itself), so one schema per kind serves requests and responses, as in Kubernetes' own documents.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { API_VERSION, GROUP, VERSION } from './common.js';
import type { ApiObject, KindDef } from './kind.js';
import { KINDS, kindByName, type KindName } from './kinds.js';
import { objectMeta } from './meta.js';

export type JsonSchema = { [key: string]: unknown };

const SAFE_INT = Number.MAX_SAFE_INTEGER;

/** What each kind is, for `kubectl explain` and the API document. */
export const KIND_DESCRIPTIONS: Record<KindName, string> = {
  Cluster: 'A Kubernetes cluster: its network, provider (sim or aws) and endpoint. Everything else of the cluster points at it by spec.clusterName.',
  ControlPlane: 'The kubeadm control plane of a cluster: an odd number of control-plane machines with stacked etcd, rolled one at a time.',
  ClusterClass:
    'A blueprint of clusters: the ControlPlane, worker MachineDeployments and health checks that Clusters with spec.topology are stamped from, with variables and patches.',
  MachineClass: 'A provider-specific machine template (instance types, image, volumes), shared by the clusters of its namespace like a StorageClass.',
  MachineDeployment: 'Declarative worker machines: replicas of a machine template, rolled out through MachineSets with revisions and rollback.',
  MachineSet: 'Keeps a number of identical machines running; usually owned by a MachineDeployment.',
  Machine: 'One machine: an instance of the provider that becomes a node of the cluster.',
  MachineHealthCheck: 'Marks machines whose nodes are unhealthy for remediation, within limits on how many at once.',
  ClusterResourceSet: 'Addons (a CNI, ...) applied by server-side apply to every Cluster of its namespace its selector matches, once its API answers.',
  ClusterResourceSetBinding: 'What the ClusterResourceSets applied to one cluster: per resource its hash, result and time. Written by the reconcile.',
  FleetUpgrade:
    'Upgrades the topology-managed Clusters of its namespace a selector or ClusterClass picks to one Kubernetes version, in waves: a canary, then batches, with halt rules, pause and abort.',
};

const BASE_OPTIONS = {
  target: 'openapi-3.0',
  io: 'input',
  cycles: 'throw',
  reused: 'inline',
  unrepresentable: 'throw',
} as const;

/** Rewrites a schema tree bottom-up; `fn` gets each schema object after its children were rewritten. */
function mapSchema(node: unknown, fn: (s: JsonSchema) => JsonSchema): unknown {
  if (Array.isArray(node)) return node.map((n) => mapSchema(n, fn));
  if (!node || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'enum' || k === 'default')
      out[k] = v; // data, not schemas
    else if (k === 'properties' && v && typeof v === 'object')
      // A map of schemas, not a schema: its keys are field names (`type` is a field of a condition).
      out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, mapSchema(sub, fn)]));
    else out[k] = mapSchema(v, fn);
  }
  return fn(out);
}

/** Clean-ups for both outputs: no ids (OpenAPI 3.0 has none), no safe-integer bounds zod adds to .int(). */
function tidy(s: JsonSchema): JsonSchema {
  const { $id: _id, $schema: _schema, ...rest } = s;
  if (rest['type'] === 'integer') {
    if (rest['maximum'] === SAFE_INT) delete rest['maximum'];
    if (rest['minimum'] === -SAFE_INT) delete rest['minimum'];
  }
  // z.literal([0, 1]) is emitted as a number enum; its values are integers.
  if (rest['type'] === 'number' && Array.isArray(rest['enum']) && rest['enum'].every((v) => Number.isInteger(v))) rest['type'] = 'integer';
  return rest;
}

function isIntOrString(s: JsonSchema): boolean {
  const any = s['anyOf'];
  if (!Array.isArray(any) || any.length !== 2) return false;
  const types = any.map((b) => (b as JsonSchema)['type']).sort();
  return types[0] === 'integer' && types[1] === 'string';
}

/**
 * Makes a zod-generated schema structural, as a CRD's openAPIV3Schema must be. What zod emits that a CRD
 * would refuse or misread, and what happens to it here:
 * - `additionalProperties: false` (strict objects): dropped. A CRD may not set it next to `properties`;
 *   unknown fields are pruned by the API server instead, and refused by kubectl's strict field validation.
 * - int-or-percent unions (`anyOf: [integer, string]`): marked `x-kubernetes-int-or-string: true`, the only
 *   form in which a structural schema may give a type inside `anyOf`.
 * - `$id`/`$schema` and zod's safe-integer bounds on integers: dropped.
 * - metadata: reduced to `type: object`, as the API server validates ObjectMeta itself and refuses more.
 * - `const` (zod's literals): the openapi-3.0 target already writes them as one-value `enum`s.
 * - `$ref`/`$defs`: none, every schema is inlined (`reused: 'inline'`), as a CRD cannot hold references.
 * Cross-field rules (checks written in code: CIDR overlap, odd replicas, selector matching, immutability)
 * have no JSON schema form; the API enforces them, and the mirror validates imports through the API.
 */
export function structural(schema: JsonSchema): JsonSchema {
  return mapSchema(schema, (s) => {
    const out = tidy(s);
    if (out['additionalProperties'] === false) delete out['additionalProperties'];
    if (isIntOrString(out)) out['x-kubernetes-int-or-string'] = true;
    return out;
  }) as JsonSchema;
}

function resolveKind(kind: KindDef<ApiObject> | KindName | string): KindDef<ApiObject> {
  const def = typeof kind === 'string' ? kindByName(kind) : kind;
  if (!def) throw new Error(`unknown kind ${String(kind)}`);
  return def;
}

/**
 * The structural JSON schema of one kind (OpenAPI 3.0 flavour), ready to be a CRD version's
 * openAPIV3Schema: see `structural` for what differs from the API's own validation.
 */
export function kindJsonSchema(kind: KindDef<ApiObject> | KindName | string): JsonSchema {
  const def = resolveKind(kind);
  const raw = z.toJSONSchema(def.schema, BASE_OPTIONS) as JsonSchema;
  const s = structural(raw);
  const props = { ...(s['properties'] as JsonSchema) };
  props['apiVersion'] = { type: 'string', description: `APIVersion of the object: ${API_VERSION}.` };
  props['kind'] = { type: 'string', description: `Kind of the object: ${def.kind}.` };
  props['metadata'] = { type: 'object' };
  const required = ((s['required'] as string[] | undefined) ?? []).filter((r) => !['apiVersion', 'kind', 'metadata'].includes(r));
  return {
    type: 'object',
    description: KIND_DESCRIPTIONS[def.kind as KindName],
    properties: props,
    ...(required.length ? { required } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The OpenAPI document.

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const PREFIX = `/apis/${GROUP}/${VERSION}`;
const JSON_TYPE = 'application/json';
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const MERGE_PATCH_TYPE = 'application/merge-patch+json';

/** The body of every error, and of a DELETE that removed the object (metav1.Status). */
const statusSchemas: Record<string, JsonSchema> = {
  StatusCause: {
    type: 'object',
    description: 'One invalid field: `field` is a path such as spec.template.spec.version or metadata.labels[app].',
    properties: {
      reason: {
        type: 'string',
        description: 'FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueForbidden, FieldValueDuplicate or FieldValueTooLong.',
      },
      message: { type: 'string' },
      field: { type: 'string' },
    },
  },
  StatusDetails: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      group: { type: 'string' },
      kind: { type: 'string' },
      uid: { type: 'string' },
      causes: { type: 'array', items: ref('StatusCause') },
      retryAfterSeconds: { type: 'integer', minimum: 0 },
    },
  },
  Status: {
    type: 'object',
    description: 'A Kubernetes Status: the body of every error response.',
    required: ['apiVersion', 'kind', 'status', 'code'],
    properties: {
      apiVersion: { type: 'string', enum: ['v1'] },
      kind: { type: 'string', enum: ['Status'] },
      metadata: { type: 'object' },
      status: { type: 'string', enum: ['Success', 'Failure'] },
      message: { type: 'string' },
      reason: {
        type: 'string',
        enum: [
          'BadRequest',
          'Forbidden',
          'NotFound',
          'MethodNotAllowed',
          'NotAcceptable',
          'AlreadyExists',
          'Conflict',
          'RequestEntityTooLarge',
          'UnsupportedMediaType',
          'Invalid',
          'InternalError',
          'ServiceUnavailable',
        ],
      },
      code: { type: 'integer' },
      details: ref('StatusDetails'),
    },
  },
  ListMeta: {
    type: 'object',
    properties: { resourceVersion: { type: 'string' }, continue: { type: 'string' } },
  },
  DeleteOptions: {
    type: 'object',
    description: 'Deletes always cascade: what the object owns is torn down with it. Any other key is refused (422).',
    additionalProperties: false,
    properties: {
      apiVersion: { type: 'string', enum: ['v1', 'meta.k8s.io/v1'] },
      kind: { type: 'string', enum: ['DeleteOptions'] },
      preconditions: {
        type: 'object',
        description: 'The delete happens only if the object still has this uid and resourceVersion.',
        additionalProperties: false,
        properties: { uid: { type: 'string' }, resourceVersion: { type: 'string' } },
      },
      propagationPolicy: { type: 'string', enum: ['Background', 'Foreground'], description: 'Both cascade; Orphan is refused (422).' },
      orphanDependents: { type: 'boolean', enum: [false], description: 'Deprecated by propagationPolicy (never send both); true is refused (422).' },
      gracePeriodSeconds: { type: 'integer', description: 'Accepted and ignored: the object goes when its teardown ends.' },
      dryRun: {
        type: 'array',
        items: { type: 'string', enum: ['All'] },
        description: '["All"]: the delete is checked and answered as it would happen, and nothing is deleted; any other value is refused (422).',
      },
    },
  },
  MachineDeploymentRollback: {
    type: 'object',
    description: 'Puts the template of an earlier revision back, as `kubectl rollout undo` does.',
    additionalProperties: false,
    properties: {
      toRevision: { type: 'integer', minimum: 0, default: 0, description: 'The revision to go back to; 0 means the previous one.' },
    },
  },
  Discovery: { type: 'object', description: 'APIGroupList, APIGroup or APIResourceList, as Kubernetes serves them.' },
};

/** Component schemas of the kinds, with one shared ObjectMeta referenced from each. */
function kindSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  registry.add(objectMeta, { id: 'ObjectMeta' });
  for (const k of KINDS) registry.add(k.schema, { id: k.kind });
  const { schemas } = z.toJSONSchema(registry, { ...BASE_OPTIONS, uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const s = mapSchema(schema, tidy) as JsonSchema;
    const description = KIND_DESCRIPTIONS[id as KindName];
    out[id] = description ? { description, ...s } : s;
  }
  for (const k of KINDS)
    out[`${k.kind}List`] = {
      type: 'object',
      required: ['apiVersion', 'kind', 'items'],
      properties: {
        apiVersion: { type: 'string', enum: [API_VERSION] },
        kind: { type: 'string', enum: [`${k.kind}List`] },
        metadata: ref('ListMeta'),
        items: { type: 'array', items: ref(k.kind) },
      },
    };
  return out;
}

const content = (schema: JsonSchema, types: readonly string[] = [JSON_TYPE, ...YAML_TYPES]) => Object.fromEntries(types.map((t) => [t, { schema }]));

const errorResponse = (description: string) => ({ description, content: content(ref('Status'), [JSON_TYPE, 'application/yaml']) });

const responses = {
  BadRequest: errorResponse('BadRequest: the body is not valid JSON or YAML, or contradicts the URL.'),
  NotFound: errorResponse('NotFound: no such object.'),
  AlreadyExists: errorResponse('AlreadyExists: an object of that kind and name exists in the namespace.'),
  Conflict: errorResponse('Conflict: metadata.resourceVersion is stale; the message names the current one.'),
  TooLarge: errorResponse('RequestEntityTooLarge: the body is over 256 KiB.'),
  UnsupportedMediaType: errorResponse('UnsupportedMediaType: the body is neither JSON nor YAML (nor a merge patch for PATCH), or has no Content-Type.'),
  Expired: errorResponse('Expired: the continue token was made by another version of the server; list again from the start.'),
  Invalid: errorResponse('Invalid: details.causes name every field that breaks a rule.'),
  InternalError: errorResponse('InternalError.'),
};
const r = (name: keyof typeof responses) => ({ $ref: `#/components/responses/${name}` });

const parameters = {
  namespace: { name: 'namespace', in: 'path', required: true, description: 'The namespace of the objects.', schema: { type: 'string' } },
  name: { name: 'name', in: 'path', required: true, description: 'The name of the object.', schema: { type: 'string' } },
  labelSelector: {
    name: 'labelSelector',
    in: 'query',
    required: false,
    description: 'Only objects whose labels match, e.g. `clusterless.dev/cluster-name=prod,tier in (a,b)`.',
    schema: { type: 'string' },
  },
  fieldSelector: {
    name: 'fieldSelector',
    in: 'query',
    required: false,
    description: 'Only objects whose fields match, e.g. `metadata.name=web` or `spec.clusterName=prod`.',
    schema: { type: 'string' },
  },
  limit: {
    name: 'limit',
    in: 'query',
    required: false,
    description:
      'At most this many items (default 500, at most 1000: a larger limit is read as 1000). A page may hold fewer (selectors, or about 5 MiB of items); metadata.continue says more remain.',
    schema: { type: 'integer' },
  },
  continue: {
    name: 'continue',
    in: 'query',
    required: false,
    description: 'The metadata.continue of the previous page of the same list. A token of another list is a 400, one of an older server a 410 (start again).',
    schema: { type: 'string' },
  },
  fieldManager: {
    name: 'fieldManager',
    in: 'query',
    required: false,
    description: 'Who makes the change: at most 128 bytes of printable characters. Accepted and checked; managed fields are not recorded.',
    schema: { type: 'string' },
  },
  fieldValidation: {
    name: 'fieldValidation',
    in: 'query',
    required: false,
    description: 'Strict, Warn or Ignore. Validation is always Strict: unknown and duplicate fields are refused whatever is asked.',
    schema: { type: 'string', enum: ['Strict', 'Warn', 'Ignore'] },
  },
  dryRun: {
    name: 'dryRun',
    in: 'query',
    required: false,
    description: 'All: the write is checked, defaulted and answered as it would be stored, and nothing is written; any other value is refused (422).',
    schema: { type: 'string', enum: ['All'] },
  },
  pretty: {
    name: 'pretty',
    in: 'query',
    required: false,
    description:
      'true: indented JSON. POST, PUT and PATCH take no query parameter but dryRun, fieldManager, fieldValidation and pretty, and DELETE none but dryRun and pretty (any other is a 400).',
    schema: { type: 'boolean' },
  },
};
const p = (name: keyof typeof parameters) => ({ $ref: `#/components/parameters/${name}` });

const ok = (schema: JsonSchema, description = 'OK') => ({ description, content: content(schema, [JSON_TYPE, 'application/yaml']) });

function kindPaths(def: KindDef<ApiObject>): Record<string, JsonSchema> {
  const K = def.kind;
  const tags = [K];
  const writeErrors = {
    '400': r('BadRequest'),
    '404': r('NotFound'),
    '409': r('Conflict'),
    '413': r('TooLarge'),
    '415': r('UnsupportedMediaType'),
    '422': r('Invalid'),
    '500': r('InternalError'),
  };
  const listParameters = [p('labelSelector'), p('fieldSelector'), p('limit'), p('continue'), p('pretty')];
  const listResponses = { '200': ok(ref(`${K}List`)), '400': r('BadRequest'), '410': r('Expired'), '500': r('InternalError') };
  const writeParameters = [p('dryRun'), p('fieldManager'), p('fieldValidation'), p('pretty')];
  const objectBody = { required: true, content: content(ref(K)) };
  const mergePatchBody = {
    required: true,
    description: 'A JSON merge patch (RFC 7396); null removes a field.',
    content: { [MERGE_PATCH_TYPE]: { schema: { type: 'object' } }, [JSON_TYPE]: { schema: { type: 'object' } } },
  };
  const collection = `${PREFIX}/namespaces/{namespace}/${def.plural}`;
  const item = `${collection}/{name}`;
  const paths: Record<string, JsonSchema> = {
    [`${PREFIX}/${def.plural}`]: {
      get: {
        operationId: `list${K}ForAllNamespaces`,
        summary: `List ${K} objects of every namespace, in pages.`,
        tags,
        parameters: listParameters,
        responses: listResponses,
      },
    },
    [collection]: {
      parameters: [p('namespace')],
      get: {
        operationId: `list${K}`,
        summary: `List ${K} objects of a namespace, in pages.`,
        tags,
        parameters: listParameters,
        responses: listResponses,
      },
      post: {
        operationId: `create${K}`,
        summary: `Create a ${K}: defaults are filled in, unknown fields and invalid values refused.`,
        tags,
        parameters: writeParameters,
        requestBody: objectBody,
        responses: { '201': ok(ref(K), 'Created'), ...writeErrors, '409': r('AlreadyExists') },
      },
    },
    [item]: {
      parameters: [p('namespace'), p('name')],
      get: { operationId: `read${K}`, tags, responses: { '200': ok(ref(K)), '404': r('NotFound'), '500': r('InternalError') } },
      put: {
        operationId: `replace${K}`,
        summary: `Replace a ${K}; with metadata.resourceVersion set, only if it is still current.`,
        tags,
        parameters: writeParameters,
        requestBody: objectBody,
        responses: { '200': ok(ref(K)), ...writeErrors },
      },
      patch: {
        operationId: `patch${K}`,
        summary: `Merge-patch a ${K}, e.g. {"spec":{"replicas":3}}.`,
        tags,
        parameters: writeParameters,
        requestBody: mergePatchBody,
        responses: { '200': ok(ref(K)), ...writeErrors },
      },
      delete: {
        operationId: `delete${K}`,
        summary: `Delete a ${K}: sets deletionTimestamp; the object goes when its teardown ends.`,
        tags,
        parameters: [p('dryRun'), p('pretty')],
        requestBody: { required: false, content: content(ref('DeleteOptions')) },
        responses: {
          '200': ok({ oneOf: [ref(K), ref('Status')] }, `The ${K} being deleted, or a Success Status when it is gone.`),
          '400': r('BadRequest'),
          '404': r('NotFound'),
          '409': r('Conflict'),
          '413': r('TooLarge'),
          '415': r('UnsupportedMediaType'),
          '422': r('Invalid'),
          '500': r('InternalError'),
        },
      },
    },
    [`${item}/status`]: {
      parameters: [p('namespace'), p('name')],
      get: { operationId: `read${K}Status`, tags, responses: { '200': ok(ref(K)), '404': r('NotFound'), '500': r('InternalError') } },
      put: {
        operationId: `replace${K}Status`,
        summary: 'Replace the status only; spec and metadata stay as stored.',
        tags,
        parameters: writeParameters,
        requestBody: objectBody,
        responses: { '200': ok(ref(K)), ...writeErrors },
      },
      patch: {
        operationId: `patch${K}Status`,
        tags,
        parameters: writeParameters,
        requestBody: mergePatchBody,
        responses: { '200': ok(ref(K)), ...writeErrors },
      },
    },
  };
  if (K === 'MachineDeployment')
    paths[`${item}/rollback`] = {
      parameters: [p('namespace'), p('name')],
      post: {
        operationId: 'rollbackMachineDeployment',
        summary: 'Roll back to an earlier revision (0 = the previous one), as `kubectl rollout undo`; an empty body is {}.',
        tags,
        parameters: writeParameters,
        requestBody: {
          required: false,
          description: 'The Content-Type is required even when the body is empty.',
          content: content(ref('MachineDeploymentRollback'), [JSON_TYPE, ...YAML_TYPES]),
        },
        responses: {
          '200': ok(ref(K)),
          '400': r('BadRequest'),
          '404': r('NotFound'),
          '409': r('Conflict'),
          '415': r('UnsupportedMediaType'),
          '422': r('Invalid'),
          '500': r('InternalError'),
        },
      },
    };
  return paths;
}

function buildDocument(): JsonSchema {
  const discovery = (operationId: string, summary: string) => ({
    get: { operationId, summary, tags: ['discovery'], responses: { '200': ok(ref('Discovery')) } },
  });
  return {
    openapi: '3.0.3',
    info: {
      title: 'clusterless',
      version: VERSION,
      description:
        'A serverless Cluster API for AWS. Kubernetes-style resource API of the clusterless.dev group: bodies in JSON or YAML (at most 256 KiB), errors as Kubernetes Status objects.',
    },
    tags: [...KINDS.map((k) => ({ name: k.kind, description: KIND_DESCRIPTIONS[k.kind as KindName] })), { name: 'discovery' }, { name: 'service' }],
    paths: {
      '/healthz': {
        get: {
          operationId: 'healthz',
          tags: ['service'],
          responses: { '200': { description: 'The server is up.', content: { 'text/plain': { schema: { type: 'string', enum: ['ok'] } } } } },
        },
      },
      '/openapi/v3': {
        get: {
          operationId: 'openapi',
          summary: 'This document.',
          tags: ['service'],
          responses: { '200': { description: 'OK', content: { [JSON_TYPE]: { schema: { type: 'object' } } } } },
        },
      },
      '/apis': discovery('getAPIGroupList', 'The API groups served.'),
      [`/apis/${GROUP}`]: discovery('getAPIGroup', `The versions of ${GROUP}.`),
      [PREFIX]: discovery('getAPIResources', `The resources of ${API_VERSION}.`),
      ...Object.assign({}, ...KINDS.map(kindPaths)),
    },
    components: {
      schemas: { ...statusSchemas, ...kindSchemas() },
      responses,
      parameters,
    },
  };
}

let cached: string | undefined;

/** The OpenAPI 3.0 document of the HTTP API. Built once; each call returns a fresh copy. */
export function openApiDocument(): JsonSchema {
  cached ??= JSON.stringify(buildDocument());
  return JSON.parse(cached) as JsonSchema;
}

// ---------------------------------------------------------------------------------------------------------
// OpenAPI v3 as kube-apiserver serves it: /openapi/v3 is an index of group-version documents, each at
// /openapi/v3/apis/{group}/{version}?hash=..., whose component schemas carry x-kubernetes-group-version-kind and
// whose operations carry x-kubernetes-action, so that `kubectl explain` finds a kind and kubectl's query-parameter
// verifier finds fieldValidation on its PATCH. Learnt from kubernetes staging/src/k8s.io/apiextensions-apiserver/
// pkg/controller/openapi/builder/builder.go, kube-openapi pkg/handler3/handler.go and
// cli-runtime/pkg/resource/query_param_verifier_v3.go.

/** Formats the API server knows; zod's own (`starts_with`) are dropped, their `pattern` stays. */
const KUBERNETES_FORMATS = new Set([
  'bsonobjectid',
  'uri',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'cidr',
  'mac',
  'uuid',
  'uuid3',
  'uuid4',
  'uuid5',
  'isbn',
  'isbn10',
  'isbn13',
  'creditcard',
  'ssn',
  'hexcolor',
  'rgbcolor',
  'byte',
  'password',
  'date',
  'duration',
  'datetime',
  'date-time',
  'int32',
  'int64',
  'float',
  'double',
]);

/**
 * What structural() leaves that the CRD validation of the API server still refuses:
 * - an int-or-string whose anyOf branches carry bounds (`{type: integer, minimum: 0}`): a structural schema
 *   allows types under anyOf only as exactly `[{type: integer}, {type: string}]`, so the bounds move up
 *   beside it, where JSON schema applies `minimum` to numbers only and `pattern` to strings only;
 * - formats the API server does not know.
 * The CRDs (functions/adapters/kubernetes/crds.ts) and the served OpenAPI documents both use it, so that
 * kube-apiserver serving the CRDs and this API publish the same schema.
 */
export function crdSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(crdSchema);
  if (!node || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node as JsonSchema)) {
    if (k === 'enum' || k === 'default') out[k] = v;
    else if (k === 'properties' && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, crdSchema(sub)]));
    else out[k] = crdSchema(v);
  }
  if (typeof out['format'] === 'string' && !KUBERNETES_FORMATS.has(out['format'])) delete out['format'];
  if (out['x-kubernetes-int-or-string'] === true && Array.isArray(out['anyOf'])) {
    const hoisted: JsonSchema = {};
    for (const branch of out['anyOf'] as JsonSchema[]) for (const [k, v] of Object.entries(branch)) if (k !== 'type') hoisted[k] = v;
    out['anyOf'] = [{ type: 'integer' }, { type: 'string' }];
    Object.assign(out, hoisted);
  }
  return out;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
/** `dev.clusterless.v1alpha1.Cluster`: the group reversed, as kube-apiserver names a CRD's schemas. */
const KIND_PREFIX = `${GROUP.split('.').reverse().join('.')}.${VERSION}`;
const metaRef = (name: string) => ({ $ref: `#/components/schemas/${META}.${name}` });
const kindRef = (name: string) => ({ $ref: `#/components/schemas/${KIND_PREFIX}.${name}` });
const gvk = (kind: string) => ({ group: GROUP, version: VERSION, kind });

const TYPE_META = {
  apiVersion: { type: 'string', description: 'The versioned schema of this representation of an object.' },
  kind: { type: 'string', description: 'The REST resource this object represents, in CamelCase.' },
};

/** ObjectMeta and what it refers to, field by field as Kubernetes defines them; the descriptions are ours. */
const metaSchemas: Record<string, JsonSchema> = {
  Time: { type: 'string', format: 'date-time', description: 'An RFC 3339 time, in seconds.' },
  FieldsV1: { type: 'object', description: 'A set of fields, as server-side apply records them.' },
  ManagedFieldsEntry: {
    type: 'object',
    description: 'Who manages which fields (not recorded by clusterless).',
    properties: {
      apiVersion: { type: 'string' },
      fieldsType: { type: 'string' },
      fieldsV1: { allOf: [metaRef('FieldsV1')] },
      manager: { type: 'string' },
      operation: { type: 'string' },
      subresource: { type: 'string' },
      time: { allOf: [metaRef('Time')] },
    },
  },
  OwnerReference: {
    type: 'object',
    description: 'The object that owns this one; deleting the owner deletes what it owns.',
    required: ['apiVersion', 'kind', 'name', 'uid'],
    properties: {
      apiVersion: { type: 'string', default: '' },
      blockOwnerDeletion: { type: 'boolean' },
      controller: { type: 'boolean', description: 'Whether the owner is the managing controller.' },
      kind: { type: 'string', default: '' },
      name: { type: 'string', default: '' },
      uid: { type: 'string', default: '' },
    },
    'x-kubernetes-map-type': 'atomic',
  },
  ObjectMeta: {
    type: 'object',
    description: 'Metadata every stored object has.',
    properties: {
      annotations: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      creationTimestamp: { allOf: [metaRef('Time')], description: 'When the object was created; set by the server.' },
      deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
      deletionTimestamp: { allOf: [metaRef('Time')], description: 'When deletion was asked; the object goes once its finalizers are removed.' },
      finalizers: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
      generateName: { type: 'string' },
      generation: { type: 'integer', format: 'int64', description: 'Incremented on each change of the spec.' },
      labels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      managedFields: { type: 'array', items: { default: {}, allOf: [metaRef('ManagedFieldsEntry')] }, 'x-kubernetes-list-type': 'atomic' },
      name: { type: 'string', description: 'Unique in the namespace; a DNS label.' },
      namespace: { type: 'string' },
      ownerReferences: {
        type: 'array',
        items: { default: {}, allOf: [metaRef('OwnerReference')] },
        'x-kubernetes-list-map-keys': ['uid'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'uid',
        'x-kubernetes-patch-strategy': 'merge',
      },
      resourceVersion: { type: 'string', description: 'Opaque; changes on every write. Send it back to write only if nothing changed since.' },
      selfLink: { type: 'string' },
      uid: { type: 'string' },
    },
  },
  ListMeta: {
    type: 'object',
    properties: {
      continue: { type: 'string', description: 'Set when more items remain: send it as ?continue= for the next page.' },
      remainingItemCount: { type: 'integer', format: 'int64' },
      resourceVersion: { type: 'string' },
      selfLink: { type: 'string' },
    },
  },
};

/** A kind's schema as kube-apiserver publishes a CRD's: the CRD schema, metadata by reference, its GVK. */
function publishedKindSchema(def: KindDef<ApiObject>): JsonSchema {
  const s = crdSchema(kindJsonSchema(def)) as JsonSchema;
  const props = { ...(s['properties'] as JsonSchema) };
  Object.assign(props, TYPE_META, { metadata: { description: "Standard object's metadata.", allOf: [metaRef('ObjectMeta')] } });
  return { ...s, properties: props, 'x-kubernetes-group-version-kind': [gvk(def.kind)] };
}

function publishedListSchema(def: KindDef<ApiObject>): JsonSchema {
  return {
    description: `${def.kind}List is a list of ${def.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      ...TYPE_META,
      items: { description: `List of ${def.plural}.`, type: 'array', items: kindRef(def.kind) },
      metadata: { description: 'Standard list metadata.', allOf: [metaRef('ListMeta')] },
    },
    'x-kubernetes-group-version-kind': [gvk(`${def.kind}List`)],
  };
}

/** Replaces $refs by the renamed schemas and inlines shared parameters (kubectl's verifier reads only inline ones). */
function rewriteRefs(node: unknown, renames: Record<string, string>, params: JsonSchema): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, renames, params));
  if (!node || typeof node !== 'object') return node;
  const ref = (node as JsonSchema)['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/components/parameters/')) return params[ref.slice('#/components/parameters/'.length)];
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
    const name = ref.slice('#/components/schemas/'.length);
    return { $ref: `#/components/schemas/${renames[name] ?? name}` };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'enum' || k === 'default' ? v : rewriteRefs(v, renames, params)]));
}

/** Which kube action an operation is, by its method and whether its path names one object. */
function actionOf(method: string, path: string): string {
  if (method === 'get') return path.endsWith('{name}') || path.endsWith('/status') ? 'get' : 'list';
  return method;
}

function buildGroupVersionDocument(): JsonSchema {
  const doc = buildDocument();
  const renames: Record<string, string> = {};
  for (const k of KINDS) {
    renames[k.kind] = `${KIND_PREFIX}.${k.kind}`;
    renames[`${k.kind}List`] = `${KIND_PREFIX}.${k.kind}List`;
  }
  renames['MachineDeploymentRollback'] = `${KIND_PREFIX}.MachineDeploymentRollback`;
  for (const name of ['ObjectMeta', 'ListMeta', 'Status', 'StatusCause', 'StatusDetails', 'DeleteOptions']) renames[name] = `${META}.${name}`;
  const components = doc['components'] as { schemas: Record<string, JsonSchema>; parameters: JsonSchema; responses: JsonSchema };
  const schemas: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(components.schemas)) if (name !== 'Discovery') schemas[renames[name] ?? name] = schema;
  for (const [name, schema] of Object.entries(metaSchemas)) schemas[`${META}.${name}`] = schema;
  for (const k of KINDS) {
    schemas[`${KIND_PREFIX}.${k.kind}`] = publishedKindSchema(k);
    schemas[`${KIND_PREFIX}.${k.kind}List`] = publishedListSchema(k);
  }
  const paths: Record<string, JsonSchema> = {};
  for (const [path, item] of Object.entries(doc['paths'] as Record<string, JsonSchema>)) {
    if (!path.startsWith(`${PREFIX}/`)) continue;
    const kind = KINDS.find((k) => path.split('/').includes(k.plural));
    const out: JsonSchema = {};
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters' || !kind || path.endsWith('/rollback')) out[method] = op;
      else out[method] = { ...(op as JsonSchema), 'x-kubernetes-action': actionOf(method, path), 'x-kubernetes-group-version-kind': gvk(kind.kind) };
    }
    paths[path] = out;
  }
  const renamed = rewriteRefs({ paths, responses: components.responses }, renames, components.parameters) as JsonSchema;
  return {
    openapi: '3.0.0',
    info: { title: 'clusterless', version: VERSION },
    paths: renamed['paths'],
    components: { schemas: rewriteRefs(schemas, renames, components.parameters), responses: renamed['responses'] },
  };
}

/** The group-version path of the index: `apis/clusterless.dev/v1alpha1`. */
export const OPENAPI_GROUP_VERSION_PATH = `apis/${GROUP}/${VERSION}`;

let groupVersionCache: { body: string; hash: string } | undefined;

/** SHA-512 of a text in upper-case hex: kube-openapi's document hash and ETag, and aggregated discovery's ETag. */
export const sha512Hex = (text: string) => createHash('sha512').update(text).digest('hex').toUpperCase();

/**
 * The OpenAPI v3 document of clusterless.dev/v1alpha1, as text, and its hash: SHA-512 of the text in upper-case
 * hex, as kube-openapi computes it for the index's `?hash=` and the ETag.
 */
export function groupVersionOpenApi(): { body: string; hash: string } {
  if (!groupVersionCache) {
    const body = JSON.stringify(buildGroupVersionDocument());
    groupVersionCache = { body, hash: sha512Hex(body) };
  }
  return groupVersionCache;
}

/** GET /openapi/v3: where each group version's document is, with its hash (clients cache by it). */
export function openApiIndex(): { paths: Record<string, { serverRelativeURL: string }> } {
  return { paths: { [OPENAPI_GROUP_VERSION_PATH]: { serverRelativeURL: `/openapi/v3/${OPENAPI_GROUP_VERSION_PATH}?hash=${groupVersionOpenApi().hash}` } } };
}
