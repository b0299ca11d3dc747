/**
 * `get kubeconfig` is a permission of its own and never the resource API's: its route goes to the kubeconfig
 * function, the only function of the API that may read the clusters' certificates (and only them; the tasks and the
 * sweep read them too, to reach the workload clusters), while the http function gets no Secrets Manager access and
 * no use of the secrets key at all.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { secretNames } from '../../functions/bootstrap/names.js';
import { INSTALLATION_ENV } from '../../functions/installation.js';
import type { ClusterlessApp } from '../../infra/app.js';
import type { HandlerName } from '../../infra/control-plane-stack.js';
import { STACK_UUID, arns, decide, identityPolicyOf, resolve } from './iam-eval.js';
import { actionsOf, controlPlaneTemplate, logicalId, resourcesOf, statementsOfRole, type Resources } from './support.js';

let app: ClusterlessApp;
let template: Template;
let resources: Resources;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
  resources = template.toJSON()['Resources'] as Resources;
});

const KUBECONFIG_PATH = '/apis/clusterless.dev/v1alpha1/namespaces/{namespace}/clusters/{name}/kubeconfig';
const functionArn = (name: HandlerName) => JSON.stringify({ 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.functions[name].function), 'Arn'] });
const integrationOf = (method: { httpMethod: string; resource: { path: string } }) => {
  const m = app.controlPlane.httpApi.api.methods.find((x) => x.httpMethod === method.httpMethod && x.resource.path === method.resource.path)!;
  return JSON.stringify((resourcesOf(template, 'AWS::ApiGateway::Method')[logicalId(app.controlPlane, m)]!.Properties['Integration'] as { Uri: unknown }).Uri);
};
const variables = (name: HandlerName) =>
  (
    resourcesOf(template, 'AWS::Lambda::Function')[logicalId(app.controlPlane, app.controlPlane.functions[name].function)]!.Properties['Environment'] as {
      Variables: Record<string, unknown>;
    }
  ).Variables;
const names = secretNames(`clusterless/${STACK_UUID}/`);

describe('the kubeconfig route', () => {
  it('goes to the kubeconfig function, and no other route does', () => {
    for (const m of app.controlPlane.httpApi.api.methods) {
      const target = integrationOf(m);
      if (m.resource.path === KUBECONFIG_PATH) expect(target).toContain(functionArn('kubeconfig'));
      // The routes of import and move have a function of their own (test/infra/cluster-transfer.test.ts).
      else if (/\/(move|certificates|adopt)$/.test(m.resource.path)) expect(target).toContain(functionArn('cluster-transfer'));
      else expect(target, `${m.httpMethod} ${m.resource.path}`).toContain(functionArn('http'));
    }
    expect(app.controlPlane.httpApi.api.methods.filter((m) => m.resource.path === KUBECONFIG_PATH).map((m) => m.httpMethod)).toEqual(['GET']);
  });
});

describe('the http function', () => {
  it('has no Secrets Manager statement and no use of the secrets key', () => {
    const statements = statementsOfRole(template, logicalId(app.controlPlane, app.controlPlane.functions.http.role));
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    const secretsKey = logicalId(app.controlPlane, app.controlPlane.secrets.key);
    expect(statements.filter((s) => JSON.stringify(s.Resource).includes(secretsKey))).toEqual([]);
    // Its only KMS uses are the table's key, through DynamoDB, and the addon payloads' key, through S3.
    for (const s of statements.filter((x) => actionsOf(x).some((a) => a.startsWith('kms:')))) expect(JSON.stringify(s.Condition)).toMatch(/"(dynamodb|s3)\."/);
  });

  it('is not told the secrets key or prefix, so it cannot sign a kubeconfig', () => {
    expect(variables('http')['SECRETS_KMS_KEY_ARN']).toBeUndefined();
    expect(variables('http')['SECRETS_NAME_PREFIX']).toBeUndefined();
  });
});

describe('the kubeconfig function', () => {
  const policy = () => identityPolicyOf(template, logicalId(app.controlPlane, app.controlPlane.functions.kubeconfig.role));

  it("reads this installation's clusters' certificates, and no machine's bootstrap secret", async () => {
    expect(await decide(policy(), { action: 'secretsmanager:GetSecretValue', resource: arns.secret(names.certificates('team-k', 'prod')) })).toBe('Allowed');
    expect(await decide(policy(), { action: 'secretsmanager:GetSecretValue', resource: arns.secret(names.machine('team-k', 'prod', 'u-1')) })).not.toBe(
      'Allowed',
    );
    expect(
      await decide(policy(), {
        action: 'secretsmanager:GetSecretValue',
        resource: arns.secret(secretNames('clusterless/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/').certificates('team-k', 'prod')),
      }),
    ).not.toBe('Allowed');
  });

  it('may only read: certificates, single items of the table (GetItem: its code reads one Cluster) and its key through DynamoDB, the secrets key through Secrets Manager', () => {
    const actions = [...new Set(policy().Statement.flatMap((s) => [s['Action']].flat() as string[]))]
      .filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))
      .sort();
    expect(actions).toEqual(['dynamodb:GetItem', 'kms:Decrypt', 'kms:DescribeKey', 'secretsmanager:GetSecretValue']);
  });

  it('gets items of the table, and queries neither the table nor its kind index', async () => {
    const table = resolve({ 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.objectTable.table), 'Arn'] }, resources) as string;
    expect(await decide(policy(), { action: 'dynamodb:GetItem', resource: table })).toBe('Allowed');
    for (const resource of [table, `${table}/index/kind-index`])
      expect(await decide(policy(), { action: 'dynamodb:Query', resource }), resource).not.toBe('Allowed');
  });

  it('is told the table, the secrets key and prefix, and the installation', () => {
    const v = variables('kubeconfig');
    expect(v['TABLE_NAME']).toEqual({ Ref: logicalId(app.controlPlane, app.controlPlane.objectTable.table) });
    expect(v['SECRETS_KMS_KEY_ARN']).toEqual({ 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.secrets.key), 'Arn'] });
    expect(resolve(v['SECRETS_NAME_PREFIX'], resources)).toBe(`clusterless/${STACK_UUID}/`);
    expect(resolve(v[INSTALLATION_ENV.id], resources)).toBe(STACK_UUID);
  });
});
