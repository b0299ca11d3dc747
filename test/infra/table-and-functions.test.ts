/** The object table and the Lambda handlers of ControlPlaneStack, as synthesized. */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_KEYS } from '../../functions/adapters/dynamodb/table.js';
import { API_FUNCTION_TIMEOUT_SECONDS, MAX_STREAMED_WATCH_SECONDS } from '../../functions/handlers/http.js';
import type { ClusterlessApp } from '../../infra/app.js';
import { HANDLERS, type HandlerName } from '../../infra/control-plane-stack.js';
import { STACK_UUID, resolve } from './iam-eval.js';
import { controlPlaneStack, controlPlaneTemplate, logicalId, resourcesOf, type Resources } from './support.js';

let app: ClusterlessApp;
let template: Template;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
});

const fn = (name: HandlerName) =>
  resourcesOf(template, 'AWS::Lambda::Function')[logicalId(app.controlPlane, app.controlPlane.functions[name].function)]!.Properties;

describe('the object table', () => {
  it('has the key schema and kind index of table.ts', () => {
    const { partitionKey, sortKey, kindIndex } = TABLE_KEYS;
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: kindIndex.indexName,
          KeySchema: [
            { AttributeName: kindIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: kindIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      AttributeDefinitions: Match.arrayWith([{ AttributeName: kindIndex.partitionKey, AttributeType: 'S' }]),
    });
  });

  it('is on-demand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
  });

  it('has point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
  });

  it('is encrypted with its customer-managed key', () => {
    const key = logicalId(app.controlPlane, app.controlPlane.objectTable.key);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } },
    });
  });

  it('streams new and old images', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
  });

  it('is protected from deletion and retained with the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ DeletionProtectionEnabled: true }) });
  });

  it('expires by TTL only what carries the ttl attribute: Events an hour after they were last observed, and the watch log', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } });
  });
});

describe('the handlers', () => {
  const names = Object.keys(HANDLERS) as HandlerName[];

  it('are one function per handler file', () => {
    const ours = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).filter(
      (f) => (f.Properties['Environment'] as { Variables?: Record<string, string> } | undefined)?.Variables?.['POWERTOOLS_SERVICE_NAME'],
    );
    expect(ours).toHaveLength(names.length);
    expect(new Set(names.map((n) => HANDLERS[n].entry)).size).toBe(names.length);
  });

  it.each(names)('%s runs nodejs22.x on arm64', (name) => {
    expect(fn(name)).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
  });

  it.each(names)('%s has active X-Ray tracing', (name) => {
    expect(fn(name)['TracingConfig']).toEqual({ Mode: 'Active' });
  });

  it.each(names)('%s has the Powertools environment with its service name', (name) => {
    expect((fn(name)['Environment'] as { Variables: Record<string, string> }).Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: HANDLERS[name].serviceName,
      POWERTOOLS_METRICS_NAMESPACE: 'Clusterless',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_LOGGER_LOG_EVENT: 'false',
      POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
    });
  });

  it.each(names)('%s sets no NODE_OPTIONS: its bundle maps stack traces itself, when one is read, not Node at import', (name) => {
    expect((fn(name)['Environment'] as { Variables: Record<string, unknown> }).Variables['NODE_OPTIONS']).toBeUndefined();
  });

  it.each(names)('%s logs to its own encrypted log group with a retention', (name) => {
    const group = (fn(name)['LoggingConfig'] as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const logGroup = resourcesOf(template, 'AWS::Logs::LogGroup')[group]!.Properties;
    expect(logGroup['RetentionInDays']).toBe(30);
    expect(logGroup['KmsKeyId']).toEqual({ 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.logs.key), 'Arn'] });
  });

  it.each(['http', 'kubeconfig', 'reconcile', 'provision', 'rollout', 'remediate', 'teardown', 'sweep', 'fleet-resource'] as HandlerName[])(
    '%s is told the table by TABLE_NAME',
    (name) => {
      expect((fn(name)['Environment'] as { Variables: Record<string, unknown> }).Variables['TABLE_NAME']).toEqual({
        Ref: logicalId(app.controlPlane, app.controlPlane.objectTable.table),
      });
    },
  );

  it.each(['stream', 'sweep', 'instance-events'] as HandlerName[])(
    '%s is told the reconcile-cluster state machine by RECONCILE_CLUSTER_STATE_MACHINE_ARN',
    (name) => {
      const reconcile = logicalId(app.controlPlane, app.controlPlane.workflows.stateMachines['reconcile-cluster']);
      expect((fn(name)['Environment'] as { Variables: Record<string, unknown> }).Variables['RECONCILE_CLUSTER_STATE_MACHINE_ARN']).toEqual({ Ref: reconcile });
    },
  );

  // Every task reaches workload clusters through their CA, and the kubeconfig function signs admin kubeconfigs;
  // the sweep lists the nodes of health-checked clusters the same way.
  it.each(['reconcile', 'provision', 'rollout', 'remediate', 'teardown', 'kubeconfig', 'sweep'] as HandlerName[])(
    '%s is told the secrets key and name prefix',
    (name) => {
      expect((fn(name)['Environment'] as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        SECRETS_KMS_KEY_ARN: { 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.secrets.key), 'Arn'] },
      });
      expect(
        resolve(
          (fn(name)['Environment'] as { Variables: Record<string, unknown> }).Variables['SECRETS_NAME_PREFIX'],
          template.toJSON()['Resources'] as Resources,
        ),
      ).toBe(`clusterless/${STACK_UUID}/`);
    },
  );

  it('reconcile times out with its state (240 s), the step tasks with theirs (60 s), the API after its longest streamed watch (300 s), kubeconfig within 29 s', () => {
    expect([fn('reconcile')['Timeout'], fn('provision')['Timeout'], fn('http')['Timeout'], fn('kubeconfig')['Timeout']]).toEqual([240, 60, 300, 29]);
    expect(fn('http')['Timeout']).toBe(API_FUNCTION_TIMEOUT_SECONDS);
    expect(API_FUNCTION_TIMEOUT_SECONDS).toBeGreaterThan(MAX_STREAMED_WATCH_SECONDS);
  });

  it('reserves concurrency where a runaway loop could cost: reconcile, the sweep, instance events', () => {
    expect([fn('reconcile'), fn('sweep'), fn('instance-events'), fn('http')].map((f) => f['ReservedConcurrentExecutions'])).toEqual([50, 1, 10, undefined]);
  });
});

