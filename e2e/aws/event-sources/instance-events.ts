/**
 * EC2 instance state-change events, which moto does not emit: a poller of DescribeInstances (every state) that makes
 * the "EC2 Instance State-change Notification" event EventBridge would put on the default bus for each change it
 * sees (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html), and delivers it
 * to every ENABLED AWS::Events::Rule of the template whose pattern matches, as EventBridge delivers to a target
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html, eb-rule-dlq.html):
 *
 * - a Lambda target is invoked only if an AWS::Lambda::Permission lets events.amazonaws.com invoke the function for the
 *   rule's ARN; a refusal is not retried, and the event goes to the target's DeadLetterConfig queue (if the queue's
 *   policy lets the rule send) with the ERROR_CODE/ERROR_MESSAGE/RULE_ARN/TARGET_ARN attributes EventBridge adds;
 * - an invocation that cannot be made (the runtime throws) is retried under the target's RetryPolicy
 *   (MaximumRetryAttempts, MaximumEventAgeInSeconds), then dead-lettered the same way;
 * - once Lambda has accepted the event (asynchronous invocation), a function error is Lambda's to retry: the
 *   function's AWS::Lambda::EventInvokeConfig (common.ts invokeAsync), then its OnFailure destination.
 *
 * The instances that exist when the poller starts are its baseline: their current state is no change.
 */
import { randomUUID } from 'node:crypto';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ACCOUNT, type Json, PARTITION, REGION } from '../account.js';
import type { Deployment } from '../template.js';
import {
  Queues,
  type AsyncOutcome,
  functionLogicalId,
  invokeAsync,
  lambdaPermits,
  motoClientConfig,
  queuePolicyAllows,
  sleep,
  stringAttribute,
  type EventSourceOptions,
} from './common.js';
import { matchesPattern, parsePattern, type EventPattern } from './pattern.js';

export const STATE_CHANGE = 'EC2 Instance State-change Notification';

export interface InstanceEventsOptions extends EventSourceOptions {}

export interface InstanceEventsStats {
  /** State changes seen (events made). */
  events: number;
  /** Events a target's function processed. */
  delivered: number;
  /** Deliveries that failed for good: not permitted, retries exhausted, a function error after Lambda's retries. */
  failures: number;
  /** Events sent to a dead-letter queue or an on-failure destination. */
  dlq: number;
}

export interface InstanceStateChangeEvent {
  version: '0';
  id: string;
  'detail-type': typeof STATE_CHANGE;
  source: 'aws.ec2';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: { 'instance-id': string; state: string };
}

