/**
 * The kubectl door of ControlPlaneStack (HttpApi.kubectlApi): a second RestApi with the same routes and functions,
 * every method behind the token authorizer (functions/handlers/token-authorizer.ts), whose access entries are the
 * grants the app makes. One grant serves both doors: the authorizer's policy for a caller decides every route as IAM
 * decides the same caller's SigV4 request.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccessEntry } from '../../functions/api/access-entries.js';
import { parseAccessEntries, policyFor } from '../../functions/handlers/token-authorizer.js';
import type { ControlPlaneStack } from '../../infra/control-plane-stack.js';
import { ACCOUNT, REGION, decide, identityPolicyOf, resolve } from './iam-eval.js';
import { controlPlaneStack, logicalId, resourcesOf, statementsOfRole, type Resources } from './support.js';

const BASE = '/apis/clusterless.dev/v1alpha1';
const ns = (namespace: string, rest = '') => `${BASE}/namespaces/${namespace}${rest}`;

let stack: ControlPlaneStack;
let template: Template;
let resources: Resources;
const roles: Record<string, iam.Role> = {};

beforeAll(() => {
  ({ stack, template } = controlPlaneStack({}, (s) => {
    const role = (name: string) => (roles[name] = new iam.Role(s, name, { assumedBy: new iam.AccountRootPrincipal() }));
    s.httpApi.grantNamespaces(role('TeamAWriter'), { namespaces: ['team-a'], access: 'write' });
    s.httpApi.grantNamespaces(role('TeamAReader'), { namespaces: ['team-a'], access: 'read' });
    s.httpApi.grantNamespaces(role('TeamAAdmin'), { namespaces: ['team-a', 'team-c'], access: 'write', status: true, kubeconfig: true });
    s.httpApi.grantNamespaces(role('StatusController'), { namespaces: ['team-a'], access: 'read', status: true });
    s.httpApi.grantAllNamespacesRead(role('Operator'));
  }));
  resources = template.toJSON()['Resources'] as Resources;
});

const kubectlApiId = () => logicalId(stack, stack.httpApi.kubectlApi!);
const methodsOf = (apiLogicalId: string) =>
  Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))
    .map((m) => m.Properties)
    .filter((p) => JSON.stringify(p['RestApiId']) === JSON.stringify({ Ref: apiLogicalId }));
const authorizerFunction = () => logicalId(stack, stack.functions['token-authorizer'].function);
const entries = (): AccessEntry[] => {
  const env = (resources[authorizerFunction()]!.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
  return parseAccessEntries(resolve(env['ACCESS_ENTRIES'] as never, resources) as string);
};

describe('the kubectl door', () => {
  it('serves every route of the SigV4 door, each method behind the token authorizer (CUSTOM), with the same validation and functions', () => {
    // Prepare
    const sigv4 = methodsOf(logicalId(stack, stack.httpApi.api));
    const kubectl = methodsOf(kubectlApiId());
    const authorizer = Object.keys(resourcesOf(template, 'AWS::ApiGateway::Authorizer'))[0]!;
    const shape = (m: Record<string, unknown>) => ({
      method: m['HttpMethod'],
      uri: JSON.stringify((m['Integration'] as { Uri: unknown }).Uri),
      body: !!m['RequestModels'],
    });

    // Assess
    expect(stack.httpApi.kubectlApi!.methods.map((m) => `${m.httpMethod} ${m.resource.path}`).sort()).toEqual(
      stack.httpApi.api.methods.map((m) => `${m.httpMethod} ${m.resource.path}`).sort(),
    );
    expect(kubectl.map(shape).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      sigv4.map(shape).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    for (const m of kubectl) {
      expect(m['AuthorizationType']).toBe('CUSTOM');
      expect(m['AuthorizerId']).toEqual({ Ref: authorizer });
      expect(m['RequestValidatorId']).toBeDefined();
    }
  });

  it('has a REQUEST authorizer on the Authorization header, its decisions cached 60 s, calling the token-authorizer function', () => {
    const [authorizer] = Object.values(resourcesOf(template, 'AWS::ApiGateway::Authorizer'));
    expect(authorizer!.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 60,
      RestApiId: { Ref: kubectlApiId() },
    });
    expect(JSON.stringify(authorizer!.Properties['AuthorizerUri'])).toContain(JSON.stringify({ 'Fn::GetAtt': [authorizerFunction(), 'Arn'] }));
    const permits = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter(
      (p) => JSON.stringify(p.Properties['FunctionName']).includes(authorizerFunction()) && p.Properties['Principal'] === 'apigateway.amazonaws.com',
    );
    expect(permits.length).toBe(1);
  });

  it('gives the authorizer no permission beyond its logs (STS GetCallerIdentity needs none)', () => {
    const role = logicalId(stack, stack.functions['token-authorizer'].role);
    const actions = statementsOfRole(template, role).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))).toEqual([]);
    expect(resources[role]!.Properties['ManagedPolicyArns']).toBeUndefined();
  });

  it('never sets the test STS endpoint: in production the authorizer calls sts[.region].amazonaws.com over https only', () => {
    const env = (resources[authorizerFunction()]!.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env)).not.toContain('CLUSTERLESS_TEST_STS_ENDPOINT');
    expect(Object.keys(env)).toContain('ACCESS_ENTRIES');
  });

  it('answers refusals as Kubernetes Status objects (kubectl prints Forbidden and Unauthorized)', () => {
    const responses = Object.values(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse')).map((r) => r.Properties);
    const of = (type: string) => responses.find((r) => r['ResponseType'] === type)!;
    expect(of('ACCESS_DENIED')).toMatchObject({ StatusCode: '403', RestApiId: { Ref: kubectlApiId() } });
    expect(JSON.parse((of('ACCESS_DENIED')['ResponseTemplates'] as Record<string, string>)['application/json']!)).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
    });
    expect(of('UNAUTHORIZED')).toMatchObject({ StatusCode: '401' });
  });

  it('outputs KubectlApiUrl', () => {
    expect(Object.keys(template.toJSON()['Outputs'] as object)).toContain('KubectlApiUrl');
  });

  it('records one access entry per grant for the authorizer (ACCESS_ENTRIES), naming the role by its ARN', () => {
    expect(entries()).toContainEqual({
      principalArn: `arn:aws:iam::${ACCOUNT}:role/${logicalId(stack, roles['TeamAWriter'])}`,
      namespaces: ['team-a'],
      access: 'write',
      status: false,
      kubeconfig: false,
    });
    expect(entries().find((e) => e.principalArn.endsWith(logicalId(stack, roles['Operator'])))).toMatchObject({ namespaces: ['*'], access: 'read' });
  });
});

it('refuses at synth more grants than the authorizer’s environment holds (Lambda’s 4 KB)', () => {
  expect(() =>
    controlPlaneStack({}, (s) => {
      for (let i = 0; i < 25; i++)
        s.httpApi.grantNamespaces(new iam.Role(s, `Team${i}`, { assumedBy: new iam.AccountRootPrincipal() }), { namespaces: [`team-${i}`], access: 'write' });
    }),
  ).toThrow(/grants make an ACCESS_ENTRIES of about \d+ bytes/);
});

describe('one grant, both doors: the authorizer decides each route as IAM decides the SigV4 request', () => {
  const ROUTES: [string, string][] = [
    ['GET', '/apis'],
    ['GET', '/healthz'],
    ['GET', `${BASE}/machines`],
    ['GET', ns('team-a', '/machines')],
    ['POST', ns('team-a', '/machinedeployments')],
    ['DELETE', ns('team-a', '/clusters/prod')],
    ['PUT', ns('team-a', '/machines/m-1/status')],
    ['PATCH', ns('team-c', '/machines/m-1/status')],
    ['GET', ns('team-a', '/clusters/prod/kubeconfig')],
    ['GET', ns('team-b', '/machines')],
    ['PUT', ns('team-b', '/machinedeployments/md-0')],
    ['GET', ns('team-ab', '/machines')],
  ];
  it.each(['TeamAWriter', 'TeamAReader', 'TeamAAdmin', 'StatusController', 'Operator'])('%s', async (who) => {
    const roleId = logicalId(stack, roles[who]);
    const sigv4Api = resolve({ Ref: logicalId(stack, stack.httpApi.api) }, resources) as string;
    const kubectlApi = resolve({ Ref: kubectlApiId() }, resources) as string;
    const identity = identityPolicyOf(template, roleId);
    for (const [method, path] of ROUTES) {
      const methodArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${kubectlApi}/v1/${method}${path}`;
      const policy = policyFor(`arn:aws:iam::${ACCOUNT}:role/${roleId}`, entries(), methodArn);
      const viaToken = await decide(policy as never, { action: 'execute-api:Invoke', resource: methodArn });
      const viaSigV4 = await decide(identity, {
        action: 'execute-api:Invoke',
        resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${sigv4Api}/v1/${method}${path}`,
      });
      expect(viaToken === 'Allowed', `${who} ${method} ${path}: SigV4 ${viaSigV4}, token ${viaToken}`).toBe(viaSigV4 === 'Allowed');
    }
  });
});