describe('the replicas limit of a MachineDeployment (maxMachineDeploymentReplicas)', () => {
  const variablesOf = (t: Template, stack: ClusterlessApp['controlPlane'], name: HandlerName) =>
    (
      resourcesOf(t, 'AWS::Lambda::Function')[logicalId(stack, stack.functions[name].function)]!.Properties['Environment'] as {
        Variables: Record<string, unknown>;
      }
    ).Variables;

  it.each(['http', 'fleet-resource'] as HandlerName[])('is 1000 by default for %s (MAX_MACHINE_DEPLOYMENT_REPLICAS)', (name) => {
    expect(variablesOf(template, app.controlPlane, name)['MAX_MACHINE_DEPLOYMENT_REPLICAS']).toBe('1000');
  });

  it('is what the prop says, for the API and the fleet resource, and for no other function', () => {
    const { stack, template: t } = controlPlaneStack({ maxMachineDeploymentReplicas: 50 });
    for (const name of Object.keys(HANDLERS) as HandlerName[])
      expect(variablesOf(t, stack, name)['MAX_MACHINE_DEPLOYMENT_REPLICAS'], name).toBe(['http', 'fleet-resource'].includes(name) ? '50' : undefined);
  });

  it.each([0, -1, 2.5, Number.NaN, 2 ** 31, 1e21, Number.POSITIVE_INFINITY])('refuses %s at synth, as the functions would refuse to start with it', (value) => {
    expect(() => controlPlaneStack({ maxMachineDeploymentReplicas: value })).toThrow(/maxMachineDeploymentReplicas/);
  });

  it('takes the largest int32', () => {
    const { stack, template: t } = controlPlaneStack({ maxMachineDeploymentReplicas: 2 ** 31 - 1 });
    expect(variablesOf(t, stack, 'http')['MAX_MACHINE_DEPLOYMENT_REPLICAS']).toBe('2147483647');
  });
});
