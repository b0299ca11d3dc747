/**
 * Every refusal of the HTTP API: the right code, reason and field, a Kubernetes Status body, and the store
 * exactly as it was before the request (read back and compared).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { ApiError, handleRequest, statusResponse } from '../../../functions/api/http/index.js';
import { StoreUnavailableError, type Store } from '../../../functions/ports.js';
import { BASE, api, cluster, machineClass, machineDeployment, ns, type Api } from './fixtures.js';

const MD = ns('default', 'machinedeployments', 'md1');
const big = (bytes: number) => JSON.stringify({ ...machineDeployment('big'), metadata: { name: 'big', annotations: { pad: 'x'.repeat(bytes) } } });

interface Case {
  name: string;
  method: string;
  path: string | ((a: Api) => string);
  body?: unknown | ((a: Api, current: any) => unknown);
  headers?: Record<string, string | undefined>;
  query?: Record<string, string>;
  code: number;
  reason: string;
  field?: string;
  message?: string | RegExp | ((current: any) => RegExp);
}

const cases: Case[] = [
  // 422 Invalid
  {
    name: 'create with negative replicas',
    method: 'POST',
    path: ns('default', 'machinedeployments'),
    body: { ...machineDeployment('md2'), spec: { ...(machineDeployment().spec as object), replicas: -1 } },
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  },
  {
    name: 'create with an unknown field',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: { ...cluster('c2'), spec: { colour: 'blue' } },
    code: 422,
    reason: 'Invalid',
    field: 'spec.colour',
  },
  {
    name: 'create without a name',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: { kind: 'Cluster', apiVersion: 'clusterless.dev/v1alpha1', metadata: {}, spec: {} },
    code: 422,
    reason: 'Invalid',
    field: 'metadata.name',
  },
  {
    name: 'create with an invalid name',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: { ...cluster('Not_A_Name') },
    code: 422,
    reason: 'Invalid',
    field: 'metadata.name',
  },
  {
    name: 'create with an even control-plane replica count',
    method: 'POST',
    path: ns('default', 'controlplanes'),
    body: {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'ControlPlane',
      metadata: { name: 'cp' },
      spec: { clusterName: 'c1', replicas: 2, version: 'v1.31.2', machineClassRef: { name: 'small' } },
    },
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  },
  {
    name: 'replace changing an immutable field',
    method: 'PUT',
    path: MD,
    body: (_a: Api, cur: any) => ({ ...cur, spec: { ...cur.spec, clusterName: 'c9' } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.clusterName',
  },
  {
    name: 'replace with an invalid value',
    method: 'PUT',
    path: MD,
    body: (_a: Api, cur: any) => ({ ...cur, spec: { ...cur.spec, replicas: 1.5 } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  },
  {
    name: 'merge patch to negative replicas',
    method: 'PATCH',
    path: MD,
    body: { spec: { replicas: -1 } },
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  },
  {
    name: 'merge patch that downgrades the version',
    method: 'PATCH',
    path: MD,
    body: { spec: { template: { spec: { version: 'v1.30.0' } } } },
    code: 422,
    reason: 'Invalid',
    field: 'spec.template.spec.version',
  },
  {
    name: 'merge patch that skips a minor version',
    method: 'PATCH',
    path: MD,
    body: { spec: { template: { spec: { version: 'v1.33.0' } } } },
    code: 422,
    reason: 'Invalid',
    field: 'spec.template.spec.version',
  },
  {
    name: 'merge patch renaming the object',
    method: 'PATCH',
    path: ns('default', 'clusters', 'c1'),
    body: { metadata: { name: 'other' } },
    code: 422,
    reason: 'Invalid',
    field: 'metadata.name',
  },
  {
    name: 'status replace with a wrongly typed field',
    method: 'PUT',
    path: `${MD}/status`,
    body: (_a: Api, cur: any) => ({ ...cur, status: { replicas: 'three' } }),
    code: 422,
    reason: 'Invalid',
    field: 'status.replicas',
  },
  {
    name: 'status patch with an unknown field',
    method: 'PATCH',
    path: `${MD}/status`,
    body: { status: { colour: 'red' } },
    code: 422,
    reason: 'Invalid',
    field: 'status.colour',
  },
  {
    name: 'status patch with an unknown phase',
    method: 'PATCH',
    path: `${MD}/status`,
    body: { status: { phase: 'Dancing' } },
    code: 422,
    reason: 'Invalid',
    field: 'status.phase',
  },
  // 409 Conflict and AlreadyExists
  {
    name: 'replace with a stale resourceVersion',
    method: 'PUT',
    path: MD,
    body: (_a: Api, cur: any) => ({ ...cur, metadata: { ...cur.metadata, resourceVersion: '1' }, spec: { ...cur.spec, replicas: 9 } }),
    code: 409,
    reason: 'Conflict',
    message: (cur) => new RegExp(`resourceVersion is ${cur.metadata.resourceVersion}`),
  },
  {
    name: 'merge patch with a stale resourceVersion',
    method: 'PATCH',
    path: MD,
    body: { metadata: { resourceVersion: '1' }, spec: { replicas: 9 } },
    code: 409,
    reason: 'Conflict',
    message: (cur) => new RegExp(`resourceVersion is ${cur.metadata.resourceVersion}`),
  },
  {
    name: 'status replace with a stale resourceVersion',
    method: 'PUT',
    path: `${MD}/status`,
    body: (_a: Api, cur: any) => ({ ...cur, metadata: { ...cur.metadata, resourceVersion: '1' }, status: { replicas: 1 } }),
    code: 409,
    reason: 'Conflict',
  },
  {
    name: 'delete with a stale resourceVersion precondition',
    method: 'DELETE',
    path: MD,
    body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: '1' } },
    code: 409,
    reason: 'Conflict',
  },
  { name: 'delete with another uid precondition', method: 'DELETE', path: MD, body: { preconditions: { uid: 'not-the-uid' } }, code: 409, reason: 'Conflict' },
  {
    name: 'create of an existing name',
    method: 'POST',
    path: ns('default', 'machinedeployments'),
    body: machineDeployment('md1'),
    code: 409,
    reason: 'AlreadyExists',
    message: /machinedeployments.clusterless.dev "md1" already exists/,
  },
  // 404 NotFound
  {
    name: 'get of a missing object',
    method: 'GET',
    path: ns('default', 'machinedeployments', 'nope'),
    code: 404,
    reason: 'NotFound',
    message: /machinedeployments.clusterless.dev "nope" not found/,
  },
  { name: 'get of an object in another namespace', method: 'GET', path: ns('team-c', 'machinedeployments', 'md1'), code: 404, reason: 'NotFound' },
  {
    name: 'replace of a missing object',
    method: 'PUT',
    path: ns('default', 'machinedeployments', 'md9'),
    body: machineDeployment('md9'),
    code: 404,
    reason: 'NotFound',
  },
  {
    name: 'merge patch of a missing object',
    method: 'PATCH',
    path: ns('default', 'machinedeployments', 'md9'),
    body: { spec: { replicas: 1 } },
    code: 404,
    reason: 'NotFound',
  },
  { name: 'delete of a missing object', method: 'DELETE', path: ns('default', 'machinedeployments', 'md9'), code: 404, reason: 'NotFound' },
  { name: 'status of a missing object', method: 'GET', path: ns('default', 'machinedeployments', 'md9', 'status'), code: 404, reason: 'NotFound' },
  {
    name: 'status patch of a missing object',
    method: 'PATCH',
    path: ns('default', 'machinedeployments', 'md9', 'status'),
    body: { status: {} },
    code: 404,
    reason: 'NotFound',
  },
  {
    name: 'rollback of a missing deployment',
    method: 'POST',
    path: ns('default', 'machinedeployments', 'md9', 'rollback'),
    body: { toRevision: 0 },
    code: 404,
    reason: 'NotFound',
  },
  { name: 'a name no object can have', method: 'GET', path: ns('default', 'machinedeployments', 'UPPER_case'), code: 404, reason: 'NotFound' },
  { name: 'an unknown resource', method: 'GET', path: ns('default', 'pods'), code: 404, reason: 'NotFound' },
  { name: 'an unknown subresource', method: 'GET', path: `${MD}/scales`, code: 404, reason: 'NotFound' },
  { name: 'the scale of a kind without one', method: 'GET', path: ns('default', 'clusters', 'c1', 'scale'), code: 404, reason: 'NotFound' },
  {
    name: 'rollback of a kind without rollouts',
    method: 'POST',
    path: ns('default', 'clusters', 'c1', 'rollback'),
    body: { toRevision: 0 },
    code: 404,
    reason: 'NotFound',
  },
  { name: 'another API group', method: 'GET', path: '/apis/apps/v1/deployments', code: 404, reason: 'NotFound' },
  { name: 'an unknown path', method: 'GET', path: '/metrics', code: 404, reason: 'NotFound' },
  // 400 BadRequest
  {
    name: 'malformed JSON',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: '{"kind": "Cluster",',
    code: 400,
    reason: 'BadRequest',
    message: /not valid JSON/,
  },
  {
    name: 'malformed YAML',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: 'kind: Cluster\nmetadata: {name: [c2\n',
    headers: { 'content-type': 'application/yaml' },
    code: 400,
    reason: 'BadRequest',
    message: /not valid YAML/,
  },
  {
    name: 'YAML with a duplicate key',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: 'kind: Cluster\nkind: Cluster\n',
    headers: { 'content-type': 'application/yaml' },
    code: 400,
    reason: 'BadRequest',
  },
  {
    name: 'multi-document YAML',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: 'kind: Cluster\nmetadata: {name: c2}\n---\nkind: Cluster\nmetadata: {name: c3}\n',
    headers: { 'content-type': 'application/yaml' },
    code: 400,
    reason: 'BadRequest',
    message: /2 YAML documents/,
  },
  {
    name: 'a YAML alias bomb',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
    ].join('\n'),
    headers: { 'content-type': 'application/x-yaml' },
    code: 400,
    reason: 'BadRequest',
  },
  { name: 'a JSON array body', method: 'POST', path: ns('default', 'clusters'), body: '[]', code: 400, reason: 'BadRequest', message: /must be an object/ },
  { name: 'a JSON null body', method: 'PUT', path: MD, body: 'null', code: 400, reason: 'BadRequest', message: /must be an object/ },
  {
    name: 'a YAML scalar body',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: 'just a string',
    headers: { 'content-type': 'application/yaml' },
    code: 400,
    reason: 'BadRequest',
  },
  { name: 'an empty body', method: 'POST', path: ns('default', 'clusters'), body: '', code: 400, reason: 'BadRequest' },
  { name: 'a merge patch that is not an object', method: 'PATCH', path: MD, body: '[{"op":"replace"}]', code: 400, reason: 'BadRequest' },
  {
    name: 'a body namespace other than the path',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: cluster('c2', 'team-b'),
    code: 400,
    reason: 'BadRequest',
    message: /namespace of the provided object \(team-b\) does not match/,
  },
  {
    name: 'a replace whose namespace is not the path',
    method: 'PUT',
    path: MD,
    body: (_a: Api, cur: any) => ({ ...cur, metadata: { ...cur.metadata, namespace: 'team-b' } }),
    code: 400,
    reason: 'BadRequest',
  },
  {
    name: 'a replace whose name is not the path',
    method: 'PUT',
    path: MD,
    body: (_a: Api, cur: any) => ({ ...cur, metadata: { ...cur.metadata, name: 'md2' } }),
    code: 400,
    reason: 'BadRequest',
  },
  { name: 'a body of another kind', method: 'POST', path: ns('default', 'clusters'), body: machineClass('m2'), code: 400, reason: 'BadRequest' },
  {
    name: 'a body of another API version',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: { ...cluster('c2'), apiVersion: 'cluster.x-k8s.io/v1beta1' },
    code: 400,
    reason: 'BadRequest',
  },
  {
    name: 'a label selector that does not parse',
    method: 'GET',
    path: ns('default', 'machinedeployments'),
    query: { labelSelector: 'a=b=c' },
    code: 400,
    reason: 'BadRequest',
  },
  {
    name: 'a field selector on an unsupported field',
    method: 'GET',
    path: `${BASE}/machinedeployments`,
    query: { fieldSelector: 'spec.replicas=3' },
    code: 400,
    reason: 'BadRequest',
  },
  {
    name: 'a limit that is not a number',
    method: 'GET',
    path: ns('default', 'machinedeployments'),
    query: { limit: 'ten' },
    code: 400,
    reason: 'BadRequest',
    message: /"limit"/,
  },
  {
    name: 'a continue token that is not one',
    method: 'GET',
    path: ns('default', 'machinedeployments'),
    query: { continue: 'not-a-token' },
    code: 400,
    reason: 'BadRequest',
    message: /continue/,
  },
  {
    name: 'a continue token of another kind',
    method: 'GET',
    path: ns('default', 'clusters'),
    query: {
      continue: Buffer.from(JSON.stringify({ v: 1, kind: 'MachineDeployment', namespace: 'default', after: ['default', 'md1'] })).toString('base64url'),
    },
    code: 400,
    reason: 'BadRequest',
    message: /another list/,
  },
  {
    name: 'a continue token of another namespace',
    method: 'GET',
    path: ns('team-b', 'machinedeployments'),
    query: {
      continue: Buffer.from(JSON.stringify({ v: 1, kind: 'MachineDeployment', namespace: 'default', after: ['default', 'md1'] })).toString('base64url'),
    },
    code: 400,
    reason: 'BadRequest',
  },
  // 410 Expired: a token an older server made; client-go's pager then lists again from the start.
  {
    name: 'a continue token of another server version',
    method: 'GET',
    path: `${BASE}/machinedeployments`,
    query: { continue: Buffer.from(JSON.stringify({ v: 0, kind: 'MachineDeployment', namespace: null, after: ['default', 'md1'] })).toString('base64url') },
    code: 410,
    reason: 'Expired',
  },
  // No percent escape is canonical, valid or not: the message says so rather than blaming the encoding.
  {
    name: 'a path with a broken percent escape',
    method: 'GET',
    path: `${BASE}/namespaces/%E0%A4%A/clusters`,
    code: 400,
    reason: 'BadRequest',
    message: /not in canonical form: it has percent-encoded characters/,
  },
  {
    name: 'DeleteOptions with a numeric precondition',
    method: 'DELETE',
    path: MD,
    body: { preconditions: { resourceVersion: 1 } },
    code: 400,
    reason: 'BadRequest',
  },
  // DeleteOptions in the body, as kubectl and client-go send them: nothing asked for is dropped.
  // DeleteOptions.dryRun other than ["All"] is refused before anything is read: a dry run is never carried out.
  {
    name: 'a body dry run of another value',
    method: 'DELETE',
    path: MD,
    body: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['Bad'] },
    code: 422,
    reason: 'Invalid',
    field: 'dryRun',
    message: 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Bad"]: supported values: "All"',
  },
  {
    name: 'a body dry run given as a string',
    method: 'DELETE',
    path: MD,
    body: { dryRun: 'All' },
    code: 400,
    reason: 'BadRequest',
    message: /dryRun must be a list of strings/,
  },
  {
    name: 'a body dry run in YAML with All and another value',
    method: 'DELETE',
    path: MD,
    body: 'kind: DeleteOptions\napiVersion: v1\ndryRun: [All, Some]\n',
    headers: { 'content-type': 'application/yaml' },
    code: 422,
    reason: 'Invalid',
    field: 'dryRun',
  },
  {
    name: 'a body dry run next to an unknown key',
    method: 'DELETE',
    path: MD,
    body: { dryRun: ['All'], colour: 'red' },
    code: 422,
    reason: 'Invalid',
    field: 'colour',
  },
  {
    name: 'propagationPolicy Orphan',
    method: 'DELETE',
    path: MD,
    body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' },
    code: 422,
    reason: 'Invalid',
    field: 'propagationPolicy',
    message: /^DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Forbidden: orphaning is not supported/,
  },
  { name: 'orphanDependents true', method: 'DELETE', path: MD, body: { orphanDependents: true }, code: 422, reason: 'Invalid', field: 'orphanDependents' },
  {
    name: 'an unknown propagationPolicy',
    method: 'DELETE',
    path: MD,
    body: { propagationPolicy: 'Sideways' },
    code: 422,
    reason: 'Invalid',
    field: 'propagationPolicy',
    message: /supported values: "Foreground", "Background"/,
  },
  {
    name: 'orphanDependents and propagationPolicy both set',
    method: 'DELETE',
    path: MD,
    body: { orphanDependents: false, propagationPolicy: 'Background' },
    code: 422,
    reason: 'Invalid',
    field: 'propagationPolicy',
    message: /cannot both be set/,
  },
  {
    name: 'an unknown DeleteOptions key',
    method: 'DELETE',
    path: MD,
    body: { kind: 'DeleteOptions', apiVersion: 'v1', ignoreStoreReadErrorWithClusterBreakingPotential: true },
    code: 422,
    reason: 'Invalid',
    field: 'ignoreStoreReadErrorWithClusterBreakingPotential',
  },
  {
    name: 'an unknown precondition',
    method: 'DELETE',
    path: MD,
    body: { preconditions: { generation: '1' } },
    code: 422,
    reason: 'Invalid',
    field: 'preconditions.generation',
  },
  {
    name: 'a DELETE body of another kind',
    method: 'DELETE',
    path: MD,
    body: { kind: 'MachineDeployment', apiVersion: 'v1' },
    code: 400,
    reason: 'BadRequest',
    field: 'kind',
  },
  {
    name: 'a DeleteOptions of another API version',
    method: 'DELETE',
    path: MD,
    body: { kind: 'DeleteOptions', apiVersion: 'clusterless.dev/v1alpha1' },
    code: 400,
    reason: 'BadRequest',
    field: 'apiVersion',
  },
  {
    name: 'a gracePeriodSeconds that is not a number',
    method: 'DELETE',
    path: MD,
    body: { gracePeriodSeconds: 'soon' },
    code: 400,
    reason: 'BadRequest',
    field: 'gracePeriodSeconds',
  },
  {
    name: 'orphanDependents that is not a boolean',
    method: 'DELETE',
    path: MD,
    body: { orphanDependents: 'yes' },
    code: 400,
    reason: 'BadRequest',
    field: 'orphanDependents',
  },
  // 413 RequestEntityTooLarge
  {
    name: 'a create body over 256 KiB',
    method: 'POST',
    path: ns('default', 'machinedeployments'),
    body: big(256 * 1024),
    code: 413,
    reason: 'RequestEntityTooLarge',
  },
  {
    name: 'a YAML replace over 256 KiB',
    method: 'PUT',
    path: MD,
    body: `kind: MachineDeployment\n# ${'x'.repeat(256 * 1024)}\n`,
    headers: { 'content-type': 'application/yaml' },
    code: 413,
    reason: 'RequestEntityTooLarge',
  },
  {
    name: 'a patch over 256 KiB',
    method: 'PATCH',
    path: MD,
    body: JSON.stringify({ metadata: { annotations: { pad: 'é'.repeat(140 * 1024) } } }),
    code: 413,
    reason: 'RequestEntityTooLarge',
  },
  // 415 UnsupportedMediaType
  {
    name: 'a form-encoded create',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: cluster('c2'),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    name: 'a JSON Patch whose test fails (the replace before it is not kept)',
    method: 'PATCH',
    path: MD,
    body: '[{"op":"replace","path":"/spec/replicas","value":5},{"op":"test","path":"/spec/replicas","value":3}]',
    headers: { 'content-type': 'application/json-patch+json' },
    code: 422,
    reason: 'Invalid',
    message: 'the server rejected our request due to an error in our request',
  },
  {
    name: 'a JSON Patch that sets a stale resourceVersion (a precondition, as kube-apiserver reads it)',
    method: 'PATCH',
    path: MD,
    body: '[{"op":"replace","path":"/metadata/resourceVersion","value":"1"},{"op":"replace","path":"/spec/replicas","value":5}]',
    headers: { 'content-type': 'application/json-patch+json' },
    code: 409,
    reason: 'Conflict',
  },
  {
    name: 'a JSON Patch that renames the object',
    method: 'PATCH',
    path: MD,
    body: '[{"op":"replace","path":"/metadata/name","value":"other"}]',
    headers: { 'content-type': 'application/json-patch+json' },
    code: 400,
    reason: 'BadRequest',
  },
  {
    name: 'a JSON Patch that is not a list of operations',
    method: 'PATCH',
    path: MD,
    body: '{"op":"add"}',
    headers: { 'content-type': 'application/json-patch+json' },
    code: 400,
    reason: 'BadRequest',
    message: /^error decoding patch/,
  },
  {
    name: 'a JSON Patch of status that is invalid',
    method: 'PATCH',
    path: `${MD}/status`,
    body: '[{"op":"add","path":"/status","value":{"replicas":"many"}}]',
    headers: { 'content-type': 'application/json-patch+json' },
    code: 422,
    reason: 'Invalid',
  },
  {
    name: 'a JSON Patch whose result is invalid',
    method: 'PATCH',
    path: MD,
    body: '[{"op":"replace","path":"/spec/replicas","value":-1}]',
    headers: { 'content-type': 'application/json-patch+json' },
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  },
  {
    name: 'a strategic merge patch',
    method: 'PATCH',
    path: MD,
    body: { spec: { replicas: 5 } },
    headers: { 'content-type': 'application/strategic-merge-patch+json' },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    name: 'a server-side apply patch of status',
    method: 'PATCH',
    path: `${MD}/status`,
    body: 'status: {replicas: 5}',
    headers: { 'content-type': 'application/apply-patch+yaml' },
    query: { fieldManager: 'kubectl' },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    name: 'a patch without a content type',
    method: 'PATCH',
    path: MD,
    body: { spec: { replicas: 5 } },
    headers: { 'content-type': '' },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  // A body must say what it is: nothing is sniffed, so a web page cannot post a form or a bare fetch at the API.
  {
    name: 'a create without a content type',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: cluster('c2'),
    headers: { 'content-type': undefined },
    code: 415,
    reason: 'UnsupportedMediaType',
    message: /no Content-Type/,
  },
  {
    name: 'a create with an empty content type',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: cluster('c2'),
    headers: { 'content-type': '' },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    name: 'a replace without a content type',
    method: 'PUT',
    path: MD,
    body: (_a: Api, cur: any) => ({ ...cur, spec: { ...cur.spec, replicas: 9 } }),
    headers: { 'content-type': undefined },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    name: 'a status replace without a content type',
    method: 'PUT',
    path: `${MD}/status`,
    body: (_a: Api, cur: any) => ({ ...cur, status: { replicas: 1 } }),
    headers: { 'content-type': undefined },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    name: 'a DELETE with a body and no content type',
    method: 'DELETE',
    path: MD,
    body: { preconditions: {} },
    headers: { 'content-type': undefined },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    name: 'a rollback without a content type',
    method: 'POST',
    path: `${MD}/rollback`,
    body: { toRevision: 0 },
    headers: { 'content-type': undefined },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    name: 'a rollback with no body and no content type',
    method: 'POST',
    path: `${MD}/rollback`,
    headers: { 'content-type': undefined },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  {
    name: 'a rollback posted as a form',
    method: 'POST',
    path: `${MD}/rollback`,
    body: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  // Query parameters: a dry run is never carried out for real, and a write drops nothing a client asked for.
  {
    name: 'a server-side apply without a fieldManager',
    method: 'PATCH',
    path: MD,
    body: 'spec: {replicas: 5}',
    headers: { 'content-type': 'application/apply-patch+yaml' },
    code: 422,
    reason: 'Invalid',
    field: 'fieldManager',
    message: /is required for apply patch/,
  },
  {
    name: 'a server-side apply that is invalid',
    method: 'PATCH',
    path: MD,
    body: 'spec: {replicas: -1}',
    headers: { 'content-type': 'application/apply-patch+yaml' },
    query: { fieldManager: 'kubectl' },
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  },
  {
    name: 'a server-side apply with a force that is not a boolean',
    method: 'PATCH',
    path: MD,
    body: 'spec: {replicas: 5}',
    headers: { 'content-type': 'application/apply-patch+yaml' },
    query: { fieldManager: 'kubectl', force: 'maybe' },
    code: 400,
    reason: 'BadRequest',
    message: /"force" must be true or false/,
  },
  ...(
    [
      ['POST', ns('default', 'clusters'), cluster('c2'), 'CreateOptions'],
      ['PUT', MD, (_a: Api, cur: any) => ({ ...cur, spec: { ...cur.spec, replicas: 9 } }), 'UpdateOptions'],
      ['PATCH', MD, { spec: { replicas: 9 } }, 'PatchOptions'],
      ['PATCH', `${MD}/status`, { status: { replicas: 9 } }, 'PatchOptions'],
      ['POST', `${MD}/rollback`, {}, 'CreateOptions'],
      ['DELETE', MD, undefined, 'DeleteOptions'],
    ] as const
  ).map(([method, path, body, options]) => ({
    name: `a dry run other than All on ${method} ${path.split('/').slice(-2).join('/')}`,
    method,
    path,
    ...(body !== undefined ? { body } : {}),
    query: { dryRun: 'Server' },
    code: 422,
    reason: 'Invalid',
    field: 'dryRun',
    message: `${options}.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Server"]: supported values: "All"`,
  })),
  {
    name: 'a dry run with an empty value',
    method: 'PATCH',
    path: MD,
    body: { spec: { replicas: 9 } },
    query: { dryRun: '' },
    code: 422,
    reason: 'Invalid',
    field: 'dryRun',
    message: /Unsupported value: \[""\]/,
  },
  {
    name: 'an unknown parameter on a create',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: cluster('c2'),
    query: { force: 'true' },
    code: 400,
    reason: 'BadRequest',
    message: /"force" is not supported on POST/,
  },
  {
    name: 'a list parameter on a patch',
    method: 'PATCH',
    path: MD,
    body: { spec: { replicas: 9 } },
    query: { labelSelector: 'a=b' },
    code: 400,
    reason: 'BadRequest',
    message: /"labelSelector"/,
  },
  {
    name: 'a propagation policy in the query of a delete',
    method: 'DELETE',
    path: MD,
    query: { propagationPolicy: 'Orphan' },
    code: 400,
    reason: 'BadRequest',
    message: /"propagationPolicy"/,
  },
  {
    name: 'a field manager on a delete (DeleteOptions has none)',
    method: 'DELETE',
    path: MD,
    query: { fieldManager: 'me' },
    code: 400,
    reason: 'BadRequest',
    message: /"fieldManager"/,
  },
  {
    name: 'a field manager of 129 bytes',
    method: 'PATCH',
    path: MD,
    body: { spec: { replicas: 9 } },
    query: { fieldManager: 'm'.repeat(129) },
    code: 422,
    reason: 'Invalid',
    field: 'fieldManager',
    message: /^PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long/,
  },
  {
    name: 'a field manager of 65 two-byte characters (130 bytes)',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: cluster('c2'),
    query: { fieldManager: 'é'.repeat(65) },
    code: 422,
    reason: 'Invalid',
    field: 'fieldManager',
  },
  {
    name: 'a field manager with a control character',
    method: 'PUT',
    path: MD,
    body: (_a: Api, cur: any) => ({ ...cur, spec: { ...cur.spec, replicas: 9 } }),
    query: { fieldManager: 'kube\u0007ctl' },
    code: 422,
    reason: 'Invalid',
    field: 'fieldManager',
    message: /U\+0007 \(at position 4\)/,
  },
  {
    name: 'an unknown fieldValidation',
    method: 'POST',
    path: ns('default', 'clusters'),
    body: cluster('c2'),
    query: { fieldValidation: 'strict' },
    code: 422,
    reason: 'Invalid',
    field: 'fieldValidation',
  },
  { name: 'a pretty that is not a boolean', method: 'GET', path: MD, query: { pretty: 'very' }, code: 400, reason: 'BadRequest', message: /"pretty"/ },
  {
    name: 'a pretty named like an object property',
    method: 'GET',
    path: MD,
    query: { pretty: 'constructor' },
    code: 400,
    reason: 'BadRequest',
    message: /"pretty"/,
  },
  // 405 MethodNotAllowed
  { name: 'PUT on a collection', method: 'PUT', path: ns('default', 'clusters'), body: cluster('c2'), code: 405, reason: 'MethodNotAllowed' },
  { name: 'DELETE of a whole collection', method: 'DELETE', path: ns('default', 'machinedeployments'), code: 405, reason: 'MethodNotAllowed' },
  { name: 'POST to the cross-namespace list', method: 'POST', path: `${BASE}/clusters`, body: cluster('c2'), code: 405, reason: 'MethodNotAllowed' },
  { name: 'POST to an object', method: 'POST', path: MD, body: machineDeployment(), code: 405, reason: 'MethodNotAllowed' },
  { name: 'DELETE of a status', method: 'DELETE', path: `${MD}/status`, code: 405, reason: 'MethodNotAllowed' },
  { name: 'GET of a rollback', method: 'GET', path: `${MD}/rollback`, code: 405, reason: 'MethodNotAllowed' },
  { name: 'POST to /healthz', method: 'POST', path: '/healthz', body: {}, code: 405, reason: 'MethodNotAllowed' },
  { name: 'DELETE of the discovery document', method: 'DELETE', path: BASE, code: 405, reason: 'MethodNotAllowed' },
  // Invalid rollbacks (the object is found, the request is not acceptable)
  {
    name: 'rollback to a revision that does not exist',
    method: 'POST',
    path: `${MD}/rollback`,
    body: { toRevision: 7 },
    code: 422,
    reason: 'Invalid',
    field: 'toRevision',
  },
  {
    name: 'rollback with no previous revision',
    method: 'POST',
    path: `${MD}/rollback`,
    body: { toRevision: 0 },
    code: 422,
    reason: 'Invalid',
    field: 'toRevision',
  },
  {
    name: 'rollback to a negative revision',
    method: 'POST',
    path: `${MD}/rollback`,
    body: { toRevision: -1 },
    code: 422,
    reason: 'Invalid',
    field: 'toRevision',
  },
  {
    name: 'rollback with an unknown field',
    method: 'POST',
    path: `${MD}/rollback`,
    body: { toRevision: 0, dryRun: true },
    code: 422,
    reason: 'Invalid',
    field: 'dryRun',
  },
];

describe('HTTP API refusals', () => {
  let a: Api;
  let current: any;

  beforeEach(async () => {
    a = api();
    await a.create(cluster());
    await a.create(machineClass());
    current = await a.create(machineDeployment());
    await a.create(machineDeployment('md1', 'team-b'));
  });

  it.each(cases)('$name -> $code $reason', async (c) => {
    // Prepare
    const before = await a.snapshot();
    const path = typeof c.path === 'function' ? c.path(a) : c.path;
    const body = typeof c.body === 'function' ? (c.body as (a: Api, cur: any) => unknown)(a, current) : c.body;
    // Act
    const res = await a.call(c.method, path, body, c.headers, c.query);
    // Assess
    expect(res.status).toBe(c.code);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json).toMatchObject({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: c.code, reason: c.reason });
    expect(typeof res.json.message).toBe('string');
    if (c.field !== undefined) expect(res.json.details.causes.map((x: { field: string }) => x.field)).toContain(c.field);
    if (c.message) expect(res.json.message).toMatch(typeof c.message === 'function' ? c.message(current) : c.message);
    expect(await a.snapshot()).toEqual(before);
  });

  it('names every invalid field of a create in causes, with Kubernetes cause reasons', async () => {
    const before = await a.snapshot();
    const res = await a.call('POST', ns('default', 'machinedeployments'), {
      ...machineDeployment('md3'),
      spec: { clusterName: 'c1', replicas: -2, template: { spec: { version: '1.31', machineClassRef: { name: 'small' } } }, extra: 1 },
    });
    expect(res.status).toBe(422);
    expect(res.json.details).toMatchObject({ name: 'md3', group: 'clusterless.dev', kind: 'MachineDeployment' });
    expect(res.json.details.causes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'spec.replicas', reason: 'FieldValueInvalid' }),
        expect.objectContaining({ field: 'spec.template.spec.version' }),
        expect.objectContaining({ field: 'spec.extra', reason: 'FieldValueNotSupported' }),
      ]),
    );
    expect(res.json.message).toMatch(/^MachineDeployment.clusterless.dev "md3" is invalid: /);
    expect(await a.snapshot()).toEqual(before);
  });

  it('lists the allowed methods with a 405', async () => {
    const res = await a.call('PUT', ns('default', 'clusters'), cluster('c2'));
    expect(res.headers['allow']).toBe('GET, POST');
  });

  it('answers with a YAML Status when the client asks for YAML', async () => {
    const res = await a.call('GET', ns('default', 'clusters', 'nope'), undefined, { accept: 'application/yaml' });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/yaml');
    expect(res.body).toMatch(/^kind: Status\n/m);
    expect(res.body).toMatch(/^reason: NotFound$/m);
  });
});

describe('failures of the store', () => {
  /** A store whose every call fails with the given error. */
  const failing = (err: Error): Store => new Proxy(new MemoryStore(), { get: () => async () => Promise.reject(err) }) as Store;

  it.each([
    { name: 'a throttled store', err: new StoreUnavailableError('throttled'), code: 503, reason: 'ServiceUnavailable', reported: false },
    { name: 'a bug', err: new TypeError('cannot read properties of undefined'), code: 500, reason: 'InternalError', reported: true },
  ])('$name -> $code $reason', async ({ err, code, reason, reported }) => {
    const seen: unknown[] = [];
    const res = await handleRequest(
      { method: 'GET', path: ns('default', 'clusters', 'c1'), headers: {} },
      { store: failing(err), onInternalError: (e) => seen.push(e) },
    );
    expect(res.status).toBe(code);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', status: 'Failure', code, reason });
    // A bug reaches the host's log, and its text does not reach the client.
    expect(seen).toEqual(reported ? [err] : []);
    expect(res.body).not.toContain('cannot read properties');
  });

  it('tells the client when to retry a throttled request', async () => {
    const res = await handleRequest({ method: 'GET', path: ns('default', 'clusters', 'c1') }, { store: failing(new StoreUnavailableError('x')) });
    expect(res.headers['retry-after']).toBe('1');
  });
});

describe('Status responses made outside the router', () => {
  // 403 is reserved for the authorisation layer that comes later; its Status must already have the right shape.
  it.each([
    { name: 'Forbidden', reason: 'Forbidden' as const, code: 403 },
    { name: 'RequestEntityTooLarge (the local server, while reading)', reason: 'RequestEntityTooLarge' as const, code: 413 },
  ])('$name is a Status with code $code', ({ reason, code }) => {
    const res = statusResponse(new ApiError(reason, 'no').status);
    expect(res.status).toBe(code);
    expect(JSON.parse(res.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'no', reason, code });
  });
});
