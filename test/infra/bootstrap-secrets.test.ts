/**
 * Who may do what with the bootstrap secrets, evaluated as AWS evaluates the synthesized policies: a node reads
 * (and deletes) only the secret bound to its own instance, never the certificates; the provision task creates and
 * tags secrets only under this installation's prefix and only with the clusterless tag keys; every request the
 * bootstrap code sends (captured on moto_server, test/infra/secret-requests.ts) is allowed to the function that
 * sends it, and the functions read nothing but what their code reads.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { TagKeys } from '../../functions/adapters/aws/tags.js';
import { secretNames } from '../../functions/bootstrap/names.js';
import type { ClusterlessApp } from '../../infra/app.js';
import { BootstrapSecrets } from '../../infra/constructs/bootstrap-secrets.js';
import type { HandlerName } from '../../infra/control-plane-stack.js';
import { STACK_UUID, arns, decide, identityPolicyOf, resolve, type PolicyDocument } from './iam-eval.js';
import { captureSecretRequests, type SecretCaller, type SecretRequest } from './secret-requests.js';
import { controlPlaneTemplate, logicalId, type Resources } from './support.js';

let app: ClusterlessApp;
let template: Template;
let resources: Resources;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
  resources = template.toJSON()['Resources'] as Resources;
});

const OTHER = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const names = (installation = STACK_UUID) => secretNames(`clusterless/${installation}/`);
const MACHINE = names().machine('default', 'prod', '6f1c7c1e-0000-4000-8000-000000000001');
const INSTANCE = arns.instance('i-0aaaaaaaaaaaaaaaa');
const ANOTHER_INSTANCE = arns.instance('i-0bbbbbbbbbbbbbbbb');
const policyOfRole = (role: iam.IRole): PolicyDocument => identityPolicyOf(template, logicalId(app.controlPlane, role));
const policyOf = (name: HandlerName): PolicyDocument => policyOfRole(app.controlPlane.functions[name].role);

/** A node's request for a secret bound (by tag) to `boundTo`, made with the instance credentials of `caller`. */
const nodeRequest = (action: string, secret: string, boundTo: string | undefined, caller: string) => ({
  action,
  resource: arns.secret(secret),
  context: { 'ec2:SourceInstanceARN': caller, ...(boundTo ? { [`aws:ResourceTag/${TagKeys.instanceArn}`]: boundTo } : {}) },
});

describe('a node (NodeRoles, grantFetchBootstrapData)', () => {
  it.each(['controlPlane', 'worker'] as const)('%s: reads and deletes the bootstrap secret bound to its own instance', async (which) => {
    const policy = policyOfRole(app.controlPlane.nodeRoles[which]);
    for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'])
      expect(await decide(policy, nodeRequest(action, MACHINE, INSTANCE, INSTANCE)), action).toBe('Allowed');
  });

  it.each(['controlPlane', 'worker'] as const)("%s: is denied another instance's bootstrap secret, and one not bound yet", async (which) => {
    const policy = policyOfRole(app.controlPlane.nodeRoles[which]);
    for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret']) {
      expect(await decide(policy, nodeRequest(action, MACHINE, ANOTHER_INSTANCE, INSTANCE)), action).not.toBe('Allowed');
      expect(await decide(policy, nodeRequest(action, MACHINE, undefined, INSTANCE)), action).not.toBe('Allowed');
    }
  });

  it.each(['controlPlane', 'worker'] as const)(
    "%s: is denied the cluster's certificates, and another installation's secrets, even tagged with its ARN",
    async (which) => {
      const policy = policyOfRole(app.controlPlane.nodeRoles[which]);
      expect(await decide(policy, nodeRequest('secretsmanager:GetSecretValue', names().certificates('default', 'prod'), INSTANCE, INSTANCE))).not.toBe(
        'Allowed',
      );
      expect(await decide(policy, nodeRequest('secretsmanager:GetSecretValue', names(OTHER).machine('default', 'prod', 'u'), INSTANCE, INSTANCE))).not.toBe(
        'Allowed',
      );
    },
  );

  it('is the same for a role of your own given grantFetchBootstrapData', async () => {
    // Prepare: a node role as a user defines it, in a stack of its own
    const stack = new Stack(new App(), 'Nodes');
    const secrets = new BootstrapSecrets(stack, 'Secrets', { namePrefix: `clusterless/${STACK_UUID}/` });
    const role = new iam.Role(stack, 'NodeRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    // Act
    secrets.grantFetchBootstrapData(role);
    const policy = identityPolicyOf(Template.fromStack(stack), logicalId(stack, role));
    // Assess
    expect(await decide(policy, nodeRequest('secretsmanager:GetSecretValue', MACHINE, INSTANCE, INSTANCE))).toBe('Allowed');
    expect(await decide(policy, nodeRequest('secretsmanager:GetSecretValue', MACHINE, ANOTHER_INSTANCE, INSTANCE))).not.toBe('Allowed');
    const actions = [...new Set(policy.Statement.flatMap((s) => [s['Action']].flat() as string[]))].sort();
    expect(actions).toEqual(['kms:Decrypt', 'secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue']);
  });
});

