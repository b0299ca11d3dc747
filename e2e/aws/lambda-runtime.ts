/**
 * Lambda in the emulated account: each function of the template runs its esbuild bundle from the cloud assembly
 * (never the TypeScript source) with the environment the template gives it, resolved to the emulated resources,
 * plus what Lambda itself sets (region, function name, its role's credentials, AWS_ENDPOINT_URL = the IAM gateway).
 * An execution environment is a worker thread that imports the bundle once (a cold start: a fresh module instance)
 * and runs one invocation at a time; idle environments are reused, busy ones make the function scale out, up to its
 * reserved concurrency (beyond it: TooManyRequestsException, as Lambda throttles). A timeout or a crash ends the
 * environment, as it ends Lambda's.
 *
 * InvokeWithResponseStream (invokeWithResponseStream: what API Gateway calls for an integration in STREAM mode) hands
 * each chunk a function writes to its response stream to the caller as it is written; the worker provides the Node
 * runtime's `awslambda` global (streamifyResponse, HttpResponseStream.from). A streamified function invoked
 * RequestResponse answers the bytes it wrote as its payload, and a function that is not streamified answers its
 * result as one chunk of JSON, as Lambda does; the caller then finds no prelude it can read.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { REGION, type InvokeResult, type Json, type Principal } from './account.js';
import type { Deployment } from './template.js';

const WORKER = join(import.meta.dirname, 'lambda-worker.mjs');

interface Environment {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
  pending?: { id: string; settle: (r: InvokeResult) => void; timer: NodeJS.Timeout; onChunk?: (chunk: Buffer) => void };
}

interface FunctionState {
  logicalId: string;
  name: string;
  arn: string;
  bundle: string;
  env: Record<string, string>;
  timeoutMs: number;
  memorySize: number;
  reserved?: number;
  environments: Environment[];
  log: WriteStream;
}

export interface LambdaRuntimeOptions {
  deployment: Deployment;
  /** The folder of each function's bundle (index.mjs), by logical id (Assembly.bundles). */
  bundles: Record<string, string>;
  /** AWS_ENDPOINT_URL of every function: the IAM gateway. */
  endpoint: string;
  /** The principal of each role, by the role's logical id. */
  principals: ReadonlyMap<string, Principal>;
  /** Each function's log lines go to {logDir}/{logicalId}.log (its CloudWatch log group). */
  logDir: string;
}

export interface LambdaStats {
  coldStarts: Record<string, number>;
  invocations: Record<string, number>;
  errors: Record<string, number>;
  throttles: Record<string, number>;
  /** Init durations (ms) of every cold start, by function. */
  initMs: Record<string, number[]>;
}

/**
 * InvokeWithResponseStream: `onChunk` gets the bytes the function writes, as it writes them; the result says how the
 * invocation ended (a streamed invocation's payload is null). `signal` aborting is the caller going away: the function's
 * response stream is closed under it.
 */
export type InvokeWithResponseStream = (
  functionLogicalId: string,
  event: unknown,
  onChunk: (chunk: Buffer) => void,
  signal?: AbortSignal,
) => Promise<InvokeResult>;

export class LambdaRuntime {
  private readonly functions = new Map<string, FunctionState>();
  private instances = 0;
  private stopped = false;
  readonly stats: LambdaStats = { coldStarts: {}, invocations: {}, errors: {}, throttles: {}, initMs: {} };

