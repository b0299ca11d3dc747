/**
 * Lambda response streaming for API Gateway's Lambda proxy integration in STREAM mode
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html): the function is
 * wrapped in `awslambda.streamifyResponse` and writes, through `awslambda.HttpResponseStream.from`, a JSON prelude
 * (statusCode, headers), 8 NUL bytes, then the body as it comes. API Gateway sends the status and headers once it has
 * read the prelude and the delimiter, then the rest as the function writes it.
 *
 * `awslambda` is a global of Lambda's Node.js runtime; where it is absent (tests, the embedded host never uses this)
 * a small shim stands in: streamifyResponse returns the handler as it is, and HttpResponseStream.from writes the
 * prelude and the delimiter at once.
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { HttpResponse } from '../api/http/index.js';

/** What precedes the body: the documented prelude of the streaming proxy integration. */
export interface StreamingResponseMetadata {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

/** A response-streaming handler, as `awslambda.streamifyResponse` takes it. */
export type StreamingHandler = (event: APIGatewayProxyEvent, responseStream: Writable, context?: Context) => Promise<void>;

interface LambdaStreaming {
  streamifyResponse(handler: StreamingHandler): StreamingHandler;
  HttpResponseStream: { from(stream: Writable, metadata: StreamingResponseMetadata): Writable };
}

/** The 8 NUL bytes between the prelude and the body. */
export const PRELUDE_DELIMITER = new Uint8Array(8);

/** Stands in for Lambda's runtime where `awslambda` is absent (tests only: Lambda always has it). */
const shim: LambdaStreaming = {
  streamifyResponse: (handler) => handler,
  HttpResponseStream: {
    from(stream, metadata) {
      stream.write(JSON.stringify(metadata));
      stream.write(PRELUDE_DELIMITER);
      return stream;
    },
  },
};

/**
 * Lambda's `awslambda` global, read at each use, or the shim. Note: libraries create an `awslambda` of their own where
 * the runtime has none (@aws/lambda-invoke-store puts its InvokeStore there), so the test is for streamifyResponse.
 */
function lambdaStreaming(): LambdaStreaming {
  const runtime = (globalThis as unknown as { awslambda?: Partial<LambdaStreaming> }).awslambda;
  return runtime?.streamifyResponse && runtime.HttpResponseStream ? (runtime as LambdaStreaming) : shim;
}

/** The Lambda entry point of a streaming handler. */
export function streamifyResponse(handler: StreamingHandler): StreamingHandler {
  return lambdaStreaming().streamifyResponse(handler);
}

/** Ends the stream; resolves once it finished or failed (a client gone is no error of ours). */
function end(out: Writable): Promise<void> {
  if (out.destroyed || out.writableEnded) return Promise.resolve();
  return new Promise<void>((resolve) => {
    out.once('error', () => resolve());
    out.end(() => resolve());
  });
}

/** Resolves when the stream drains, closes, errs or `signal` aborts. */
function drained(out: Writable, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
    out.once('error', done);
    signal.addEventListener('abort', done);
  });
}

/**
 * Writes the router's answer to Lambda's response stream: the prelude, then the body, or a watch's lines as they come
 * until the watch ends. The client leaving (API Gateway closes the stream, or the stream fails) aborts the watch.
 */
export async function writeResponse(responseStream: Writable, res: HttpResponse): Promise<void> {
  const out = lambdaStreaming().HttpResponseStream.from(responseStream, { statusCode: res.status, headers: res.headers });
  // The runtime writes the prelude before the first write, so an empty answer still writes once (an empty chunk).
  if (!res.stream) {
    out.write(res.body ?? '');
    return end(out);
  }
  let wrote = false;
  const stop = new AbortController();
  const leave = () => stop.abort();
  out.once('close', leave);
  out.once('error', leave);
  try {
    for await (const line of res.stream(stop.signal)) {
      if (stop.signal.aborted) break;
      wrote = true;
      if (!out.write(line)) await drained(out, stop.signal);
    }
  } finally {
    // Also ends the watch's reads when its stream stopped first.
    stop.abort();
    out.off('close', leave);
    out.off('error', leave);
  }
  // A watch that ended with no event (no bookmarks asked for) still gets its prelude out.
  if (!wrote && !out.destroyed) out.write('');
  return end(out);
}
