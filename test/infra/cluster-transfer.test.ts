/**
 * `clusterless import` and `clusterless move` on AWS: their routes go to the cluster transfer function (on both API
 * doors), the only function of the API that tags instances or creates secrets; its role is held to what its code
 * calls, each write conditioned on tags; and only a grant that writes a namespace and its status may call the routes,
 * on the SigV4 door (IAM statements) and the kubectl door (the token authorizer's policy) alike.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { secretNames } from '../../functions/bootstrap/names.js';
import { parseAccessEntries, policyFor } from '../../functions/handlers/token-authorizer.js';
import type { ControlPlaneStack, HandlerName } from '../../infra/control-plane-stack.js';
import { ACCOUNT, REGION, STACK_UUID, arns, decide, identityPolicyOf, resolve, type Request } from './iam-eval.js';
import { actionsOf, controlPlaneStack, logicalId, resourcesOf, statementsOfRole, type Resources } from './support.js';

const BASE = '/apis/clusterless.dev/v1alpha1';
const ns = (namespace: string, rest = '') => `${BASE}/namespaces/${namespace}${rest}`;
const TRANSFER_PATHS = [
  `${BASE}/namespaces/{namespace}/clusters/{name}/move`,
  `${BASE}/namespaces/{namespace}/clusters/{name}/certificates`,
  `${BASE}/namespaces/{namespace}/{plural}/{name}/adopt`,
];
const OTHER = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

let stack: ControlPlaneStack;
let template: Template;
let resources: Resources;
const roles: Record<string, iam.Role> = {};

beforeAll(() => {
  ({ stack, template } = controlPlaneStack({}, (s) => {
    const role = (name: string) => (roles[name] = new iam.Role(s, name, { assumedBy: new iam.AccountRootPrincipal() }));
    s.httpApi.grantNamespaces(role('TeamAWriter'), { namespaces: ['team-a'], access: 'write' });
    s.httpApi.grantNamespaces(role('TeamAReader'), { namespaces: ['team-a'], access: 'read' });
    s.httpApi.grantNamespaces(role('TeamAController'), { namespaces: ['team-a'], access: 'write', status: true });
    s.httpApi.grantNamespaces(role('StatusController'), { namespaces: ['team-a'], access: 'read', status: true });
    s.httpApi.grantAllNamespacesRead(role('Operator'), { kubeconfig: true });
  }));
  resources = template.toJSON()['Resources'] as Resources;
});

const fnId = (name: HandlerName) => logicalId(stack, stack.functions[name].function);
const statements = (name: HandlerName) => statementsOfRole(template, logicalId(stack, stack.functions[name].role));
const transferPolicy = () => identityPolicyOf(template, logicalId(stack, stack.functions['cluster-transfer'].role));
const uriOf = (m: Record<string, unknown>) => JSON.stringify((m['Integration'] as { Uri: unknown }).Uri);

describe('the routes of import and move', () => {
  it('go to the cluster transfer function on both doors, buffered, and no other route does', () => {
    // Prepare
    const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).map((m) => m.Properties);
    const transfer = JSON.stringify({ 'Fn::GetAtt': [fnId('cluster-transfer'), 'Arn'] });
    const pathOf = (api: typeof stack.httpApi.api) =>
      api.methods.filter((m) => TRANSFER_PATHS.includes(m.resource.path)).map((m) => `${m.httpMethod} ${m.resource.path.replace(BASE, '')}`);

    // Assess: the four methods on each door, and every method of the transfer function is one of them.
    for (const api of [stack.httpApi.api, stack.httpApi.kubectlApi!])
      expect(pathOf(api).sort()).toEqual([
        'GET /namespaces/{namespace}/clusters/{name}/move',
        'POST /namespaces/{namespace}/clusters/{name}/certificates',
        'POST /namespaces/{namespace}/clusters/{name}/move',
        'POST /namespaces/{namespace}/{plural}/{name}/adopt',
      ]);
    const toTransfer = methods.filter((m) => uriOf(m).includes(transfer));
    expect(toTransfer).toHaveLength(8);
    // Buffered (Invoke), as the kubeconfig function: one short answer, never a watch.
    for (const m of toTransfer) expect(uriOf(m)).not.toContain('response-streaming-invocations');
    expect(methods.filter((m) => uriOf(m).includes(JSON.stringify({ 'Fn::GetAtt': [fnId('http'), 'Arn'] })) && uriOf(m).includes('/adopt'))).toEqual([]);
  });
});

describe('the http function', () => {
  it('keeps no EC2 tagging and no Secrets Manager access', () => {
    const actions = statements('http').flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('ec2:') || a.startsWith('secretsmanager:'))).toEqual([]);
  });
});

describe('the cluster transfer function', () => {
  it('is granted only what its code calls: the store, the payloads, the certificates, EC2 describes and CreateTags', () => {
    const actions = [...new Set(statements('cluster-transfer').flatMap(actionsOf))].filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:')).sort();
    expect(actions.filter((a) => a.startsWith('ec2:'))).toEqual(['ec2:CreateTags', 'ec2:DescribeInstances', 'ec2:DescribeTags']);
    expect(actions.filter((a) => a.startsWith('secretsmanager:'))).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:TagResource',
    ]);
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
  });

  it('is told the table, the installation, the secrets key and prefix, and the payload bucket', () => {
    const env = (resources[fnId('cluster-transfer')]!.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual(
      expect.arrayContaining(['INSTALLATION_ID', 'PAYLOAD_BUCKET', 'SECRETS_KMS_KEY_ARN', 'SECRETS_NAME_PREFIX', 'TABLE_NAME']),
    );
    expect(resolve(env['INSTALLATION_ID'], resources)).toBe(STACK_UUID);
  });

  const ADOPTION_TAGS = {
    'clusterless.dev/installation': STACK_UUID,
    'clusterless.dev/cluster': 'team-a/prod',
    'clusterless.dev/machine-uid': 'u-1',
    'clusterless.dev/machine-name': 'prod-cp-0',
    'clusterless.dev/role': 'control-plane',
    'kubernetes.io/cluster/prod': 'owned',
  };
  const CAPA_INSTANCE = { 'sigs.k8s.io/cluster-api-provider-aws/role': 'control-plane', 'sigs.k8s.io/cluster-api-provider-aws/cluster/prod': 'owned' };
  const createTags = (resource: string, onResource: Record<string, string>, written: Record<string, string>): Request => ({
    action: 'ec2:CreateTags',
    resource,
    context: {
      ...Object.fromEntries(Object.entries(onResource).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
      ...Object.fromEntries(Object.entries(written).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
      'aws:TagKeys': Object.keys(written),
    },
  });

  it.each([
    ['adopts an instance of Cluster API AWS', CAPA_INSTANCE, ADOPTION_TAGS, 'Allowed'],
    ['not one without Cluster API AWS’s role tag', { Name: 'a stray' }, ADOPTION_TAGS, 'ImplicitlyDenied'],
    ['not one an installation owns already', { ...CAPA_INSTANCE, 'clusterless.dev/installation': OTHER }, ADOPTION_TAGS, 'ImplicitlyDenied'],
    ['not one a machine owns already', { ...CAPA_INSTANCE, 'clusterless.dev/machine-uid': 'u-0' }, ADOPTION_TAGS, 'ImplicitlyDenied'],
    ['not for another installation', CAPA_INSTANCE, { ...ADOPTION_TAGS, 'clusterless.dev/installation': OTHER }, 'ImplicitlyDenied'],
    ['not writing a key of anyone else', CAPA_INSTANCE, { ...ADOPTION_TAGS, Owner: 'me' }, 'ImplicitlyDenied'],
    [
      'hands this installation’s instance of a cluster over',
      { 'clusterless.dev/installation': STACK_UUID, 'clusterless.dev/cluster': 'team-a/prod' },
      { 'clusterless.dev/installation': OTHER },
      'Allowed',
    ],
    [
      'not another installation’s',
      { 'clusterless.dev/installation': OTHER, 'clusterless.dev/cluster': 'team-a/prod' },
      { 'clusterless.dev/installation': STACK_UUID },
      'ImplicitlyDenied',
    ],
    [
      'not changing anything but the installation',
      { 'clusterless.dev/installation': STACK_UUID, 'clusterless.dev/cluster': 'team-a/prod' },
      { 'clusterless.dev/installation': OTHER, 'clusterless.dev/cluster': 'team-b/prod' },
      'ImplicitlyDenied',
    ],
  ] as const)('CreateTags on an instance: %s', async (_name, onResource, written, expected) => {
    expect(await decide(transferPolicy(), createTags(arns.instance(), onResource, written))).toBe(expected);
  });

  it('hands over volumes of a cluster tagged with this installation, and no other volume', async () => {
    const ours = { 'clusterless.dev/installation': STACK_UUID, 'clusterless.dev/cluster': 'team-a/prod' };
    expect(await decide(transferPolicy(), createTags(arns.volume(), ours, { 'clusterless.dev/installation': OTHER }))).toBe('Allowed');
    expect(
      await decide(transferPolicy(), createTags(arns.volume(), { 'clusterless.dev/installation': STACK_UUID }, { 'clusterless.dev/installation': OTHER })),
    ).not.toBe('Allowed');
    // Adoption is of instances only.
    expect(await decide(transferPolicy(), createTags(arns.volume(), CAPA_INSTANCE, ADOPTION_TAGS))).not.toBe('Allowed');
  });

  it('deletes no tag, launches and terminates nothing', async () => {
    for (const action of ['ec2:DeleteTags', 'ec2:RunInstances', 'ec2:TerminateInstances', 'ec2:StopInstances'])
      expect(await decide(transferPolicy(), { action, resource: arns.instance() }), action).not.toBe('Allowed');
  });

  const names = secretNames(`clusterless/${STACK_UUID}/`);
  const keyArn = () => resolve({ 'Fn::GetAtt': [logicalId(stack, stack.secrets.key), 'Arn'] }, resources) as string;

  it("creates this installation's clusters' certificates with the secrets key, and no other secret", async () => {
    const create = (name: string, key: string) =>
      decide(transferPolicy(), { action: 'secretsmanager:CreateSecret', resource: arns.secret(name), context: { 'secretsmanager:KmsKeyArn': key } });
    expect(await create(names.certificates('team-a', 'prod'), keyArn())).toBe('Allowed');
    expect(await create(names.certificates('team-a', 'prod'), `arn:aws:kms:${REGION}:${ACCOUNT}:key/another`)).not.toBe('Allowed');
    expect(await create(names.machine('team-a', 'prod', 'u-1'), keyArn())).not.toBe('Allowed');
    expect(await create(secretNames(`clusterless/${OTHER}/`).certificates('team-a', 'prod'), keyArn())).not.toBe('Allowed');
    for (const action of ['secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'])
      expect(await decide(transferPolicy(), { action, resource: arns.secret(names.certificates('team-a', 'prod')) }), action).not.toBe('Allowed');
  });

  it("tags the certificates with their cluster's keys and this installation only", async () => {
    const tag = (written: Record<string, string>) =>
      decide(transferPolicy(), {
        action: 'secretsmanager:TagResource',
        resource: arns.secret(names.certificates('team-a', 'prod')),
        context: { ...Object.fromEntries(Object.entries(written).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': Object.keys(written) },
      });
    const tags = { 'clusterless.dev/installation': STACK_UUID, 'clusterless.dev/cluster': 'team-a/prod', 'clusterless.dev/cluster-uid': 'c-1' };
    expect(await tag(tags)).toBe('Allowed');
    expect(await tag({ ...tags, 'clusterless.dev/installation': OTHER })).not.toBe('Allowed');
    expect(await tag({ ...tags, 'clusterless.dev/instance-arn': arns.instance() })).not.toBe('Allowed');
  });
});

describe('who may call the routes of import and move, on both doors', () => {
  const entries = () => {
    const env = (resources[fnId('token-authorizer')]!.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    return parseAccessEntries(resolve(env['ACCESS_ENTRIES'] as never, resources) as string);
  };
  /** The decision of each door for one caller's request: SigV4 (the role's IAM statements) and token (the authorizer's policy). */
  async function doors(who: string, method: string, path: string): Promise<{ sigv4: boolean; token: boolean }> {
    const roleId = logicalId(stack, roles[who]);
    const sigv4Api = resolve({ Ref: logicalId(stack, stack.httpApi.api) }, resources) as string;
    const kubectlApi = resolve({ Ref: logicalId(stack, stack.httpApi.kubectlApi!) }, resources) as string;
    const methodArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${kubectlApi}/v1/${method}${path}`;
    const token = await decide(policyFor(`arn:aws:iam::${ACCOUNT}:role/${roleId}`, entries(), methodArn) as never, {
      action: 'execute-api:Invoke',
      resource: methodArn,
    });
    const sigv4 = await decide(identityPolicyOf(template, roleId), {
      action: 'execute-api:Invoke',
      resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${sigv4Api}/v1/${method}${path}`,
    });
    return { sigv4: sigv4 === 'Allowed', token: token === 'Allowed' };
  }
  const ROUTES: [string, string][] = [
    ['POST', ns('team-a', '/clusters/prod/move')],
    ['GET', ns('team-a', '/clusters/prod/move')],
    ['POST', ns('team-a', '/clusters/prod/certificates')],
    ['POST', ns('team-a', '/machines/prod-cp-0/adopt')],
  ];

  it.each(ROUTES)('a controller of the namespace (write and status) may %s %s', async (method, path) => {
    expect(await doors('TeamAController', method, path)).toEqual({ sigv4: true, token: true });
  });

  it.each(['TeamAWriter', 'TeamAReader', 'StatusController', 'Operator'])('%s may not use any of them', async (who) => {
    for (const [method, path] of ROUTES) expect(await doors(who, method, path), `${who} ${method} ${path}`).toEqual({ sigv4: false, token: false });
  });

  it('the controller of team-a may not in team-b; the others keep what they had (a writer writes, the operator reads)', async () => {
    expect(await doors('TeamAController', 'POST', ns('team-b', '/clusters/prod/move'))).toEqual({ sigv4: false, token: false });
    expect(await doors('TeamAWriter', 'POST', ns('team-a', '/machinedeployments'))).toEqual({ sigv4: true, token: true });
    expect(await doors('Operator', 'GET', ns('team-a', '/clusters/prod'))).toEqual({ sigv4: true, token: true });
  });

  it('refuses at synth two grants of one namespace that disagree on them (the Deny of one would cancel the other)', () => {
    expect(() =>
      controlPlaneStack({}, (s) => {
        const r = new iam.Role(s, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
        s.httpApi.grantNamespaces(r, { namespaces: ['team-a'], access: 'write', status: true });
        s.httpApi.grantNamespaces(r, { namespaces: ['team-a', 'team-b'], access: 'read' });
      }),
    ).toThrow(/import and move routes.*grant them in one call/);
  });
});
