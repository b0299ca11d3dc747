/**
 * What the tests that run parts of the synthesized stack on moto (test/e2e-aws: the kubectl door, watch, the
 * mirror) set up alike: a table with its stream, one stream consumer's mapping kept, and physical ids for the rest.
 */
import { DescribeTableCommand, type DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import type { Deployment, TemplateJson } from '../../e2e/aws/template.js';

/** Turns on the table's NEW_AND_OLD_IMAGES stream (as the stack declares it) and returns the stream's ARN. */
export async function enableStream(dynamodb: DynamoDBClient, tableName: string): Promise<string> {
  await dynamodb.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }));
  return (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table!.LatestStreamArn!;
}

/** Removes every event source mapping of the template but `functionId`'s (the stream has two consumers). */
export function keepOnlyMappingOf(template: TemplateJson, functionId: string): void {
  for (const [id, r] of Object.entries(template.Resources))
    if (r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties?.['FunctionName']) !== JSON.stringify({ Ref: functionId }))
      delete template.Resources[id];
}

/**
 * A physical id for every resource not set yet: roles and functions their ARNs, RestApis an id of API Gateway's
 * shape, stages their name, anything else a placeholder ARN (and queue name) that nothing calls.
 */
export function placeholderPhysicalIds(deployment: Deployment, account: string): void {
  const arn = (service: string, resource: string) => `arn:aws:${service}:us-east-1:${account}:${resource}`;
  for (const id of Object.keys(deployment.template.Resources)) {
    if (deployment.hasPhysical(id)) continue;
    const type = deployment.resource(id).Type;
    if (type === 'AWS::IAM::Role') deployment.setPhysical(id, { ref: id, attributes: { Arn: `arn:aws:iam::${account}:role/${id}` } });
    else if (type === 'AWS::Lambda::Function') deployment.setPhysical(id, { ref: id, attributes: { Arn: arn('lambda', `function:${id}`) } });
    else if (type === 'AWS::ApiGateway::RestApi')
      deployment.setPhysical(id, {
        ref: id
          .toLowerCase()
          .replace(/[^a-z0-9]/g, '')
          .slice(-10),
        attributes: { RootResourceId: 'r00t' },
      });
    else if (type === 'AWS::ApiGateway::Stage') deployment.setPhysical(id, { ref: String(deployment.resource(id).Properties?.['StageName']), attributes: {} });
    else deployment.setPhysical(id, { ref: id, attributes: { Arn: arn('placeholder', id), QueueName: id } });
  }
}
