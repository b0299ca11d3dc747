// One Lambda execution environment of the emulated account: a worker thread with the function's environment
// (process.env is the worker's own copy), which imports the function's bundle once (its init) and then runs one
// invocation at a time, as Lambda runs one event per execution environment.
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

// What the Node.js runtime provides before it loads the handler: `awslambda.streamifyResponse` marks a handler as
// response-streaming, and `awslambda.HttpResponseStream.from` writes API Gateway's prelude (the metadata as JSON, then
// 8 NUL bytes) before the first byte of the body
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html).
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream: {
    from(stream, metadata) {
      stream.beforeFirstWrite = [Buffer.from(JSON.stringify(metadata)), Buffer.alloc(8)];
      return stream;
    },
  },
};

/** The response stream of one invocation: each write goes to `send` as it is written. */
function responseStream(send) {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      if (stream.beforeFirstWrite) for (const part of stream.beforeFirstWrite.splice(0)) send(part);
      send(chunk);
      done();
    },
    final(done) {
      if (stream.beforeFirstWrite) for (const part of stream.beforeFirstWrite.splice(0)) send(part);
      done();
    },
  });
  return stream;
}

/** The response streams of the invocations running, by id (one at a time, as Lambda runs them). */
const open = new Map();

const started = performance.now();
// A query string makes this a module instance of its own: every cold start runs the bundle's top level again.
const mod = await import(`${pathToFileURL(workerData.bundle).href}?instance=${workerData.instance}`);
parentPort.postMessage({ type: 'ready', initMs: performance.now() - started });

parentPort.on('message', async (message) => {
  if (message.type === 'cancel') return open.get(message.id)?.destroy();
  const { id, event, requestId, deadline, functionName, memorySize, streaming } = message;
  process.env._X_AMZN_TRACE_ID = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${requestId.replace(/-/g, '').slice(0, 24)};Parent=${requestId.replace(/-/g, '').slice(0, 16)};Sampled=0`;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: workerData.functionArn,
    memoryLimitInMB: String(memorySize),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10)}/[$LATEST]${workerData.instance}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    if (mod.handler[STREAMING]) {
      // Invoked RequestResponse, the bytes written are the payload (prelude, NULs and all); streamed, they go as written.
      const written = [];
      const stream = responseStream(streaming ? (chunk) => parentPort.postMessage({ type: 'chunk', id, chunk }) : (chunk) => written.push(Buffer.from(chunk)));
      open.set(id, stream);
      try {
        await mod.handler(event, stream, context);
        if (!stream.writableEnded && !stream.destroyed) await new Promise((resolve) => stream.end(resolve));
      } finally {
        open.delete(id);
      }
      parentPort.postMessage({ type: 'result', id, ok: true, payload: streaming ? null : Buffer.concat(written).toString('latin1') });
      return;
    }
    const payload = await mod.handler(event, context);
    const json = payload === undefined ? null : JSON.parse(JSON.stringify(payload));
    // InvokeWithResponseStream of a function that does not stream: its result, as one chunk of JSON.
    if (streaming) parentPort.postMessage({ type: 'chunk', id, chunk: Buffer.from(JSON.stringify(json)) });
    parentPort.postMessage({ type: 'result', id, ok: true, payload: streaming ? null : json });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    // As Lambda's Node.js runtime logs a handler's error into the function's log group.
    console.error(
      `${new Date().toISOString()}\t${id}\tERROR\tInvoke Error \t${JSON.stringify({ errorType: e.name || 'Error', errorMessage: e.message, stack: String(e.stack ?? '').split('\n') })}`,
    );
    parentPort.postMessage({ type: 'result', id, ok: false, errorType: e.name || 'Error', errorMessage: e.message });
  }
});
