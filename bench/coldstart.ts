/**
 * coldstart: the size of every Lambda function's bundle and the time a fresh Node 22 process takes to import it and
 * serve its first invocation (the handlers build their AWS clients and adapters lazily, on that invocation).
 *
 * `npm run bench -- coldstart`, or `npx tsx bench/coldstart.ts [--runs 7] [--outdir cdk.out/e2e-aws] [--functions a,b]` (only
 * those handlers, still checked against the template: to compare a few back to back) [--cpu-prof dir] (a V8 CPU profile
 * of every process, sampled each 100 µs, in dir/<function>; `npx tsx bench/support/profile-by-source.ts` sums one by
 * source). The app is
 * synthesized with bundling (e2e/aws/assembly.ts), so the bundles are the ones `cdk synth` makes.
 *
 * - bundle.<function>: every file of the asset (index.mjs, index.mjs.map and the packages of its node_modules that
 *   HandlerFunction writes beside a bundle that imports them, VENDORED_PACKAGES), in KiB. The source map counts: Lambda
 *   unpacks it with the code, and the bundle reads and decodes it when an error's stack is first read
 *   (functions/handlers/runtime/source-mapped-stacks.ts; no --enable-source-maps). bundle.<function>.code is
 *   index.mjs alone, what a cold start loads: the 1,500 KiB target is judged on it.
 * - init.<function>: the median over `--runs` fresh processes of import + first invocation, measured inside the
 *   process (the runtime's own start, the same for every function, is not in it); init.<function>.import and
 *   .first-invocation are the two parts (medians of their own), init.<function>.cpu the CPU time of both (threads
 *   included), which a machine busy with other work moves less than wall time.
 *
 * Each process gets the template's environment of the function (intrinsics resolved to placeholder names and ARNs),
 * Lambda's variables, AWS_MAX_ATTEMPTS=1 and AWS_ENDPOINT_URL at an endpoint on 127.0.0.1 that answers every call
 * with a 400 no client retries (support/refusing-endpoint.ts says why not a closed port): the first AWS call fails at
 * once, so nothing is reached and what is timed is the code, not a network. The event of each function
 * (FIRST_EVENTS) gets past its input checks to that call; a run that makes no call fails the scenario.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ACCOUNT, PARTITION, REGION, type Json } from '../e2e/aws/account.js';
import { DEFAULT_ASSEMBLY_DIR, synthesize } from '../e2e/aws/assembly.js';
import { Deployment, type TemplateJson } from '../e2e/aws/template.js';
import { HANDLERS, type HandlerName } from '../infra/control-plane-stack.js';
import { REPO_ROOT } from '../infra/constructs/handler-function.js';
import { emit, flag, machineFacts } from './support/output.js';
import { startRefusingEndpoint } from './support/refusing-endpoint.js';
import { buildToken } from '../cli/commands/token.js';
import { TEST_STS_ENDPOINT_ENV } from '../functions/handlers/token-authorizer.js';

const SCENARIO = 'coldstart';
export const INIT_TARGET_MS = 200;
export const BUNDLE_TARGET_KIB = 1500;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** Node 22, the runtime of the functions: this process's node when it is 22, else the project's `node` devDependency. */
export function node22(): string {
  if (process.versions.node.split('.')[0] === '22') return process.execPath;
  const pinned = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
  const version = execFileSync(pinned, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v22.')) throw new Error(`${pinned} is ${version}, not Node 22`);
  return pinned;
}

/** ARNs of the placeholder resources, by type: what each function's environment names (the table, the key...). */
function placeholderArn(type: string, name: string): string {
  const region = `${REGION}:${ACCOUNT}`;
  switch (type) {
    case 'AWS::IAM::Role':
      return `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`;
    case 'AWS::IAM::InstanceProfile':
      return `arn:${PARTITION}:iam::${ACCOUNT}:instance-profile/${name}`;
    case 'AWS::KMS::Key':
      return `arn:${PARTITION}:kms:${region}:key/1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b`;
    case 'AWS::DynamoDB::Table':
      return `arn:${PARTITION}:dynamodb:${region}:table/${name}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:${PARTITION}:states:${region}:stateMachine:${name}`;
    default:
      return `arn:${PARTITION}:${type.split('::')[1]!.toLowerCase()}:${region}:${name}`;
  }
}

/** The template with every resource given a placeholder physical id: its Ref a generated name (a state machine's its ARN), every attribute an ARN. */
export function placeholderDeployment(stackName: string, template: TemplateJson, assemblyDir: string): Deployment {
  const deployment = new Deployment(stackName, template, assemblyDir);
  for (const [id, resource] of Object.entries(template.Resources)) {
    const name = deployment.generatedName(id);
    const arn = placeholderArn(resource.Type, name);
    const ref = resource.Type === 'AWS::StepFunctions::StateMachine' ? arn : name;
    // Any attribute asked for (Arn, StreamArn...) is the ARN: the functions' environments use Arn only.
    const attributes = new Proxy({} as Record<string, string>, { get: (_t, key) => (typeof key === 'string' ? arn : undefined) });
    deployment.setPhysical(id, { ref, attributes });
  }
  return deployment;
}

export interface ColdStartFunction {
  name: HandlerName;
  logicalId: string;
  /** The asset folder (index.mjs, index.mjs.map). */
  bundle: string;
  /** The template's Environment.Variables, resolved. */
  environment: Record<string, string>;
  memorySize: number;
}

/**
 * Functions of the template whose code is not ours, by description: CDK's custom resource provider framework (its
 * onEvent passes ClusterFleet's events to fleet-resource, measured here). Named in the summary, not measured.
 */
export const NOT_OUR_CODE: readonly RegExp[] = [/^AWS CDK resource provider framework - /];

/**
 * Every Lambda function of the synthesized template, known by its description (HandlerFunction copies HANDLERS'
 * to the function): a function that is neither one of HANDLERS nor CDK's own code fails the scenario (it has no
 * first event here yet), and so does a handler the template lacks.
 */
export function coldStartFunctions(assembly: { stackName: string; template: TemplateJson; directory: string; bundles: Record<string, string> }): {
  functions: ColdStartFunction[];
  notOurs: string[];
} {
  const deployment = placeholderDeployment(assembly.stackName, assembly.template, assembly.directory);
  const byDescription = new Map((Object.keys(HANDLERS) as HandlerName[]).map((name) => [HANDLERS[name].description, name]));
  const functions: ColdStartFunction[] = [];
  const notOurs: string[] = [];
  for (const [logicalId, resource] of Object.entries(assembly.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const description = String(resource.Properties?.['Description'] ?? '');
    const name = byDescription.get(description);
    if (!name) {
      if (NOT_OUR_CODE.some((re) => re.test(description))) notOurs.push(logicalId);
      else throw new Error(`coldstart: the template's function ${logicalId} ("${description}") is none of HANDLERS: give it a first event (FIRST_EVENTS)`);
      continue;
    }
    if (functions.some((f) => f.name === name)) throw new Error(`coldstart: two functions of the template are described as ${name}'s`);
    const bundle = assembly.bundles[logicalId];
    if (!bundle) throw new Error(`${name} (${logicalId}) has no bundle in the assembly: was it synthesized with bundling?`);
    const variables = (resource.Properties?.['Environment'] as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {};
    const environment = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(deployment.resolve(v))]));
    functions.push({ name, logicalId, bundle, environment, memorySize: Number(resource.Properties?.['MemorySize'] ?? 128) });
  }
  const absent = (Object.keys(HANDLERS) as HandlerName[]).filter((name) => !functions.some((f) => f.name === name));
  if (absent.length) throw new Error(`coldstart: no function of the template is described as the handler of ${absent.join(', ')}`);
  return { functions, notOurs };
}

