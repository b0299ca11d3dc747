/**
 * A watch of events.k8s.io Events on AWS through the emulated account (test/support/watch-stack.ts, as watch.test.ts): the
 * synthesized template's RestApi (SigV4) in front of the real http handler, the table on moto with its stream, and
 * the template's stream-function mapping (its filter criteria evaluated, e2e/aws/event-sources/stream.ts) invoking
 * the real stream handler, which writes Events into the watch log and starts no reconcile for them. Events are
 * written as the control plane writes them (storeEventRecorder on the table), never through the API.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
});

import { EventReason, eventName, type EventInput } from '../../functions/api/event.js';
import { systemClock } from '../../functions/ports.js';
import { silentLogger, storeEventRecorder } from '../../functions/workflows/index.js';
import { startWatchStack, type WatchStack } from '../support/watch-stack.js';

const EVENTS = '/apis/events.k8s.io/v1/namespaces/team-a/events';

let stack: WatchStack;

beforeAll(async () => {
  stack = await startWatchStack('events-watch-aws', motoEndpoint());
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const call = (method: string, path: string, body?: unknown) => stack.call(method, path, body);

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
    const recorder = storeEventRecorder(stack.store, systemClock, silentLogger);
    await recorder.record(input('m1', 'Failed to create instance: quota'));
    await recorder.record(input('m2', 'Failed to create instance: quota'));
    await recorder.record(input('m1', 'Failed to create instance: quota'));
    // What DynamoDB's TTL does to an expired event: the item goes (moto runs no TTL; the stream record is a REMOVE).
    expect((await stack.store.delete('Event', 'team-a', watched)).removed).toBe(true);
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
    expect(stack.reconciles).toEqual([]);
    expect(stack.denied).toEqual([]);
    expect(stack.gateway.errors).toEqual([]);
  }, 30_000);
});