  constructor(options: LambdaRuntimeOptions) {
    const { deployment } = options;
    mkdirSync(options.logDir, { recursive: true });
    for (const id of deployment.ofType('AWS::Lambda::Function')) {
      const bundle = options.bundles[id];
      if (!bundle) continue; // CDK's own functions (the custom resource provider framework) have no bundle of ours
      const props = deployment.resource(id).Properties!;
      const physical = deployment.physicalOf(id);
      const role = options.principals.get(deployment.roleOfFunction(id));
      if (!role) throw new Error(`${id}: no principal for its role ${deployment.roleOfFunction(id)}`);
      const variables = deployment.resolve(((props['Environment'] as { Variables?: Json } | undefined)?.Variables ?? {}) as Json) as Record<string, string>;
      const memorySize = Number(props['MemorySize'] ?? 128);
      this.functions.set(id, {
        logicalId: id,
        name: physical.ref,
        arn: physical.attributes['Arn']!,
        bundle: join(bundle, 'index.mjs'),
        env: {
          ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
          // What Lambda sets (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
          AWS_REGION: REGION,
          AWS_DEFAULT_REGION: REGION,
          AWS_LAMBDA_FUNCTION_NAME: physical.ref,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${physical.ref}`,
          AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          LAMBDA_TASK_ROOT: bundle,
          TZ: ':UTC',
          AWS_ACCESS_KEY_ID: role.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: role.credentials.secretAccessKey,
          ...(role.credentials.sessionToken ? { AWS_SESSION_TOKEN: role.credentials.sessionToken } : {}),
          // The one thing the emulated account adds: every SDK call goes to the IAM gateway.
          AWS_ENDPOINT_URL: options.endpoint,
          // X-Ray segments go to a daemon on this host that does not exist (UDP, dropped), never off the machine.
          AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
          AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
          PATH: process.env['PATH'] ?? '',
        },
        timeoutMs: Number(props['Timeout'] ?? 3) * 1000,
        memorySize,
        ...(props['ReservedConcurrentExecutions'] !== undefined ? { reserved: Number(props['ReservedConcurrentExecutions']) } : {}),
        environments: [],
        // Every environment of the function pipes into its one log: many pipes, by design.
        log: createWriteStream(join(options.logDir, `${id}.log`), { flags: 'a' }).setMaxListeners(0),
      });
    }
  }

  /** The logical ids of the functions this runtime runs. */
  get functionIds(): string[] {
    return [...this.functions.keys()];
  }

  /** The logical id of the function with this ARN or name. */
  functionIdOf(arnOrName: string): string | undefined {
    for (const f of this.functions.values()) if (f.arn === arnOrName || f.name === arnOrName) return f.logicalId;
    return undefined;
  }

  private bump(counter: Record<string, number>, id: string): void {
    counter[id] = (counter[id] ?? 0) + 1;
  }

  private coldStart(f: FunctionState): Environment {
    const instance = ++this.instances;
    const worker = new Worker(WORKER, {
      env: f.env,
      execArgv: [],
      stdout: true,
      stderr: true,
      workerData: { bundle: f.bundle, instance, functionArn: f.arn },
    });
    worker.stdout.pipe(f.log, { end: false });
    worker.stderr.pipe(f.log, { end: false });
    const environment: Environment = { worker, busy: false, ready: Promise.resolve() };
    environment.ready = new Promise<void>((resolve, reject) => {
      worker.once('message', (m: { type: string; initMs: number }) => {
        if (m.type !== 'ready') return reject(new Error(`${f.logicalId}: unexpected first message ${m.type}`));
        this.stats.initMs[f.logicalId] = [...(this.stats.initMs[f.logicalId] ?? []), m.initMs];
        resolve();
      });
      worker.once('error', reject);
    });
    worker.on('message', (m: { type: string; id: string; chunk?: Uint8Array } & InvokeResult) => {
      if (environment.pending?.id !== m.id) return;
      if (m.type === 'chunk') return environment.pending.onChunk?.(Buffer.from(m.chunk!));
      if (m.type !== 'result') return;
      const { settle, timer } = environment.pending;
      clearTimeout(timer);
      environment.pending = undefined;
      environment.busy = false;
      settle(m.ok ? { ok: true, payload: m.payload } : { ok: false, errorType: m.errorType, errorMessage: m.errorMessage });
    });
    const ended = (why: string) => {
      f.environments = f.environments.filter((e) => e !== environment);
      const pending = environment.pending;
      if (pending) {
        clearTimeout(pending.timer);
        environment.pending = undefined;
        pending.settle({ ok: false, errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${pending.id} Error: Runtime exited (${why})` });
      }
    };
    worker.on('error', (err) => ended(`error: ${err.message}`));
    worker.on('exit', (code) => ended(`exit status ${code}`));
    f.environments.push(environment);
    this.bump(this.stats.coldStarts, f.logicalId);
    return environment;
  }

  /** Invokes a function synchronously (RequestResponse), as Step Functions, API Gateway and event sources do. */
  invoke = (functionLogicalId: string, event: unknown): Promise<InvokeResult> => this.run(functionLogicalId, event);