describe('tagging secrets (provision)', () => {
  const tagContext = (tags: Record<string, string>) => ({
    'aws:TagKeys': Object.keys(tags),
    ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
  });

  it('binds a bootstrap secret to its instance once the instance exists (TagResource of the instance-arn tag)', async () => {
    const bind = { action: 'secretsmanager:TagResource', resource: arns.secret(MACHINE), context: tagContext({ [TagKeys.instanceArn]: INSTANCE }) };
    expect(await decide(policyOf('provision'), bind)).toBe('Allowed');
  });

  it.each([
    { name: 'a tag key that is not clusterless', secret: MACHINE, tags: { Owner: 'me' } },
    { name: 'a clusterless tag with another key beside it', secret: MACHINE, tags: { [TagKeys.installation]: STACK_UUID, Owner: 'me' } },
    { name: "another installation's id", secret: MACHINE, tags: { [TagKeys.installation]: OTHER } },
    {
      name: 'an instance ARN of another account',
      secret: MACHINE,
      tags: { [TagKeys.instanceArn]: 'arn:aws:ec2:us-east-1:999999999999:instance/i-0aaaaaaaaaaaaaaaa' },
    },
    { name: 'a secret of another installation', secret: names(OTHER).machine('default', 'prod', 'u'), tags: { [TagKeys.installation]: OTHER } },
    { name: 'a secret outside clusterless/', secret: 'prod/database', tags: { [TagKeys.installation]: STACK_UUID } },
  ] as { name: string; secret: string; tags: Record<string, string> }[])('refuses to tag with $name', async ({ secret, tags }) => {
    expect(await decide(policyOf('provision'), { action: 'secretsmanager:TagResource', resource: arns.secret(secret), context: tagContext(tags) })).not.toBe(
      'Allowed',
    );
  });

  it.each(['reconcile', 'rollout', 'remediate', 'teardown', 'sweep'] as HandlerName[])(
    '%s may tag no secret (it cannot rebind one to another instance)',
    async (name) => {
      const bind = { action: 'secretsmanager:TagResource', resource: arns.secret(MACHINE), context: tagContext({ [TagKeys.instanceArn]: INSTANCE }) };
      expect(await decide(policyOf(name), bind)).not.toBe('Allowed');
    },
  );
});

describe('every request the bootstrap code sends (captured from a run on moto_server)', () => {
  let requests: Record<SecretCaller, SecretRequest[]>;
  const keyArn = () => resolve({ 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.secrets.key), 'Arn'] }, resources) as string;
  const ROLES: Record<SecretCaller, HandlerName[]> = {
    provision: ['provision'],
    reconciling: ['reconcile', 'rollout', 'remediate', 'teardown'],
    kubeconfig: ['kubeconfig'],
    sweep: ['sweep'],
  };
  /** A secret named with Secrets Manager's random suffix (it exists), and without (it does not yet). */
  const bothArns = (name: string) => [arns.secret(name), arns.secret(name).replace(/-AbCdEf$/, '')];

  beforeAll(async () => {
    requests = await captureSecretRequests({
      motoEndpoint: motoEndpoint(),
      installationId: STACK_UUID,
      kmsKeyArn: keyArn(),
      instanceArnPrefix: arns.instance(''),
    });
  });

  /** The IAM requests one SDK request makes: itself, and TagResource for a CreateSecret with Tags. */
  const iamRequestsOf = (r: SecretRequest) => {
    const tags = Object.keys(r.tags).length
      ? { 'aws:TagKeys': Object.keys(r.tags), ...Object.fromEntries(Object.entries(r.tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])) }
      : {};
    const own = { action: r.action, context: { ...tags, ...(r.kmsKeyId ? { 'secretsmanager:KmsKeyArn': r.kmsKeyId } : {}) } };
    return r.action === 'secretsmanager:CreateSecret' && Object.keys(r.tags).length ? [own, { action: 'secretsmanager:TagResource', context: tags }] : [own];
  };

  it('were made: secrets created with tags, bound, read, deleted, by each function', () => {
    const actions = (caller: SecretCaller) => [...new Set(requests[caller].map((r) => r.action))].sort();
    expect(actions('provision')).toEqual([
      'secretsmanager:CreateSecret',
      'secretsmanager:DeleteSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:TagResource',
    ]);
    const created = requests.provision.filter((r) => r.action === 'secretsmanager:CreateSecret' && Object.keys(r.tags).length > 0).map((r) => r.name);
    expect(created.some((n) => n.endsWith('/certificates'))).toBe(true);
    expect(created.some((n) => n.includes('/machines/'))).toBe(true);
    expect(actions('reconciling')).toEqual(['secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue']);
    expect(actions('kubeconfig')).toEqual(['secretsmanager:GetSecretValue']);
    expect(actions('sweep')).toEqual(['secretsmanager:GetSecretValue']);
  });

  it.each(Object.entries(ROLES).flatMap(([caller, names]) => names.map((name) => [name, caller as SecretCaller] as const)))(
    '%s may send every request of the %s code: its action, tags and key, named with or without the suffix',
    async (name, caller) => {
      const refused: string[] = [];
      for (const r of requests[caller])
        for (const request of iamRequestsOf(r))
          for (const resource of bothArns(r.name))
            if ((await decide(policyOf(name), { ...request, resource })) !== 'Allowed')
              refused.push(`${request.action} ${resource} ${JSON.stringify(request.context)}`);
      expect(refused).toEqual([]);
    },
  );

  it.each(['provision', 'reconcile', 'rollout', 'remediate', 'teardown', 'kubeconfig', 'sweep'] as HandlerName[])(
    "%s reads no machine's bootstrap secret (its code reads the clusters' certificates only)",
    async (name) => {
      for (const resource of bothArns(MACHINE))
        expect(await decide(policyOf(name), { action: 'secretsmanager:GetSecretValue', resource }), resource).not.toBe('Allowed');
    },
  );
});
