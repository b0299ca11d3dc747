/**
 * The API function's answers through Lambda's response stream (functions/handlers/response-stream.ts): the prelude API
 * Gateway reads, a watch's lines as they come, and the client leaving ending the watch.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../../functions/api/http/index.js';
import { createHandler } from '../../../functions/handlers/http.js';
import { PRELUDE_DELIMITER, streamifyResponse, writeResponse } from '../../../functions/handlers/response-stream.js';

/** A response stream that keeps what is written, and says when a write arrives. */
function fakeStream() {
  const chunks: Buffer[] = [];
  let arrived: () => void = () => {};
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      arrived();
      done();
    },
  });
  const text = () => Buffer.concat(chunks);
  return {
    stream,
    text,
    /** Resolves once what was written contains `s`. */
    until: (s: string) =>
      new Promise<void>((resolve) => {
        const check = () => text().includes(s) && resolve();
        arrived = check;
        check();
      }),
    /** The prelude and the body, split at the 8 NULs. */
    parsed: () => {
      const all = text();
      const at = all.indexOf(Buffer.from(PRELUDE_DELIMITER));
      return { prelude: JSON.parse(all.subarray(0, at).toString('utf8')) as unknown, body: all.subarray(at + 8).toString('utf8') };
    },
  };
}

afterEach(() => {
  delete (globalThis as { awslambda?: unknown }).awslambda;
});

describe('the response stream of the API function', () => {
  it('writes the prelude (status and headers), 8 NUL bytes, then the body, and ends the stream', async () => {
    // Prepare
    const out = fakeStream();
    // Act
    await writeResponse(out.stream, { status: 201, headers: { 'content-type': 'application/json' }, body: '{"kind":"Cluster"}' });
    // Assess
    expect(out.parsed()).toEqual({ prelude: { statusCode: 201, headers: { 'content-type': 'application/json' } }, body: '{"kind":"Cluster"}' });
    expect(out.stream.writableFinished).toBe(true);
  });

  it('writes each line of a watch as it comes: the first is out while the next is not yet made', async () => {
    // Prepare: a watch whose second event waits for the test
    let release: () => void = () => {};
    const later = new Promise<void>((r) => (release = r));
    const res: HttpResponse = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '',
      stream: async function* () {
        yield '{"type":"ADDED"}\n';
        await later;
        yield '{"type":"MODIFIED"}\n';
      },
    };
    const out = fakeStream();
    // Act
    const writing = writeResponse(out.stream, res);
    await out.until('{"type":"ADDED"}\n');
    // Assess: the first line is out, the response still open
    expect(out.stream.writableEnded).toBe(false);
    expect(out.text().includes('MODIFIED')).toBe(false);
    release();
    await writing;
    expect(out.parsed().body).toBe('{"type":"ADDED"}\n{"type":"MODIFIED"}\n');
    expect(out.stream.writableFinished).toBe(true);
  });

  it.each([
    ['closes the stream', (s: Writable) => s.destroy()],
    ['fails the stream', (s: Writable) => s.destroy(new Error('socket hang up'))],
  ])('stops the watch when the client leaves (API Gateway %s)', async (_how, leave) => {
    // Prepare: a watch that lasts until it is aborted
    let abortedWith: AbortSignal | undefined;
    const res: HttpResponse = {
      status: 200,
      headers: {},
      body: '',
      stream: async function* (signal) {
        abortedWith = signal;
        yield '{"type":"ADDED"}\n';
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      },
    };
    const out = fakeStream();
    out.stream.on('error', () => {});
    // Act
    const writing = writeResponse(out.stream, res);
    await out.until('ADDED');
    leave(out.stream);
    await writing;
    // Assess
    expect(abortedWith?.aborted).toBe(true);
  });

  it.each([
    ['an empty body', { status: 204, headers: {}, body: '' }],
    ['a watch that ends with no event', { status: 200, headers: {}, body: '', stream: async function* () {} }],
  ] as [string, HttpResponse][])('writes once even for %s, so that the runtime sends the prelude (it does before the first write)', async (_what, res) => {
    // Prepare: the runtime's way, the prelude held back until the first write
    const writes: string[] = [];
    (globalThis as { awslambda?: unknown }).awslambda = {
      streamifyResponse: (h: unknown) => h,
      HttpResponseStream: {
        from: (s: Writable) => {
          const write = s.write.bind(s);
          s.write = ((chunk: string) => (writes.push(chunk), write(chunk))) as never;
          return s;
        },
      },
    };
    const out = fakeStream();
    // Act
    await writeResponse(out.stream, res);
    // Assess
    expect(writes).toEqual(['']);
    expect(out.stream.writableFinished).toBe(true);
  });

  it("uses the runtime's awslambda.HttpResponseStream and streamifyResponse where Lambda provides them", async () => {
    // Prepare
    const from: unknown[] = [];
    const streamified: unknown[] = [];
    (globalThis as { awslambda?: unknown }).awslambda = {
      streamifyResponse: (h: unknown) => (streamified.push(h), h),
      HttpResponseStream: { from: (s: Writable, metadata: unknown) => (from.push(metadata), s) },
    };
    const out = fakeStream();
    const handler = async () => {};
    // Act
    await writeResponse(out.stream, { status: 404, headers: { a: 'b' }, body: 'x' });
    streamifyResponse(handler);
    // Assess: the runtime wrote no prelude of ours
    expect(from).toEqual([{ statusCode: 404, headers: { a: 'b' } }]);
    expect(out.text().toString()).toBe('x');
    expect(streamified).toEqual([handler]);
  });

  it("writes the prelude itself where `awslambda` is only a library's (@aws/lambda-invoke-store's InvokeStore)", async () => {
    (globalThis as { awslambda?: unknown }).awslambda = { InvokeStore: {} };
    const out = fakeStream();
    await writeResponse(out.stream, { status: 200, headers: {}, body: 'ok' });
    expect(out.parsed()).toEqual({ prelude: { statusCode: 200, headers: {} }, body: 'ok' });
  });

  it('answers a Status 500 through the stream when its dependencies cannot be built', async () => {
    const out = fakeStream();
    await createHandler(() => {
      throw new Error('TABLE_NAME is not set');
    })({ httpMethod: 'GET', path: '/healthz' } as never, out.stream);
    const { prelude, body } = out.parsed();
    expect(prelude).toMatchObject({ statusCode: 500 });
    expect(JSON.parse(body)).toMatchObject({ kind: 'Status', reason: 'InternalError', message: 'the API is misconfigured; see its log' });
  });
});
