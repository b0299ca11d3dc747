/**
 * Per-namespace authorization of the HTTP API (HttpApi.grantNamespaces, grantAllNamespacesRead), evaluated as
 * AWS evaluates the callers' synthesized policies against the execute-api ARNs API Gateway checks
 * (`{api}/{stage}/{METHOD}/{path}`): a team, a controller that writes status, an operator who reads everything.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../functions/adapters/memory/index.js';
import { handleRequest, jsonRequest } from '../../functions/api/http/index.js';
import type { ControlPlaneStack } from '../../infra/control-plane-stack.js';
import { ACCOUNT, REGION, decide, identityPolicyOf, resolve, type Decision } from './iam-eval.js';
import { controlPlaneStack, logicalId, type Resources } from './support.js';

const BASE = '/apis/clusterless.dev/v1alpha1';
const ns = (namespace: string, rest = '') => `${BASE}/namespaces/${namespace}${rest}`;

let stack: ControlPlaneStack;
let template: Template;
const roles: Record<string, iam.Role> = {};

beforeAll(() => {
  ({ stack, template } = controlPlaneStack({}, (s) => {
    const role = (name: string) => (roles[name] = new iam.Role(s, name, { assumedBy: new iam.AccountRootPrincipal() }));
    s.httpApi.grantNamespaces(role('TeamAWriter'), { namespaces: ['team-a'], access: 'write' });
    s.httpApi.grantNamespaces(role('TeamAReader'), { namespaces: ['team-a'], access: 'read' });
    s.httpApi.grantNamespaces(role('TeamAAdmin'), { namespaces: ['team-a'], access: 'write', status: true, kubeconfig: true });
    s.httpApi.grantNamespaces(role('StatusController'), { namespaces: ['team-a', 'team-c'], access: 'read', status: true });
    s.httpApi.grantAllNamespacesRead(role('Operator'));
    s.httpApi.grantAllNamespacesRead(role('OperatorWithKubeconfigs'), { kubeconfig: true });
  }));
});

/** What API Gateway asks IAM for a request of `method` on `path` to this API's stage. */
function may(who: string, method: string, path: string): Promise<Decision> {
  const resources = template.toJSON()['Resources'] as Resources;
  const apiId = resolve({ Ref: logicalId(stack, stack.httpApi.api) }, resources) as string;
  const resource = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${apiId}/v1/${method}${path}`;
  return decide(identityPolicyOf(template, logicalId(stack, roles[who]!)), { action: 'execute-api:Invoke', resource });
}

const WRITES: [string, string][] = [
  ['POST', ns('team-a', '/machinedeployments')],
  ['PUT', ns('team-a', '/machinedeployments/md-0')],
  ['PATCH', ns('team-a', '/machinedeployments/md-0')],
  ['DELETE', ns('team-a', '/clusters/prod')],
  ['POST', ns('team-a', '/machinedeployments/md-0/rollback')],
  ['PUT', ns('team-a', '/machinedeployments/md-0/scale')],
  ['PATCH', ns('team-a', '/controlplanes/cp/scale')],
];
const READS: [string, string][] = [
  ['GET', ns('team-a', '/machines')],
  ['GET', ns('team-a', '/clusters/prod')],
  ['GET', ns('team-a', '/machines/m-1/status')],
  ['GET', ns('team-a', '/machinesets/ms-1/scale')],
  ['GET', `${BASE}`],
  ['GET', '/apis'],
  ['GET', '/version'],
  ['GET', '/api'],
  ['GET', '/openapi/v3/apis/clusterless.dev/v1alpha1'],
];
const STATUS_WRITES: [string, string][] = [
  ['PUT', ns('team-a', '/machines/m-1/status')],
  ['PATCH', ns('team-a', '/machinedeployments/md-0/status')],
];
const KUBECONFIG: [string, string] = ['GET', ns('team-a', '/clusters/prod/kubeconfig')];
const LIST_ALL: [string, string] = ['GET', `${BASE}/machines`];

describe("a team's writer (access: write)", () => {
  it.each([...READS, ...WRITES])('may %s %s', async (method, path) => {
    expect(await may('TeamAWriter', method, path)).toBe('Allowed');
  });

  it.each([
    ['GET', ns('team-b', '/machines')],
    ['PUT', ns('team-b', '/machinedeployments/md-0')],
    ['DELETE', ns('team-b', '/clusters/prod')],
    ['GET', ns('team-ab', '/machines')],
    ['POST', ns('team-a-b', '/machines')],
  ])("may not %s another team's %s", async (method, path) => {
    expect(await may('TeamAWriter', method, path)).not.toBe('Allowed');
  });

  it.each(STATUS_WRITES)('may not %s %s (status is not granted)', async (method, path) => {
    expect(await may('TeamAWriter', method, path)).toBe('ExplicitlyDenied');
  });

  it('may write an object that happens to be named status', async () => {
    expect(await may('TeamAWriter', 'PUT', ns('team-a', '/machines/status'))).toBe('Allowed');
  });

  it('may not get a kubeconfig (not granted)', async () => {
    expect(await may('TeamAWriter', ...KUBECONFIG)).toBe('ExplicitlyDenied');
  });

  it('may not list across namespaces', async () => {
    expect(await may('TeamAWriter', ...LIST_ALL)).not.toBe('Allowed');
  });
});

describe("the cost routes (a namespace grant reads its clusters' cost, a reader of every namespace all of it)", () => {
  const COST = '/clusterless/v1/cost';
  const nsCost = (namespace: string) => `/clusterless/v1/namespaces/${namespace}/cost`;

  it.each(['TeamAWriter', 'TeamAReader', 'StatusController'])("%s may read its namespace's cost", async (who) => {
    expect(await may(who, 'GET', nsCost('team-a'))).toBe('Allowed');
  });

  it.each(['TeamAWriter', 'TeamAReader', 'TeamAAdmin'])("%s may read neither another namespace's cost nor every cluster's", async (who) => {
    for (const path of [nsCost('team-b'), nsCost('team-ab'), COST]) expect(await may(who, 'GET', path), path).not.toBe('Allowed');
  });

  it("an operator reads every cluster's cost and any namespace's", async () => {
    expect(await may('Operator', 'GET', COST)).toBe('Allowed');
    expect(await may('Operator', 'GET', nsCost('team-b'))).toBe('Allowed');
  });

  it('nobody may use another method on them', async () => {
    for (const who of ['TeamAAdmin', 'Operator'])
      for (const path of [COST, nsCost('team-a')]) expect(await may(who, 'POST', path), `${who} ${path}`).not.toBe('Allowed');
  });
});

describe('events (events.k8s.io/v1, read-only)', () => {
  const EVENTS = '/apis/events.k8s.io/v1';
  it.each(['TeamAWriter', 'TeamAReader'])("%s may read discovery and its namespace's events", async (who) => {
    for (const path of ['/apis/events.k8s.io', EVENTS, `${EVENTS}/namespaces/team-a/events`, `${EVENTS}/namespaces/team-a/events/m-1.abcdefghij`])
      expect(await may(who, 'GET', path), path).toBe('Allowed');
  });

  it("a team may not read another team's events, nor list them across namespaces", async () => {
    expect(await may('TeamAWriter', 'GET', `${EVENTS}/namespaces/team-b/events`)).not.toBe('Allowed');
    expect(await may('TeamAWriter', 'GET', `${EVENTS}/namespaces/team-ab/events`)).not.toBe('Allowed');
    expect(await may('TeamAWriter', 'GET', `${EVENTS}/events`)).not.toBe('Allowed');
  });

  it('nobody is granted a write of an event', async () => {
    expect(await may('TeamAWriter', 'POST', `${EVENTS}/namespaces/team-a/events`)).not.toBe('Allowed');
    expect(await may('TeamAWriter', 'DELETE', `${EVENTS}/namespaces/team-a/events/m-1.abcdefghij`)).not.toBe('Allowed');
  });

  it("an operator reads every namespace's events", async () => {
    expect(await may('Operator', 'GET', `${EVENTS}/events`)).toBe('Allowed');
    expect(await may('Operator', 'GET', `${EVENTS}/namespaces/team-b/events`)).toBe('Allowed');
  });
});

describe('what a team grant is given on top', () => {
  it.each([...STATUS_WRITES, KUBECONFIG])('with status and kubeconfig, the admin may %s %s', async (method, path) => {
    expect(await may('TeamAAdmin', method, path)).toBe('Allowed');
  });

  it.each([...WRITES, ...STATUS_WRITES, KUBECONFIG])('a reader may not %s %s', async (method, path) => {
    expect(await may('TeamAReader', method, path)).not.toBe('Allowed');
  });

  it.each(READS)('a reader may %s %s', async (method, path) => {
    expect(await may('TeamAReader', method, path)).toBe('Allowed');
  });

  it('a controller that writes status may write the status of its namespaces, and nothing else', async () => {
    for (const [method, path] of STATUS_WRITES) expect(await may('StatusController', method, path), `${method} ${path}`).toBe('Allowed');
    expect(await may('StatusController', 'PATCH', ns('team-c', '/machines/m-1/status'))).toBe('Allowed');
    for (const [method, path] of WRITES) expect(await may('StatusController', method, path), `${method} ${path}`).not.toBe('Allowed');
    expect(await may('StatusController', 'PUT', ns('team-b', '/machines/m-1/status'))).not.toBe('Allowed');
    expect(await may('StatusController', ...KUBECONFIG)).not.toBe('Allowed');
  });
});

describe('an operator (grantAllNamespacesRead)', () => {
  it.each([...READS, LIST_ALL, ['GET', ns('team-b', '/machines/m-9/status')] as [string, string]])('may %s %s', async (method, path) => {
    expect(await may('Operator', method, path)).toBe('Allowed');
  });

  it.each([...WRITES, ...STATUS_WRITES])('may not %s %s', async (method, path) => {
    expect(await may('Operator', method, path)).not.toBe('Allowed');
  });

  it('gets kubeconfigs only when granted them', async () => {
    expect(await may('Operator', ...KUBECONFIG)).toBe('ExplicitlyDenied');
    expect(await may('OperatorWithKubeconfigs', ...KUBECONFIG)).toBe('Allowed');
    expect(await may('OperatorWithKubeconfigs', 'PUT', ns('team-a', '/clusters/prod'))).not.toBe('Allowed');
  });
});

describe('paths that are not canonical cannot reach team-b through a grant of team-a', () => {
  // Either IAM refuses the request, or the ARN starts with team-a (IAM matches the path as sent) and the router,
  // which serves canonical paths only, refuses it without reading team-b.
  const secret = { apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineClass', metadata: { name: 'secret-class', namespace: 'team-b' }, spec: { sim: {} } };
  it.each([
    ['GET', `${BASE}/namespaces//team-b/machineclasses/secret-class`],
    ['GET', `${BASE}//namespaces/team-b/machineclasses/secret-class`],
    ['GET', `${BASE}/namespaces/team-b%2Fmachineclasses/secret-class`],
    ['GET', `${BASE}/namespaces/team-a/../team-b/machineclasses/secret-class`],
    ['GET', `${BASE}/namespaces/team-a/..%2Fteam-b/machineclasses/secret-class`],
    ['GET', `${BASE}/namespaces/team-a%2F..%2Fteam-b/machineclasses/secret-class`],
    ['GET', `${BASE}/namespaces/team-a//../team-b/machineclasses/secret-class`],
    ['DELETE', `${BASE}/namespaces/team-a/./../team-b/machineclasses/secret-class`],
  ])('%s %s', async (method, path) => {
    const decision = await may('TeamAWriter', method, path);
    if (decision !== 'Allowed') return;
    const store = new MemoryStore();
    expect((await handleRequest(jsonRequest('POST', `${BASE}/namespaces/team-b/machineclasses`, secret), { store })).status).toBe(201);
    const res = await handleRequest(jsonRequest(method, path), { store });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body).not.toContain('"secret-class"');
    expect(await store.get('MachineClass', 'team-b', 'secret-class')).toMatchObject({ metadata: { name: 'secret-class' } });
    expect((await store.get('MachineClass', 'team-b', 'secret-class'))?.metadata.deletionTimestamp).toBeUndefined();
  });
});

