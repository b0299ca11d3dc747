/**
 * What the event sources share: the Lambda function a template value names, SQS on moto for the dead-letter queues,
 * and Lambda's asynchronous invocation (the EventBridge rule's and Scheduler's Lambda targets are invoked that way).
 */
import { randomUUID } from 'node:crypto';
import { GetQueueUrlCommand, SQSClient, SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { AccessDeniedError, type Authorize, type Invoke, type Json, type PolicyStatement, REGION } from '../account.js';
import type { Deployment } from '../template.js';

/** What every event source is given: the template, moto, how to invoke a function and how to ask IAM. */
export interface EventSourceOptions {
  deployment: Deployment;
  /** moto_server. */
  endpoint: string;
  invoke: Invoke;
  authorize: Authorize;
  /** Between reads of the source, and between retries (milliseconds). */
  pollMs?: number;
  /** Seconds of the emulated account per real second: windows, ages and schedules shrink by it. @default 1 */
  timeScale?: number;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What the runtime answers beyond a function's reserved concurrency (lambda-runtime.ts): Lambda never ran it. */
export const THROTTLED = 'Lambda.TooManyRequestsException';

/** moto with admin credentials, directly (not through the gateway): the services' own calls are not the functions'. */
export function motoClientConfig(endpoint: string) {
  return { region: REGION, endpoint, credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' } };
}

/** The logical id of the function a template value names: `{Ref: id}`, `{Fn::GetAtt: [id, 'Arn']}`, or its resolved ARN or name. */
export function functionLogicalId(deployment: Deployment, value: Json | undefined): string {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('Ref' in value) return String(value['Ref']);
    const getAtt = value['Fn::GetAtt'];
    if (getAtt) return (typeof getAtt === 'string' ? getAtt.split('.') : (getAtt as string[]))[0]!;
  }
  const resolved = String(deployment.resolve(value ?? null));
  const id = deployment.logicalIdOf(resolved) ?? deployment.logicalIdOf(resolved.replace(/:\$LATEST$/, ''));
  if (!id) throw new Error(`no function of the template is ${resolved}`);
  return id;
}

/** The function's ARN, as Lambda::Permission and the targets name it. */
export function functionArn(deployment: Deployment, functionId: string): string {
  return String(deployment.resolve({ 'Fn::GetAtt': [functionId, 'Arn'] }));
}

/** arn:aws:sqs:{region}:{account}:{name} -> the queue's URL on moto. */
export class Queues {
  readonly sqs: SQSClient;
  private readonly urls = new Map<string, string>();
  constructor(endpoint: string) {
    this.sqs = new SQSClient(motoClientConfig(endpoint));
  }
  async send(queueArn: string, body: string, attributes?: Record<string, MessageAttributeValue>): Promise<void> {
    let url = this.urls.get(queueArn);
    if (!url) {
      const [, , , , account, name] = queueArn.split(':');
      url = (await this.sqs.send(new GetQueueUrlCommand({ QueueName: name!, QueueOwnerAWSAccountId: account }))).QueueUrl!;
      this.urls.set(queueArn, url);
    }
    await this.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, ...(attributes ? { MessageAttributes: attributes } : {}) }));
  }
  stop(): void {
    this.sqs.destroy();
  }
}

export const stringAttribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/**
 * Whether an AWS::Lambda::Permission of the template lets a service invoke a function for a source: Lambda's
 * resource policy, as `aws lambda add-permission` writes it (SourceArn may have `*` wildcards, as API Gateway's do).
 */
export function lambdaPermits(deployment: Deployment, functionId: string, service: string, sourceArn: string): boolean {
  const arn = functionArn(deployment, functionId);
  for (const id of deployment.ofType('AWS::Lambda::Permission')) {
    const p = deployment.resource(id).Properties ?? {};
    if (p['Principal'] !== service || (p['Action'] !== 'lambda:InvokeFunction' && p['Action'] !== 'lambda:*')) continue;
    let target: string;
    try {
      target = String(deployment.resolve(p['FunctionName']));
    } catch {
      continue;
    }
    if (target !== arn && target !== String(deployment.resolve({ Ref: functionId }))) continue;
    if (p['SourceArn'] === undefined) return true;
    let pattern: string;
    try {
      pattern = String(deployment.resolve(p['SourceArn']));
    } catch {
      continue;
    }
    if (arnLike(pattern, sourceArn)) return true;
  }
  return false;
}

/** IAM's ArnLike: `*` any run of characters (`/` included), `?` one. */
export function arnLike(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}

/** The function's AWS::Lambda::EventInvokeConfig: retries and the on-failure destination of asynchronous invocations. */
export interface AsyncConfig {
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
  onFailure?: string;
}

/** Lambda's defaults: two retries, six hours (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). */
export function asyncConfigOf(deployment: Deployment, functionId: string): AsyncConfig {
  for (const id of deployment.ofType('AWS::Lambda::EventInvokeConfig')) {
    const p = deployment.resource(id).Properties ?? {};
    if (functionLogicalId(deployment, p['FunctionName']) !== functionId) continue;
    const destination = (p['DestinationConfig'] as { OnFailure?: { Destination?: Json } } | undefined)?.OnFailure?.Destination;
    return {
      maximumRetryAttempts: Number(p['MaximumRetryAttempts'] ?? 2),
      maximumEventAgeSeconds: Number(p['MaximumEventAgeInSeconds'] ?? 21600),
      ...(destination ? { onFailure: String(deployment.resolve(destination)) } : {}),
    };
  }
  return { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21600 };
}