/** KiB of every file of the asset, and of index.mjs alone. */
export function bundleKiB(dir: string): { total: number; code: number; files: string[] } {
  // Recursive: a bundle's vendored packages (HandlerFunction's VENDORED_PACKAGES) are in its node_modules/.
  const stats = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => ({ f, stat: statSync(join(dir, f)) }))
    .filter(({ stat }) => stat.isFile());
  const files = stats.map(({ f }) => f);
  const total = stats.reduce((sum, { stat }) => sum + stat.size / 1024, 0);
  return { total, code: statSync(join(dir, 'index.mjs')).size / 1024, files };
}

const API_PATH = '/apis/clusterless.dev/v1alpha1/namespaces/coldstart/clusters';
const apiEvent = (path: string) => ({
  httpMethod: 'GET',
  path,
  headers: { accept: 'application/json' },
  multiValueHeaders: {},
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  body: null,
  isBase64Encoded: false,
  requestContext: {
    requestId: 'coldstart',
    identity: {
      userArn: `arn:${PARTITION}:iam::${ACCOUNT}:user/coldstart`,
      caller: 'coldstart',
      accountId: ACCOUNT,
      sourceIp: '127.0.0.1',
      userAgent: 'coldstart',
    },
  },
});
const cluster = { namespace: 'coldstart', clusterName: 'coldstart' };

/**
 * A harmless first event per function, one that gets past the input checks to the first AWS call (which the closed
 * endpoint refuses): a read of the table, DescribeTags, or StartExecution. Nothing it asks for exists.
 */