describe('grants that would contradict each other', () => {
  it.each([
    [
      'write without status, then status',
      (s: ControlPlaneStack, r: iam.Role) => {
        s.httpApi.grantNamespaces(r, { namespaces: ['team-a'], access: 'write' });
        s.httpApi.grantNamespaces(r, { namespaces: ['team-a'], access: 'read', status: true });
      },
    ],
    [
      'every namespace without kubeconfigs, then one with',
      (s: ControlPlaneStack, r: iam.Role) => {
        s.httpApi.grantAllNamespacesRead(r);
        s.httpApi.grantNamespaces(r, { namespaces: ['team-a'], access: 'read', kubeconfig: true });
      },
    ],
  ])('throw: %s', (_name, grant) => {
    expect(() => controlPlaneStack({}, (s) => grant(s, new iam.Role(s, 'Caller', { assumedBy: new iam.AccountRootPrincipal() })))).toThrow(
      /grant them in one call/,
    );
  });

  it('do not throw when they do not overlap: read everything, write one namespace', () => {
    expect(() =>
      controlPlaneStack({}, (s) => {
        const r = new iam.Role(s, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
        s.httpApi.grantAllNamespacesRead(r);
        s.httpApi.grantNamespaces(r, { namespaces: ['team-a'], access: 'write' });
      }),
    ).not.toThrow();
  });

  it.each(['team-*', '', 'Team-A', 'team-a/x'])('refuse the namespace %j (names only, no patterns)', (name) => {
    expect(() =>
      controlPlaneStack({}, (s) =>
        s.httpApi.grantNamespaces(new iam.Role(s, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }), { namespaces: [name], access: 'read' }),
      ),
    ).toThrow(/namespace/);
  });
});

// Grants that need no Deny: their Allows must not go nowhere without a word (the caller would meet a 403).
describe('a principal whose policy cannot be changed', () => {
  it.each([
    [
      'every namespace with kubeconfigs, to an ARN',
      (s: ControlPlaneStack) => s.httpApi.grantAllNamespacesRead(new iam.ArnPrincipal(`arn:aws:iam::${ACCOUNT}:role/made-elsewhere`), { kubeconfig: true }),
    ],
    [
      'reads, status and kubeconfigs of a namespace, to an account',
      (s: ControlPlaneStack) =>
        s.httpApi.grantNamespaces(new iam.AccountPrincipal(ACCOUNT), { namespaces: ['team-a'], access: 'read', status: true, kubeconfig: true }),
    ],
  ])('is refused at synth: %s', (_name, grant) => {
    expect(() => controlPlaneStack({}, grant)).toThrow(/its policy cannot be changed/);
  });
});