export interface AsyncInvokeOptions {
  deployment: Deployment;
  invoke: Invoke;
  authorize: Authorize;
  queues: Queues;
  /** Between retries (Lambda waits a minute, then two): short, as the whole run is. */
  retryDelayMs: number;
  /** Seconds of the emulated account per real second. */
  timeScale: number;
  stopped: () => boolean;
}

export type AsyncOutcome = 'succeeded' | 'failed' | 'dead-lettered';

/**
 * Lambda's asynchronous invocation after it accepted the event: the function runs, a function error is retried
 * MaximumRetryAttempts times while the event is younger than MaximumEventAgeInSeconds, then the event goes to the
 * OnFailure destination (SQS) with the execution role, in the invocation record Lambda writes.
 */
export async function invokeAsync(o: AsyncInvokeOptions, functionId: string, event: unknown, errors: Error[]): Promise<AsyncOutcome> {
  const config = asyncConfigOf(o.deployment, functionId);
  const requestId = randomUUID();
  const accepted = Date.now();
  let attempts = 0;
  let last: { errorType: string; errorMessage: string } = { errorType: 'Unknown', errorMessage: '' };
  let condition = 'RetriesExhausted';
  for (;;) {
    attempts++;
    const result = await o.invoke(functionId, event);
    if (result.ok) return 'succeeded';
    // A throttle is not an attempt: Lambda puts the event back in its queue until it is too old (invocation-async-error-handling.html).
    if (result.errorType === THROTTLED && ((Date.now() - accepted) * o.timeScale) / 1000 <= config.maximumEventAgeSeconds && !o.stopped()) {
      attempts--;
      await sleep(o.retryDelayMs);
      continue;
    }
    last = { errorType: result.errorType, errorMessage: result.errorMessage };
    if (attempts > config.maximumRetryAttempts) break;
    if (((Date.now() - accepted) * o.timeScale) / 1000 > config.maximumEventAgeSeconds) {
      condition = 'EventAgeExceeded';
      break;
    }
    if (o.stopped()) return 'failed';
    await sleep(o.retryDelayMs);
  }
  if (!config.onFailure) return 'failed';
  try {
    await o.authorize(o.deployment.roleOfFunction(functionId), 'sqs:SendMessage', [{ action: 'sqs:SendMessage', resource: config.onFailure, context: {} }]);
  } catch (err) {
    if (!(err instanceof AccessDeniedError)) throw err;
    errors.push(err);
    return 'failed';
  }
  // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
  const record = {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: { requestId, functionArn: `${functionArn(o.deployment, functionId)}:$LATEST`, condition, approximateInvokeCount: attempts },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: last,
  };
  await o.queues.send(config.onFailure, JSON.stringify(record));
  return 'dead-lettered';
}

/**
 * Whether a queue's resource policy (AWS::SQS::QueuePolicy of the template) lets a service send to it for a source,
 * as an EventBridge rule's dead-letter queue needs (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html,
 * "Granting permissions to the dead-letter queue"). The conditions the control plane writes are understood:
 * aws:SourceArn and aws:SourceAccount (ArnEquals, ArnLike, StringEquals) and aws:SecureTransport (always TLS here).
 */
export function queuePolicyAllows(deployment: Deployment, queueArn: string, service: string, sourceArn: string): boolean {
  const context: Record<string, string> = { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceArn.split(':')[4] ?? '', 'aws:SecureTransport': 'true' };
  let allowed = false;
  for (const id of deployment.ofType('AWS::SQS::QueuePolicy')) {
    let props: { PolicyDocument?: { Statement?: PolicyStatement[] } };
    try {
      props = deployment.resolve(deployment.resource(id).Properties as Json) as typeof props;
    } catch {
      continue;
    }
    for (const s of props.PolicyDocument?.Statement ?? []) {
      const actions = [s.Action ?? []].flat();
      if (!actions.some((a) => a === 'sqs:SendMessage' || a === 'sqs:*' || a === '*')) continue;
      if (![s.Resource ?? []].flat().some((r) => arnLike(r, queueArn))) continue;
      const principal = s.Principal as { Service?: string | string[]; AWS?: string | string[] } | string | undefined;
      const forService =
        principal === '*' ||
        (typeof principal === 'object' && ([principal.Service ?? []].flat().includes(service) || [principal.AWS ?? []].flat().includes('*')));
      if (!forService || !conditionsHold(s.Condition, context)) continue;
      if (s.Effect === 'Deny') return false;
      allowed = true;
    }
  }
  return allowed;
}

function conditionsHold(condition: PolicyStatement['Condition'], context: Record<string, string>): boolean {
  for (const [operator, tests] of Object.entries(condition ?? {}))
    for (const [key, expected] of Object.entries(tests)) {
      const value = context[key];
      const values = [expected].flat().map(String);
      if (value === undefined) return false;
      const ok =
        operator === 'ArnLike' || operator === 'StringLike'
          ? values.some((v) => arnLike(v, value))
          : operator === 'ArnEquals' || operator === 'StringEquals' || operator === 'Bool'
            ? values.includes(value)
            : false;
      if (!ok) return false;
    }
  return true;
}