  /** Invokes a function with InvokeWithResponseStream, as API Gateway does for an integration in STREAM mode. */
  invokeWithResponseStream: InvokeWithResponseStream = (functionLogicalId, event, onChunk, signal) =>
    this.run(functionLogicalId, event, { onChunk, ...(signal ? { signal } : {}) });

  private async run(functionLogicalId: string, event: unknown, stream?: { onChunk: (chunk: Buffer) => void; signal?: AbortSignal }): Promise<InvokeResult> {
    const f = this.functions.get(functionLogicalId);
    if (!f) return { ok: false, errorType: 'Lambda.ResourceNotFoundException', errorMessage: `Function not found: ${functionLogicalId}` };
    if (this.stopped) return { ok: false, errorType: 'Lambda.ServiceException', errorMessage: 'the emulated account is stopping' };
    this.bump(this.stats.invocations, f.logicalId);
    let environment = f.environments.find((e) => !e.busy);
    if (!environment) {
      if (f.reserved !== undefined && f.environments.length >= f.reserved) {
        this.bump(this.stats.throttles, f.logicalId);
        return {
          ok: false,
          errorType: 'Lambda.TooManyRequestsException',
          errorMessage: `Rate Exceeded: ${f.name} is at its reserved concurrency ${f.reserved}`,
        };
      }
      environment = this.coldStart(f);
    }
    environment.busy = true;
    const env = environment;
    try {
      await env.ready;
    } catch (err) {
      env.busy = false;
      await env.worker.terminate();
      this.bump(this.stats.errors, f.logicalId);
      return { ok: false, errorType: 'Runtime.ImportModuleError', errorMessage: (err as Error).message };
    }
    const id = randomUUID();
    const result = await new Promise<InvokeResult>((settle) => {
      const timer = setTimeout(() => {
        // Lambda ends the environment of a timed-out invocation.
        void env.worker.terminate();
        settle({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${f.timeoutMs / 1000} seconds` });
      }, f.timeoutMs);
      env.pending = { id, settle, timer, ...(stream ? { onChunk: stream.onChunk } : {}) };
      env.worker.postMessage({
        id,
        event,
        requestId: id,
        deadline: Date.now() + f.timeoutMs,
        functionName: f.name,
        memorySize: f.memorySize,
        streaming: stream !== undefined,
      });
      // The caller gone: the function's response stream closes under it (its writes fail from then on).
      stream?.signal?.addEventListener('abort', () => env.pending?.id === id && env.worker.postMessage({ type: 'cancel', id }), { once: true });
    });
    if (!result.ok) this.bump(this.stats.errors, f.logicalId);
    return result;
  }

  /**
   * Crashes every environment of a function that is running an invocation now (the process dies between two of its
   * calls): each such invocation fails with Runtime.ExitError. Returns how many were crashed.
   */
  crashBusy(functionLogicalId: string): number {
    const f = this.functions.get(functionLogicalId);
    const busy = f?.environments.filter((e) => e.busy && e.pending) ?? [];
    for (const e of busy) void e.worker.terminate();
    return busy.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.functions.values()].flatMap((f) => f.environments.map((e) => e.worker.terminate())));
    await Promise.all([...this.functions.values()].map((f) => new Promise<void>((r) => f.log.end(r))));
  }
}

/**
 * InvokeWithResponseStream of a response-streaming handler run in this process (tests that wire the handlers without
 * workers): its writes go to `onChunk` as written, and `signal` aborting closes its stream, as the worker does.
 */
export async function streamInProcess(
  handler: (event: never, responseStream: Writable) => Promise<void>,
  event: unknown,
  onChunk: (chunk: Buffer) => void,
  signal?: AbortSignal,
): Promise<InvokeResult> {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      onChunk(Buffer.from(chunk));
      done();
    },
  });
  signal?.addEventListener('abort', () => stream.destroy(), { once: true });
  try {
    await handler(event as never, stream);
    if (!stream.writableEnded && !stream.destroyed) stream.end();
    return { ok: true, payload: null };
  } catch (err) {
    return { ok: false, errorType: (err as Error).name, errorMessage: (err as Error).message };
  }
}