export interface InstanceEvents {
  stats: InstanceEventsStats;
  /** Every event made, in the order seen. */
  events: InstanceStateChangeEvent[];
  /** Why deliveries failed (a refused permission, a denied send), and failures of the poller. */
  errors: Error[];
  /** Every change that happened before the call seen, and its deliveries settled. */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

export class DeliveryError extends Error {
  override name = 'DeliveryError';
}

interface Target {
  id: string;
  arn: string;
  functionId?: string;
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
  deadLetterQueue?: string;
}

interface Rule {
  id: string;
  arn: string;
  pattern: EventPattern;
  targets: Target[];
}

function rulesOf(deployment: Deployment): Rule[] {
  const rules: Rule[] = [];
  for (const id of deployment.ofType('AWS::Events::Rule')) {
    const p = deployment.resource(id).Properties ?? {};
    if ((p['State'] ?? 'ENABLED') !== 'ENABLED' || p['EventPattern'] === undefined) continue;
    // Only the default bus carries AWS service events.
    if (p['EventBusName'] !== undefined && p['EventBusName'] !== 'default') continue;
    const targets = ((p['Targets'] ?? []) as Record<string, Json>[]).map((t): Target => {
      const arn = String(deployment.resolve(t['Arn']));
      const retry = (t['RetryPolicy'] ?? {}) as { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
      const dlq = (t['DeadLetterConfig'] as { Arn?: Json } | undefined)?.Arn;
      // The control plane's rule sends the event as it is; a target that reshapes it would be delivered wrong here.
      for (const reshape of ['Input', 'InputPath', 'InputTransformer'])
        if (t[reshape] !== undefined) throw new Error(`${id}/${String(t['Id'])}: ${reshape} is not emulated; the target would get the event unchanged`);
      return {
        id: String(t['Id']),
        arn,
        ...(arn.includes(':lambda:') ? { functionId: functionLogicalId(deployment, t['Arn']) } : {}),
        // EventBridge's defaults: 185 retries over 24 hours.
        maximumRetryAttempts: retry.MaximumRetryAttempts ?? 185,
        maximumEventAgeSeconds: retry.MaximumEventAgeInSeconds ?? 86400,
        ...(dlq ? { deadLetterQueue: String(deployment.resolve(dlq)) } : {}),
      };
    });
    rules.push({ id, arn: String(deployment.resolve({ 'Fn::GetAtt': [id, 'Arn'] })), pattern: parsePattern(p['EventPattern'] as object), targets });
  }
  return rules;
}

const isoSeconds = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

export async function startInstanceEvents(options: InstanceEventsOptions): Promise<InstanceEvents> {
  const { deployment } = options;
  const pollMs = options.pollMs ?? 200;
  const timeScale = options.timeScale ?? 1;
  const ec2 = new EC2Client(motoClientConfig(options.endpoint));
  const queues = new Queues(options.endpoint);
  const rules = rulesOf(deployment);
  const stats: InstanceEventsStats = { events: 0, delivered: 0, failures: 0, dlq: 0 };
  const events: InstanceStateChangeEvent[] = [];
  const errors: Error[] = [];
  const inflight = new Set<Promise<void>>();
  const known = new Map<string, string>();
  let stopped = false;
  let rounds = 0;

  async function describe(): Promise<[string, string][]> {
    const out: [string, string][] = [];
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeInstancesCommand({ ...(token ? { NextToken: token } : {}) }));
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) if (i.InstanceId && i.State?.Name) out.push([i.InstanceId, i.State.Name]);
      token = page.NextToken;
    } while (token);
    return out;
  }

  for (const [id, state] of await describe()) known.set(id, state);

  const loop = (async () => {
    while (!stopped) {
      try {
        for (const [id, state] of await describe()) {
          if (known.get(id) === state) continue;
          known.set(id, state);
          const event: InstanceStateChangeEvent = {
            version: '0',
            id: randomUUID(),
            'detail-type': STATE_CHANGE,
            source: 'aws.ec2',
            account: ACCOUNT,
            time: isoSeconds(new Date()),
            region: REGION,
            resources: [`arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:instance/${id}`],
            detail: { 'instance-id': id, state },
          };
          stats.events++;
          events.push(event);
          for (const rule of rules) {
            if (!matchesPattern(rule.pattern, event)) continue;
            for (const target of rule.targets) {
              const delivery = deliver(rule, target, event).catch((err: unknown) => {
                errors.push(err as Error);
              });
              inflight.add(delivery);
              void delivery.finally(() => inflight.delete(delivery));
            }
          }
        }
      } catch (err) {
        if (!stopped) errors.push(err as Error);
      }
      rounds++;
      await sleep(pollMs);
    }
  })();

  async function deliver(rule: Rule, target: Target, event: InstanceStateChangeEvent): Promise<void> {
    if (!target.functionId) throw new DeliveryError(`${rule.id}/${target.id}: the emulated account delivers to Lambda targets only, not ${target.arn}`);
    if (!lambdaPermits(deployment, target.functionId, 'events.amazonaws.com', rule.arn)) {
      // A missing permission is not retried (eb-rule-retry-policy.html).
      const error = new DeliveryError(
        `${rule.id}: events.amazonaws.com may not invoke ${target.arn} for ${rule.arn}: no AWS::Lambda::Permission of the template allows it`,
      );
      errors.push(error);
      stats.failures++;
      await deadLetter(rule, target, event, 'NO_PERMISSIONS', error.message);
      return;
    }
    const accepted = Date.now();
    for (let attempt = 0; ; attempt++) {
      let outcome: AsyncOutcome;
      try {
        outcome = await invokeAsync(
          { deployment, invoke: options.invoke, authorize: options.authorize, queues, retryDelayMs: pollMs, timeScale, stopped: () => stopped },
          target.functionId,
          event,
          errors,
        );
      } catch (err) {
        const age = ((Date.now() - accepted) * timeScale) / 1000;
        if (!stopped && attempt < target.maximumRetryAttempts && age < target.maximumEventAgeSeconds) {
          await sleep(pollMs);
          continue;
        }
        stats.failures++;
        errors.push(err as Error);
        await deadLetter(rule, target, event, 'SDK_CLIENT_ERROR', (err as Error).message);
        return;
      }
      if (outcome === 'succeeded') stats.delivered++;
      else {
        stats.failures++;
        if (outcome === 'dead-lettered') stats.dlq++;
      }
      return;
    }
  }

  async function deadLetter(rule: Rule, target: Target, event: InstanceStateChangeEvent, code: string, message: string): Promise<void> {
    if (!target.deadLetterQueue) return;
    if (!queuePolicyAllows(deployment, target.deadLetterQueue, 'events.amazonaws.com', rule.arn)) {
      errors.push(new DeliveryError(`${rule.id}: the policy of ${target.deadLetterQueue} does not let events.amazonaws.com send for ${rule.arn}`));
      return;
    }
    await queues.send(target.deadLetterQueue, JSON.stringify(event), {
      RULE_ARN: stringAttribute(rule.arn),
      TARGET_ARN: stringAttribute(target.arn),
      ERROR_CODE: stringAttribute(code),
      ERROR_MESSAGE: stringAttribute(message.slice(0, 1000)),
    });
    stats.dlq++;
  }

  return {
    stats,
    events,
    errors,
    async drained() {
      // Two rounds: the first may have begun before the change.
      const mark = rounds + 2;
      while (!stopped && rounds < mark) await sleep(Math.max(10, pollMs / 2));
      // The deliveries of those rounds, not of changes that keep coming after.
      await Promise.all([...inflight]);
    },
    async stop() {
      stopped = true;
      await loop;
      await Promise.all([...inflight]);
      ec2.destroy();
      queues.stop();
    },
  };
}
