// One Lambda execution environment of the emulated account: a worker thread with the function's environment
// (process.env is the worker's own copy), which imports the function's bundle once (its init) and then runs one
// invocation at a time, as Lambda runs one event per execution environment.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const started = performance.now();
// A query string makes this a module instance of its own: every cold start runs the bundle's top level again.
const mod = await import(`${pathToFileURL(workerData.bundle).href}?instance=${workerData.instance}`);
parentPort.postMessage({ type: 'ready', initMs: performance.now() - started });

parentPort.on('message', async (message) => {
  const { id, event, requestId, deadline, functionName, memorySize } = message;
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
    const payload = await mod.handler(event, context);
    parentPort.postMessage({ type: 'result', id, ok: true, payload: payload === undefined ? null : JSON.parse(JSON.stringify(payload)) });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    parentPort.postMessage({ type: 'result', id, ok: false, errorType: e.name || 'Error', errorMessage: e.message });
  }
});
