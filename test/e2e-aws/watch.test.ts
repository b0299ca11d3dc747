/**
 * `?watch=true` on AWS through the emulated account: the synthesized template's RestApi (e2e/aws/api-gateway.ts,
 * SigV4) in front of the real http handler, the table on moto with its stream, and the template's reconcile trigger
 * mapping (e2e/aws/event-sources/stream.ts, the stream role's policies evaluated) invoking the real stream handler,
 * which writes the watch log the http handler's watches read. One table, gateway and stream poller for the file.
 * The http integration streams (ResponseTransferMode STREAM): the handler runs in process behind InvokeWithResponseStream.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
});

import { createSigV4Signer } from '../../cli/sigv4.js';
import { API_VERSION } from '../../functions/api/common.js';
import { startWatchStack, type WatchStack } from '../support/watch-stack.js';

const BASE = '/apis/clusterless.dev/v1alpha1/namespaces/team-a';

let stack: WatchStack;

beforeAll(async () => {
  stack = await startWatchStack('watch-aws', motoEndpoint());
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const call = (method: string, path: string, body?: unknown) => stack.call(method, path, body);

/** A signed watch whose events are read as they arrive. */
async function openWatch(path: string) {
  const url = new URL(path.replace(/^\//, ''), stack.gateway.url);
  const headers = await createSigV4Signer({ region: 'us-east-1', credentials: stack.writer.credentials })({ method: 'GET', url, headers: {} });
  const client = new AbortController();
  const res = await fetch(url, { headers, signal: client.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let ended = false;
  return {
    status: res.status,
    /** The next event, or undefined once the watch ended. */
    next: async (): Promise<{ type: string; object: { metadata: { name?: string; labels?: Record<string, string> } } } | undefined> => {
      while (!buffered.includes('\n')) {
        const { value, done } = await reader.read();
        if (done) {
          ended = true;
          return undefined;
        }
        buffered += decoder.decode(value, { stream: true });
      }
      const at = buffered.indexOf('\n');
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      return JSON.parse(line);
    },
    ended: () => ended,
    close: () => client.abort(),
  };
}

describe('watch on AWS', () => {
  it('streams the ADDED, MODIFIED and DELETED of objects written through the API, then ends with a bookmark', async () => {
    // Prepare
    const list = await call('GET', `${BASE}/clusters`);
    expect(list.status, list.text).toBe(200);
    const from = (JSON.parse(list.text) as { metadata: { resourceVersion?: string } }).metadata.resourceVersion;
    expect(from).toMatch(/^[0-9]+$/);

    // Act: a watch of 6 s from the list, and the writes of a cluster's life while it lasts (its finalizer taken off by hand)
    const watching = call('GET', `${BASE}/clusters?watch=true&allowWatchBookmarks=true&timeoutSeconds=6&resourceVersion=${from}`);
    const cluster = { apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'prod', namespace: 'team-a' }, spec: {} };
    expect((await call('POST', `${BASE}/clusters`, cluster)).status).toBe(201);
    expect((await call('PATCH', `${BASE}/clusters/prod`, { metadata: { labels: { tier: 'gold' } } })).status).toBe(200);
    expect((await call('DELETE', `${BASE}/clusters/prod`)).status).toBe(200);
    expect((await call('PATCH', `${BASE}/clusters/prod`, { metadata: { finalizers: null } })).status).toBe(200);
    const watched = await watching;

    // Assess
    expect(watched.status, watched.text).toBe(200);
    const events = watched.text
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name?: string; labels?: Record<string, string>; resourceVersion: string } } });
    expect(events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`.trim())).toEqual([
      'ADDED prod',
      'MODIFIED prod',
      'MODIFIED prod',
      'DELETED prod',
      'BOOKMARK',
    ]);
    expect(events[1]!.object.metadata.labels).toEqual({ tier: 'gold' });
    const versions = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(stack.reconciles).toContain('team-a/prod');
    expect(stack.denied).toEqual([]);
    expect(stack.gateway.errors).toEqual([]);
  }, 30_000);

  it('streams: an event written after the watch began arrives while the watch is still open', async () => {
    // Prepare: a watch of a minute from now (a list's resourceVersion)
    const list = await call('GET', `${BASE}/machineclasses`);
    const from = (JSON.parse(list.text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const watch = await openWatch(`${BASE}/machineclasses?watch=true&timeoutSeconds=60&resourceVersion=${from}`);
    expect(watch.status).toBe(200);
    try {
      // Act: a write once the watch is open
      const mc = { apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name: 'streamed', namespace: 'team-a' }, spec: { sim: {} } };
      expect((await call('POST', `${BASE}/machineclasses`, mc)).status).toBe(201);
      const event = await watch.next();
      // Assess: its event came, and the watch goes on
      expect([event?.type, event?.object.metadata.name]).toEqual(['ADDED', 'streamed']);
      expect(watch.ended()).toBe(false);
    } finally {
      watch.close();
    }
    expect(stack.gateway.errors).toEqual([]);
  }, 30_000);

  it('lasts past the 25 s a buffered answer had, when timeoutSeconds asks: each write over 26 s arrives on the one watch', async () => {
    // Prepare
    const mc = { apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name: 'long-watched', namespace: 'team-a' }, spec: { sim: {} } };
    expect((await call('POST', `${BASE}/machineclasses`, mc)).status).toBe(201);
    const watch = await openWatch(`${BASE}/machineclasses?watch=true&timeoutSeconds=60&fieldSelector=metadata.name%3Dlong-watched`);
    const began = Date.now();
    try {
      expect((await watch.next())?.type).toBe('ADDED');
      // Act: label writes, each paced by its event coming back on the watch, until 26 s have passed
      let writes = 0;
      while (Date.now() - began < 26_000) {
        writes++;
        expect((await call('PATCH', `${BASE}/machineclasses/long-watched`, { metadata: { labels: { write: String(writes) } } })).status).toBe(200);
        const event = await watch.next();
        // Assess: every write seen, in order, on the watch still open
        expect([event?.type, event?.object.metadata.labels?.['write']]).toEqual(['MODIFIED', String(writes)]);
      }
      expect(watch.ended()).toBe(false);
    } finally {
      watch.close();
    }
  }, 60_000);
});
