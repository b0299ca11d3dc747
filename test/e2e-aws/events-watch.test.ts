/**
 * A watch of events.k8s.io Events on AWS through the emulated account, set up as test/e2e-aws/watch.test.ts is: the
 * synthesized template's RestApi (SigV4) in front of the real http handler, the table on moto with its stream, and
 * the template's stream-function mapping (its filter criteria evaluated, e2e/aws/event-sources/stream.ts) invoking
 * the real stream handler, which writes Events into the watch log and starts no reconcile for them. Events are
 * written as the control plane writes them (storeEventRecorder on the table), never through the API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
});

import { createSigV4Signer } from '../../cli/sigv4.js';
import { DynamoDbStore, createDynamoDbClient } from '../../functions/adapters/dynamodb/index.js';
import { createTable } from '../../functions/adapters/dynamodb/table.js';
import { DynamoDbWatchLog } from '../../functions/adapters/dynamodb/watch-log.js';
import { EventReason, eventName, type EventInput } from '../../functions/api/event.js';
import { createHandler } from '../../functions/handlers/http.js';
import { createStreamHandler } from '../../functions/handlers/stream.js';
import { systemClock, type Workflows } from '../../functions/ports.js';
import { silentLogger, storeEventRecorder } from '../../functions/workflows/index.js';
import { AccessDeniedError, type AuthorizationRequest, type Json, type Principal } from '../../e2e/aws/account.js';
import { type ApiGateway, startApiGateway } from '../../e2e/aws/api-gateway.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { streamInProcess } from '../../e2e/aws/lambda-runtime.js';
import { startStreamSource, type StreamSource } from '../../e2e/aws/event-sources/stream.js';
import { evaluate } from '../../e2e/aws/iam/evaluate.js';
import { Deployment } from '../../e2e/aws/template.js';
import { emulatorClientConfig, uniqueName } from '../support/aws.js';
import { enableStream, keepOnlyMappingOf, placeholderPhysicalIds } from '../support/emulated-stack.js';

const EVENTS = '/apis/events.k8s.io/v1/namespaces/team-a/events';
const arn = (service: string, resource: string) => `arn:aws:${service}:us-east-1:123456789012:${resource}`;

let dir: string;
let gateway: ApiGateway;
let source: StreamSource;
let writer: Principal;
let store: DynamoDbStore;
const reconciles: string[] = [];
const denied: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'events-watch-aws-'));
  const assembly = synthesize(join(dir, 'assembly'), { bundle: false });
  const template = assembly.template;
  const ofType = (type: string) => Object.keys(template.Resources).filter((id) => template.Resources[id]!.Type === type);
  const fn = (prefix: string) => ofType('AWS::Lambda::Function').find((id) => id.startsWith(prefix))!;
  const ids = {
    http: fn('httphandler'),
    stream: fn('streamhandler'),
    table: ofType('AWS::DynamoDB::Table')[0]!,
    api: ofType('AWS::ApiGateway::RestApi').find((id) => !id.includes('Kubectl'))!,
  };
  // The reconcile trigger's mapping only (the stream function's).
  keepOnlyMappingOf(template, ids.stream);
  const deployment = new Deployment(assembly.stackName, template, assembly.directory);

  const dynamodb = createDynamoDbClient(emulatorClientConfig(inject('motoEndpoint')));
  const tableName = uniqueName('events-watch-aws');
  await createTable(dynamodb, tableName);
  const streamArn = await enableStream(dynamodb, tableName);
  deployment.setPhysical(ids.table, { ref: tableName, attributes: { Arn: arn('dynamodb', `table/${tableName}`), StreamArn: streamArn } });
  placeholderPhysicalIds(deployment, '123456789012');

  // The stream function as deployed: its role's policies decide whether the mapping may read the stream.
  const role = deployment.roleOfFunction(ids.stream);
  const streamRole = {
    name: role,
    arn: `arn:aws:iam::123456789012:role/${role}`,
    policies: deployment.identityPolicies(role),
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  };
  const authorize = async (who: string, operation: string, requests: AuthorizationRequest[]) => {
    for (const r of requests) {
      if ((await evaluate(streamRole, r)).decision === 'Allowed') continue;
      denied.push(`${who} ${r.action} ${r.resource}`);
      throw new AccessDeniedError(`${who} is not authorized to perform: ${operation}`);
    }
  };
  const workflows: Workflows = {
    start: async (_workflow, _name, input) => {
      reconciles.push(`${String(input['namespace'])}/${String(input['clusterName'])}`);
      return { started: true };
    },
  };
  // Settled after 1 s rather than 4: the emulated stream delivers within a few hundred milliseconds.
  const log = new DynamoDbWatchLog({ client: dynamodb, tableName, settleMs: 1000, pollMs: 200 });
  const stream = createStreamHandler({ workflows, watchLog: log });
  source = await startStreamSource({
    deployment,
    endpoint: inject('motoEndpoint'),
    invoke: async (_fn, event) => ({ ok: true, payload: (await stream(event as never)) as unknown as Json }),
    authorize,
    pollMs: 20,
    timeScale: 10,
  });

  store = new DynamoDbStore({ client: dynamodb, tableName });
  const http = createHandler({ store, changes: log });
  writer = {
    name: assembly.callerRoles.TeamAWriter,
    arn: `arn:aws:iam::123456789012:role/${assembly.callerRoles.TeamAWriter}`,
    policies: deployment.identityPolicies(assembly.callerRoles.TeamAWriter),
    credentials: { accessKeyId: 'AKIAE2ETEAMAWRITER01', secretAccessKey: 'team-a-writer-secret' },
  };
  gateway = await startApiGateway({
    deployment,
    restApi: ids.api,
    invoke: async (id) => ({ ok: false, errorType: 'Error', errorMessage: id }),
    // The API function streams (a STREAM integration): run in process as the runtime would run it.
    invokeWithResponseStream: (id, event, onChunk, signal) =>
      id === ids.http ? streamInProcess(http, event, onChunk, signal) : Promise.resolve({ ok: false, errorType: 'Error', errorMessage: id }),
    principals: () => [writer],
    authorize: async (who, operation, requests) => {
      for (const r of requests)
        if ((await evaluate(writer, r)).decision !== 'Allowed') throw new AccessDeniedError(`${who} is not authorized to perform: ${operation}`);
    },
  });
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await source?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A request signed as team-a's writer, through the gateway. */
async function call(method: string, path: string, body?: unknown) {
  const url = new URL(path.replace(/^\//, ''), gateway.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const sign = createSigV4Signer({ region: 'us-east-1', credentials: writer.credentials });
  const headers = await sign({
    method,
    url,
    headers: text ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {},
    ...(text ? { body: text } : {}),
  });
  const res = await fetch(url, { method, headers, ...(text ? { body: text } : {}) });
  return { status: res.status, text: await res.text() };
}

const input = (name: string, note: string): EventInput => ({
  regarding: { kind: 'Machine', namespace: 'team-a', name, uid: `${name}-uid`, apiVersion: 'clusterless.dev/v1alpha1' },
  type: 'Warning',
  reason: EventReason.FailedCreate,
  action: 'Create',
  note,
  workflow: 'provision-machine',
});

type Line = { type: string; object: { kind: string; apiVersion: string; metadata: { name?: string; resourceVersion: string }; series?: { count: number } } };
const linesOf = (text: string) =>
  text
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as Line);
const shown = (lines: Line[]) => lines.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`.trim());

describe('watch of events on AWS', () => {
  it('streams an event recorded, counted again and removed (as DynamoDB TTL removes it), in a namespace and by name; no reconcile starts', async () => {
    // Prepare
    const list = await call('GET', EVENTS);
    expect(list.status, list.text).toBe(200);
    const from = (JSON.parse(list.text) as { metadata: { resourceVersion?: string } }).metadata.resourceVersion;
    expect(from).toMatch(/^[0-9]+$/);
    const watched = eventName(input('m1', 'Failed to create instance: quota'));
    const other = eventName(input('m2', 'Failed to create instance: quota'));

    // Act: two watches of 6 s from the list, every event of team-a and one by name, while the control plane writes
    const query = `watch=true&allowWatchBookmarks=true&timeoutSeconds=6&resourceVersion=${from}`;
    const all = call('GET', `${EVENTS}?${query}`);
    const one = call('GET', `${EVENTS}?${query}&fieldSelector=metadata.name%3D${watched}`);
    const recorder = storeEventRecorder(store, systemClock, silentLogger);
    await recorder.record(input('m1', 'Failed to create instance: quota'));
    await recorder.record(input('m2', 'Failed to create instance: quota'));
    await recorder.record(input('m1', 'Failed to create instance: quota'));
    // What DynamoDB's TTL does to an expired event: the item goes (moto runs no TTL; the stream record is a REMOVE).
    expect((await store.delete('Event', 'team-a', watched)).removed).toBe(true);
    const [everything, byName] = await Promise.all([all, one]);

    // Assess
    expect(everything.status, everything.text).toBe(200);
    const events = linesOf(everything.text);
    expect(shown(events)).toEqual([`ADDED ${watched}`, `ADDED ${other}`, `MODIFIED ${watched}`, `DELETED ${watched}`, 'BOOKMARK']);
    expect(events[2]!.object.series?.count).toBe(2);
    expect(events[4]!.object).toMatchObject({ kind: 'Event', apiVersion: 'events.k8s.io/v1' });
    const versions = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(shown(linesOf(byName.text))).toEqual([`ADDED ${watched}`, `MODIFIED ${watched}`, `DELETED ${watched}`, 'BOOKMARK']);
    // Events reached the stream function (the watch log has them) and started nothing.
    expect(reconciles).toEqual([]);
    expect(denied).toEqual([]);
    expect(gateway.errors).toEqual([]);
  }, 30_000);
});
