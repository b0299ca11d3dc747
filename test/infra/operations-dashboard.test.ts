/**
 * The CloudWatch dashboard of the control plane: one dashboard whose widgets chart, from the metrics AWS publishes,
 * executions started and failed for every workflow, every function's errors and throttles, each dead-letter queue's
 * depth, and the API's latency and 4xx/5xx answers on both doors.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterlessApp } from '../../infra/app.js';
import { STATE_MACHINES } from '../../statemachines/loader.js';
import { controlPlaneTemplate, logicalId, resourcesOf } from './support.js';

interface Widget {
  properties: { title: string; metrics: unknown[][] };
}

let app: ClusterlessApp;
let template: Template;
let widgets: Widget[];

/** The dashboard body is a JSON string joined with the tokens of the resources it names. */
function body(): { text: string; refs: string[] } {
  const [dashboard] = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
  const parts = (dashboard!.Properties['DashboardBody'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const refs: string[] = [];
  const text = parts
    .map((p) => {
      if (typeof p === 'string') return p;
      const ref = (p as { Ref?: string }).Ref ?? (p as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0] ?? JSON.stringify(p);
      refs.push(ref);
      return `@${ref}@`;
    })
    .join('');
  return { text, refs };
}

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
  widgets = JSON.parse(body().text.replace(/@[^@]*@/g, 'X')).widgets as Widget[];
});

const titled = (title: string) => {
  const w = widgets.find((x) => x.properties.title === title);
  expect(w, `a widget titled "${title}"`).toBeDefined();
  return w!;
};
const metricNames = (w: Widget) => w.properties.metrics.flatMap((m) => m.filter((x): x is string => typeof x === 'string'));

describe('the operations dashboard', () => {
  it('is one CloudWatch dashboard', () => {
    expect(Object.keys(resourcesOf(template, 'AWS::CloudWatch::Dashboard'))).toHaveLength(1);
  });

  it('charts executions started and failed (failed, timed out or aborted) for every workflow', () => {
    const started = titled('Executions started per workflow');
    expect(started.properties.metrics.filter((m) => m.includes('ExecutionsStarted'))).toHaveLength(STATE_MACHINES.length);
    const failed = titled('Executions failed, timed out or aborted per workflow');
    expect(metricNames(failed).filter((n) => n === 'ExecutionsFailed')).toHaveLength(STATE_MACHINES.length);
    expect(metricNames(failed).filter((n) => n === 'ExecutionsTimedOut')).toHaveLength(STATE_MACHINES.length);
    expect(metricNames(failed).filter((n) => n === 'ExecutionsAborted')).toHaveLength(STATE_MACHINES.length);
    // Every state machine is named in the body.
    const refs = body().refs;
    for (const s of STATE_MACHINES) expect(refs).toContain(logicalId(app.controlPlane, app.controlPlane.workflows.stateMachines[s.name]));
  });

  it("charts every function's errors, and throttles of Lambda, Step Functions and the table", () => {
    const functions = Object.keys(app.controlPlane.functions).length;
    expect(metricNames(titled('Task errors (Lambda)')).filter((n) => n === 'Errors')).toHaveLength(functions);
    const throttles = metricNames(titled('Throttles'));
    expect(throttles.filter((n) => n === 'Throttles')).toHaveLength(functions);
    expect(throttles.filter((n) => n === 'ExecutionThrottled')).toHaveLength(STATE_MACHINES.length);
    expect(throttles).toEqual(expect.arrayContaining(['ReadThrottleEvents', 'WriteThrottleEvents']));
  });

  it('charts the depth of every dead-letter queue', () => {
    const dlq = titled('Dead-letter queue depth');
    const queues = Object.keys(resourcesOf(template, 'AWS::SQS::Queue')).length;
    expect(metricNames(dlq).filter((n) => n === 'ApproximateNumberOfMessagesVisible')).toHaveLength(queues);
  });

  it("charts the API's latency and its 4xx and 5xx answers, on both doors", () => {
    const latency = titled('API latency (ms)');
    expect(metricNames(latency).filter((n) => n === 'Latency')).toHaveLength(4);
    const answers = metricNames(titled('API 4xx and 5xx answers'));
    expect(answers.filter((n) => n === '4XXError')).toHaveLength(2);
    expect(answers.filter((n) => n === '5XXError')).toHaveLength(2);
  });
});
