/**
 * How the embedded host's server writes a streamed response (a watch): chunked, each line as it comes, the stream
 * told when the client hangs up, and every open stream ended when the server closes.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../../functions/api/http/index.js';
import { startHttpServer, type RunningHttpServer } from '../../../local/http-server.js';

let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A handler whose stream writes one line, then one more each time `next` is called, until aborted. */
function endless() {
  const state = { aborted: false, started: 0, next: () => {} };
  const handle = async (): Promise<HttpResponse> => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: '',
    stream: async function* (signal) {
      state.started++;
      signal.addEventListener('abort', () => {
        state.aborted = true;
        state.next();
      });
      let n = 0;
      while (!signal.aborted) {
        yield `{"n":${n++}}\n`;
        await new Promise<void>((resolve) => (state.next = resolve));
      }
    },
  });
  return { state, handle };
}

/** Opens the stream and resolves with the response once its first line has come. */
function open(url: string) {
  return new Promise<{ headers: Record<string, unknown>; lines: string[]; destroy: () => void; ended: Promise<void> }>((resolve, reject) => {
    const req = request(`${url}/watch`, (res) => {
      const lines: string[] = [];
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        lines.push(...d.split('\n').filter(Boolean));
        if (lines.length === 1) resolve({ headers: res.headers, lines, destroy: () => req.destroy(), ended });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('streamed responses on the embedded host', () => {
  it('sends chunked, each line as it is yielded', async () => {
    const { state, handle } = endless();
    server = await startHttpServer({ port: 0, deps: handle });
    const res = await open(server.url);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    state.next();
    await expect.poll(() => res.lines).toEqual(['{"n":0}', '{"n":1}']);
    res.destroy();
  });

  it("aborts the stream's signal when the client hangs up", async () => {
    const { state, handle } = endless();
    server = await startHttpServer({ port: 0, deps: handle });
    const res = await open(server.url);
    res.destroy();
    await expect.poll(() => state.aborted).toBe(true);
  });

  it('ends every open stream when the server closes, and the close completes', async () => {
    const { state, handle } = endless();
    server = await startHttpServer({ port: 0, deps: handle });
    const res = await open(server.url);
    await server.close();
    server = undefined;
    expect(state.aborted).toBe(true);
    await res.ended;
  });
});
