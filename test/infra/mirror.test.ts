/**
 * The optional mirror into a management cluster (infra/constructs/mirror.ts): off by default; when asked for, a
 * function of its own on a second mapping of the table's stream with its own dead-letter queue, a schedule for the
 * import, one secret readable under the installation's prefix, and no unacknowledged cdk-nag finding; turned on from
 * `cdk deploy` by the app context `-c mirror=...` (infra/app.ts).
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { mirrorOptionsFromContext } from '../../infra/app.js';
import type { ControlPlaneStack } from '../../infra/control-plane-stack.js';
import { ClusterlessChecks } from '../../infra/nag/clusterless-checks.js';
import { controlPlaneStack, logicalId, newApp, resourcesOf } from './support.js';

let stack: ControlPlaneStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = controlPlaneStack({ mirror: { kubeconfigSecretName: 'mirror/mgmt' } }));
});

/** Every statement of the policies attached to a role, by its logical id. */
function statementsOf(t: Template, roleId: string): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  return Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties['Roles'] as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => (p.Properties['PolicyDocument'] as { Statement: never[] }).Statement);
}

describe('the mirror construct', () => {
  it('is not made without the mirror prop: one stream mapping, no mirror function', () => {
    const { stack: plain, template: t } = controlPlaneStack();
    expect(plain.mirror).toBeUndefined();
    expect(Object.keys(resourcesOf(t, 'AWS::Lambda::EventSourceMapping'))).toHaveLength(1);
  });

  it("consumes the table's stream with a mapping of its own, its own dead-letter queue, and objects only", () => {
    const mappings = resourcesOf(template, 'AWS::Lambda::EventSourceMapping');
    expect(Object.keys(mappings)).toHaveLength(2);
    const mirrorFn = logicalId(stack, stack.mirror!.handler.function);
    const [ours] = Object.values(mappings).filter((m) => (m.Properties['FunctionName'] as { Ref: string }).Ref === mirrorFn);
    const theirs = Object.values(mappings).find((m) => m !== ours)!;
    expect(ours!.Properties).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack, stack.mirror!.streamDeadLetterQueue.queue), 'Arn'] } } },
    });
    expect(ours!.Properties['DestinationConfig']).not.toEqual(theirs.Properties['DestinationConfig']);
    // Objects only, not Events (the stream function's filter admits those, for the watch log).
    expect(ours!.Properties['FilterCriteria']).toEqual({
      Filters: ['NewImage', 'OldImage'].map((image) => ({
        Pattern: JSON.stringify({ dynamodb: { [image]: { gsi1pk: { S: [{ 'anything-but': ['Event'] }] } } } }),
      })),
    });
  });

  it('runs the import every minute through EventBridge Scheduler with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      Target: Match.objectLike({
        Input: JSON.stringify({ source: 'clusterless.mirror' }),
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, stack.mirror!.syncDeadLetterQueue.queue), 'Arn'] } },
      }),
    });
  });

  it('reads that one secret under the installation prefix and no other, and runs one at a time', () => {
    const statements = statementsOf(template, logicalId(stack, stack.mirror!.handler.role));
    const secretReads = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(secretReads).toHaveLength(1);
    expect(secretReads[0]!.Action).toBe('secretsmanager:GetSecretValue');
    expect(JSON.stringify(secretReads[0]!.Resource)).toMatch(/:secret:clusterless\/".*\/mirror\/mgmt-\?\?\?\?\?\?"/);
    // Nothing of EC2, Step Functions or the bootstrap secrets' writes.
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => /^(ec2|states|iam|elasticloadbalancing):/.test(a))).toEqual([]);
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(stack, stack.mirror!.handler.function)]!;
    expect(fn.Properties['ReservedConcurrentExecutions']).toBe(1);
    expect((fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables).toMatchObject({ MIRROR_KUBECONFIG_SECRET: expect.anything() });
  });

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Clusterless)', () => {
    const findings = [new AwsSolutionsChecks(), new ClusterlessChecks()].flatMap((pack) =>
      pack.validateScope(stack.mirror!).violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    );
    expect(findings).toEqual([]);
  });
});

describe('the app context -c mirror', () => {
  const mirrorEnv = (stack: ControlPlaneStack) => {
    const fn = resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function')[logicalId(stack, stack.mirror!.handler.function)]!;
    return JSON.stringify((fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables['MIRROR_KUBECONFIG_SECRET']);
  };

  it('turns the mirror on with its defaults as `-c mirror=true` gives it, and leaves it off without the key', () => {
    // Act
    const on = newApp({ context: { mirror: 'true' } }).controlPlane;
    const off = newApp().controlPlane;
    // Assess
    expect(on.mirror).toBeDefined();
    expect(mirrorEnv(on)).toMatch(/\/mirror\/kubeconfig"/);
    Template.fromStack(on).hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 minute)' });
    expect(off.mirror).toBeUndefined();
  });

  it('takes the secret name and the sync interval as `-c mirror=JSON` gives them', () => {
    // Act
    const stack = newApp({ context: { mirror: '{"kubeconfigSecretName":"mirror/mgmt","syncInterval":"PT5M"}' } }).controlPlane;
    // Assess
    expect(mirrorEnv(stack)).toMatch(/\/mirror\/mgmt"/);
    Template.fromStack(stack).hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(5 minutes)' });
  });

  it.each([
    { name: 'not JSON', value: '{kubeconfigSecretName: x}', message: /-c mirror=\{kubeconfigSecretName: x\}: expected true or a JSON object/ },
    { name: 'an array', value: '[]', message: /expected true or a JSON object/ },
    { name: 'an unknown field', value: '{"secret":"x"}', message: /unknown field secret/ },
    { name: 'a name Secrets Manager refuses', value: '{"kubeconfigSecretName":"mirror kubeconfig"}', message: /kubeconfigSecretName: a secret name/ },
    { name: 'a name that is not a string', value: '{"kubeconfigSecretName":7}', message: /kubeconfigSecretName: a secret name/ },
    { name: 'an interval that is not ISO 8601', value: '{"syncInterval":"5 minutes"}', message: /syncInterval: an ISO 8601 duration of whole minutes/ },
    { name: 'an interval of seconds', value: '{"syncInterval":"PT90S"}', message: /syncInterval: an ISO 8601 duration of whole minutes/ },
    { name: 'an interval under a minute', value: '{"syncInterval":"PT0M"}', message: /syncInterval: an ISO 8601 duration of whole minutes/ },
  ])('refuses $name with an error naming the field, before synthesizing', ({ value, message }) => {
    expect(() => mirrorOptionsFromContext(value)).toThrow(message);
    expect(() => newApp({ context: { mirror: value } })).toThrow(message);
  });
});