export const FIRST_EVENTS: Record<HandlerName, unknown> = {
  http: apiEvent(API_PATH),
  kubeconfig: apiEvent(`${API_PATH}/coldstart/kubeconfig`),
  'cluster-transfer': apiEvent(`${API_PATH}/coldstart/move`),
  // A well-formed token presigned for the refusing endpoint (tokenAuthorizerEvent, made per run: tokens last 60 s),
  // which the authorizer sends to STS there; this one is a placeholder.
  'token-authorizer': tokenAuthorizerEvent('placeholder'),
  reconcile: { step: 'reconcile', ...cluster, trigger: 'coldstart' },
  provision: { step: 'recordIntent', ...cluster, machineName: 'coldstart-0', machineUid: '00000000-0000-4000-8000-000000000000' },
  rollout: { step: 'rolloutStep', ...cluster, deploymentName: 'coldstart' },
  remediate: { step: 'remediateStep', ...cluster, machineName: 'coldstart-0', machineUid: '00000000-0000-4000-8000-000000000000' },
  'fleet-upgrade': { step: 'nextWave', namespace: 'coldstart', name: 'coldstart', uid: '00000000-0000-4000-8000-000000000000' },
  teardown: { step: 'teardownStep', ...cluster },
  stream: {
    Records: [
      {
        eventName: 'MODIFY',
        dynamodb: { Keys: { pk: { S: 'coldstart#coldstart' }, sk: { S: 'Cluster#coldstart' } }, SequenceNumber: '100' },
      },
    ],
  },
  sweep: {},
  'instance-events': {
    id: 'coldstart',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    detail: { 'instance-id': 'i-0123456789abcdef0', state: 'terminated' },
  },
  'fleet-resource': {
    RequestType: 'Delete',
    RequestId: 'coldstart',
    PhysicalResourceId: 'coldstart-fleet',
    ResourceProperties: {
      FleetName: 'coldstart',
      Manifests: JSON.stringify([{ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'coldstart', namespace: 'coldstart' } }]),
    },
  },
};

/** What the child process prints after the first invocation (one line, after this marker). */
const MARK = '@@coldstart ';

/** Run in the fresh process: import the bundle, invoke it once, print the two times and how the invocation ended. */
const CHILD = `
const { performance } = await import('node:perf_hooks');
const [url, event, context] = JSON.parse(process.env.COLDSTART_ARGS);
delete process.env.COLDSTART_ARGS;
const c0 = process.cpuUsage();
const t0 = performance.now();
const m = await import(url);
const t1 = performance.now();
let outcome;
try {
  const result = await m.handler(event, { ...context, getRemainingTimeInMillis: () => 60000 });
  outcome = 'returned ' + JSON.stringify(result).slice(0, 300);
} catch (err) {
  outcome = 'threw ' + String(err?.name) + ': ' + String(err?.message).slice(0, 300) + ' ' + String(err?.cause?.code ?? err?.code ?? '');
}
const t2 = performance.now();
const cpu = process.cpuUsage(c0);
process.stdout.write(${JSON.stringify(MARK)} + JSON.stringify({ importMs: t1 - t0, invokeMs: t2 - t1, cpuMs: (cpu.user + cpu.system) / 1000, outcome }) + '\\n');
`;

export interface InitRun {
  importMs: number;
  invokeMs: number;
  /** CPU (user + system, every thread) over import + first invocation: less moved than wall time by a busy machine. */
  cpuMs: number;
  outcome: string;
}

/** The token authorizer's first event: a request with the Authorization header kubectl sends, `token` in it. */
function tokenAuthorizerEvent(token: string) {
  return {
    type: 'REQUEST',
    methodArn: `arn:${PARTITION}:execute-api:us-east-1:${ACCOUNT}:coldstart/v1/GET/apis`,
    headers: { Authorization: `Bearer ${token}` },
  };
}

/**
 * The first event of a function: for the token authorizer, with a token `clusterless token` would make, presigned for
 * the refusing endpoint (which the authorizer may call only as its test STS endpoint), so that it gets to its STS call.
 */
async function firstEvent(fn: ColdStartFunction, endpoint: string): Promise<{ event: unknown; env: Record<string, string> }> {
  if (fn.name !== 'token-authorizer') return { event: FIRST_EVENTS[fn.name], env: {} };
  const { token } = await buildToken({
    audience: 'coldstart',
    credentials: { accessKeyId: 'ASIACOLDSTART0000000', secretAccessKey: 'coldstart-placeholder-secret' },
    region: 'us-east-1',
    endpoint: new URL(endpoint),
    now: new Date(),
  });
  return { event: tokenAuthorizerEvent(token), env: { [TEST_STS_ENDPOINT_ENV]: endpoint } };
}

/** One fresh process: the function's environment, Lambda's variables, every AWS call to `endpoint`. */
export async function initOnce(node: string, fn: ColdStartFunction, endpoint: string, nodeArgs: string[] = []): Promise<InitRun> {
  const first = await firstEvent(fn, endpoint);
  const functionName = `${fn.logicalId}-coldstart`;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: String(fn.memorySize),
    awsRequestId: '00000000-0000-4000-8000-00000000c01d',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'coldstart',
    callbackWaitsForEmptyEventLoop: true,
  };
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: context.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: context.logStreamName,
    AWS_ACCESS_KEY_ID: 'ASIACOLDSTART0000000',
    AWS_SECRET_ACCESS_KEY: 'coldstart-placeholder-secret',
    AWS_SESSION_TOKEN: 'coldstart-placeholder-token',
    ...fn.environment,
    // After the template's: every AWS call goes to the refusing endpoint.
    AWS_ENDPOINT_URL: endpoint,
    AWS_MAX_ATTEMPTS: '1',
    ...first.env,
    COLDSTART_ARGS: JSON.stringify([pathToFileURL(join(fn.bundle, 'index.mjs')).href, first.event, context]),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(node, [...nodeArgs, '--input-type=module', '-e', CHILD], { env, cwd: fn.bundle, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      if (!line) return reject(new Error(`${fn.name}: the process exited ${code} without a result\n${err.slice(-2000)}${out.slice(-2000)}`));
      resolve(JSON.parse(line.slice(MARK.length)) as InitRun);
    });
  });
}

export async function run(argv: string[] = []): Promise<void> {
  const runs = Number(flag(argv, 'runs') ?? 7);
  const outdir = flag(argv, 'outdir') ?? DEFAULT_ASSEMBLY_DIR;
  const node = node22();
  const assembly = synthesize(outdir);
  const found = coldStartFunctions(assembly);
  const only = flag(argv, 'functions')?.split(',');
  const unknown = only?.filter((name) => !found.functions.some((f) => f.name === name)) ?? [];
  if (unknown.length) throw new Error(`coldstart: --functions names no function of the template: ${unknown.join(', ')}`);
  const functions = only ? found.functions.filter((f) => only.includes(f.name)) : found.functions;
  const { notOurs } = found;
  const profiles = flag(argv, 'cpu-prof');
  const endpoint = await startRefusingEndpoint();
  const missed: string[] = [];
  let codeWithin = 0;
  let slowest = { name: '', ms: 0 };
  let largest = { name: '', kib: 0 };
  for (const fn of functions) {
    const size = bundleKiB(fn.bundle);
    emit(SCENARIO, `bundle.${fn.name}`, Math.round(size.total), 'KiB');
    emit(SCENARIO, `bundle.${fn.name}.code`, Math.round(size.code), 'KiB');
    const samples: InitRun[] = [];
    for (let i = 0; i < runs; i++) {
      const before = endpoint.requests;
      const nodeArgs = profiles ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', join(profiles, fn.name)] : [];
      const sample = await initOnce(node, fn, endpoint.url, nodeArgs);
      // The invocation must have reached its first AWS call (the sweep makes four at once, one per kind it lists).
      if (endpoint.requests === before) throw new Error(`coldstart: ${fn.name}'s first invocation made no AWS call: ${sample.outcome}`);
      samples.push(sample);
    }
    const init = median(samples.map((s) => s.importMs + s.invokeMs));
    emit(SCENARIO, `init.${fn.name}`, Math.round(init * 10) / 10, 'ms');
    emit(SCENARIO, `init.${fn.name}.import`, Math.round(median(samples.map((s) => s.importMs)) * 10) / 10, 'ms');
    emit(SCENARIO, `init.${fn.name}.first-invocation`, Math.round(median(samples.map((s) => s.invokeMs)) * 10) / 10, 'ms');
    emit(SCENARIO, `init.${fn.name}.cpu`, Math.round(median(samples.map((s) => s.cpuMs)) * 10) / 10, 'ms');
    if (init > INIT_TARGET_MS) missed.push(`init.${fn.name}`);
    // The target is the code a cold start loads: the source map is read only when an error's stack is formatted.
    if (size.code > BUNDLE_TARGET_KIB) missed.push(`bundle.${fn.name}`);
    else codeWithin++;
    if (init > slowest.ms) slowest = { name: fn.name, ms: init };
    if (size.code > largest.kib) largest = { name: fn.name, kib: size.code };
  }
  console.log(
    `coldstart: ${functions.length} functions, ${runs} fresh processes each (median); slowest init ${slowest.name} ${slowest.ms.toFixed(0)} ms ` +
      `(target <= ${INIT_TARGET_MS}), largest code ${largest.name} ${largest.kib.toFixed(0)} KiB (target <= ${BUNDLE_TARGET_KIB}; ` +
      `${codeWithin} of ${functions.length} within it by index.mjs alone); ` +
      `${missed.length ? `missed: ${missed.join(', ')}` : 'all met'}; not our code, not measured: ${notOurs.join(', ') || 'none'} [${machineFacts()}, functions on ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}]`,
  );
  await endpoint.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
