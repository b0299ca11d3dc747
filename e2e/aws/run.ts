/**
 * `npm run e2e:aws`: deploys the synthesized cloud assembly into the emulated account (account.ts lists the parts)
 * and runs the seed scenario through it. Progress goes to stderr; the last line of stdout is the summary:
 *
 *   {"scenario":"aws-account","steps":N,"passed":N,"iamDenies":0,"leftovers":0,"unusedPermissions":[...]}
 *
 * and the exit status is 0 only when every step passed, IAM denied nothing and nothing was left behind.
 *
 *   --reuse-assembly        deploy the assembly a previous run synthesized (cdk.out/e2e-aws) instead of synthesizing
 *   --short                 one control-plane machine and one worker: create and delete only
 *   --drop ROLE:ACTION      remove ACTION from the Allow statements of a function's role first (ROLE: http, provision...)
 *   --time-scale N          every Wait lasts 5 s / N, schedules run N times faster (default 10)
 *   --mirror-kubeconfig F   deploy with the mirror on (`-c mirror=true`), F the management cluster's kubeconfig (put
 *                           in the mirror's secret as an operator would); the scenario checks the Cluster arrives there
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { ApiClient } from '../../cli/client.js';
import { createSigV4Signer } from '../../cli/sigv4.js';
import { loadKubeConfig } from '../../functions/adapters/kubernetes/index.js';
import { MIRROR_KUBECONFIG_SECRET_ENV } from '../../functions/handlers/mirror.js';
import type { HandlerName } from '../../infra/control-plane-stack.js';
import { startMotoServer } from '../../test/support/moto.js';
import { freePort } from '../../test/support/free-port.js';
import { REGION, type Principal } from './account.js';
import { DEFAULT_ASSEMBLY_DIR, readAssembly, synthesize, type Assembly, type CallerName } from './assembly.js';
import { ADMIN_CREDENTIALS, clientConfig, deploy } from './deploy.js';
import { AwsGateway } from './gateway.js';
import { denyMessage, unusedPermissions } from './iam/report.js';
import { LambdaRuntime } from './lambda-runtime.js';
import { runScenario, settledLeftovers, type StepResult } from './scenario.js';
import { EmulatedStepFunctions } from './step-functions.js';
import { startApiGateway } from './api-gateway.js';
import { startInstanceEvents } from './event-sources/instance-events.js';
import { startSchedules } from './event-sources/schedules.js';
import { startStreamSource } from './event-sources/stream.js';
import { Deployment } from './template.js';
import { WorkloadClusters } from './workload.js';

/** Where each run keeps its data: the functions' logs and the workload clusters' etcd. */
const RUNS_DIR = join(DEFAULT_ASSEMBLY_DIR, '..', 'e2e-aws-runs');

export interface AccountRunOptions {
  reuseAssembly?: boolean;
  short?: boolean;
  /** Removes an action from the Allow statements of a function's role before the run. */
  drop?: { handler: HandlerName; action: string };
  timeScale?: number;
  /** The management cluster's kubeconfig (YAML): the stack is synthesized with the mirror on, into that cluster. */
  mirrorKubeconfig?: string;
  log?: (line: string) => void;
}

export interface AccountSummary {
  scenario: 'aws-account';
  steps: number;
  passed: number;
  iamDenies: number;
  leftovers: number;
  unusedPermissions: string[];
}

export interface AccountReport {
  summary: AccountSummary;
  results: StepResult[];
  /** Each deny, in words: the principal, the call, and the policy that would have to change. */
  denies: string[];
  leftovers: string[];
  coldStarts: Record<string, number>;
}

/** The logical id of a handler's function in the template (CDK names it `{handler}-handler/Function`). */
function functionIdOf(assembly: Assembly, handler: HandlerName): string {
  const prefix = `${handler.replace(/-/g, '')}handlerFunction`;
  const id = Object.keys(assembly.bundles).find((k) => k.startsWith(prefix));
  if (!id) throw new Error(`no function of handler ${handler} in the template`);
  return id;
}

/** The mirror's function (infra/constructs/mirror.ts), when the stack has the mirror on. */
const mirrorFunctionOf = (assembly: Assembly) => Object.keys(assembly.bundles).find((k) => k.startsWith('MirrorHandlerFunction'));

/** Removes an action from every Allow statement of a principal (a statement left with no action is dropped). */
function dropAction(principal: Principal, action: string): number {
  let removed = 0;
  for (const named of principal.policies) {
    named.policy.Statement = named.policy.Statement.flatMap((s) => {
      if (s.Effect !== 'Allow' || s.Action === undefined) return [s];
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      const kept = actions.filter((a) => a.toLowerCase() !== action.toLowerCase());
      removed += actions.length - kept.length;
      return kept.length ? [{ ...s, Action: kept }] : [];
    });
  }
  return removed;
}

export async function runAccount(options: AccountRunOptions = {}): Promise<AccountReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const timeScale = options.timeScale ?? 10;
  const started = Date.now();
  let assembly = options.reuseAssembly ? readAssembly() : undefined;
  if (!assembly) {
    log(`synthesizing the cloud assembly (esbuild bundles)${options.mirrorKubeconfig ? ', the mirror on' : ''}`);
    assembly = synthesize(undefined, options.mirrorKubeconfig ? { controlPlane: { mirror: {} } } : {});
  }
  const mirrorFn = mirrorFunctionOf(assembly);
  // A mirror without its kubeconfig would fail every batch: the reused assembly must match the options.
  if (Boolean(mirrorFn) !== Boolean(options.mirrorKubeconfig))
    throw new Error(
      mirrorFn ? 'the reused assembly has the mirror on: give --mirror-kubeconfig' : 'the reused assembly has no mirror: run without --reuse-assembly',
    );
  log(`assembly: ${assembly.directory} (${Object.keys(assembly.bundles).length} functions)`);
  // Inside the repository (cdk.out/ is ignored): a failed run's logs stay there, nothing is left outside it.
  mkdirSync(RUNS_DIR, { recursive: true });
  const dataDir = mkdtempSync(join(RUNS_DIR, 'run-'));
  const stops: (() => Promise<unknown> | unknown)[] = [];
  let passed = false;
  try {
    const moto = await startMotoServer();
    stops.push(() => moto.stop());
    const deployment = new Deployment(assembly.stackName, assembly.template, assembly.directory);
    const account = await deploy(deployment, moto.endpoint);
    log(`deployed ${Object.keys(assembly.template.Resources).length} resources into the emulated account`);
    if (options.drop) {
      const role = deployment.roleOfFunction(functionIdOf(assembly, options.drop.handler));
      const removed = dropAction(account.principals.get(role)!, options.drop.action);
      if (removed === 0) throw new Error(`--drop: the ${options.drop.handler} role is not granted ${options.drop.action}`);
      log(`dropped ${options.drop.action} from the ${options.drop.handler} function's role (${removed} grants)`);
    }

    let stepFunctions: EmulatedStepFunctions | undefined;
    const gateway = await AwsGateway.start({
      backend: moto.endpoint,
      deployment,
      admin: ADMIN_CREDENTIALS,
      services: { states: (request) => stepFunctions!.serve(request.call.operation, request.body.toString('utf8')) },
    });
    stops.push(() => gateway.stop());
    for (const principal of account.principals.values()) gateway.register(principal);

    const runtime = new LambdaRuntime({
      deployment,
      bundles: assembly.bundles,
      endpoint: gateway.endpoint,
      principals: account.principals,
      logDir: join(dataDir, 'logs'),
    });
    stops.push(() => runtime.stop());
    stepFunctions = new EmulatedStepFunctions({ deployment, invoke: runtime.invoke, authorize: gateway.authorize, waitMs: 5000 / timeScale, timeScale });
    stops.push(() => stepFunctions!.stop());

    const sources = { deployment, endpoint: moto.endpoint, invoke: runtime.invoke, authorize: gateway.authorize };
    const stream = await startStreamSource({ ...sources, pollMs: 200, timeScale });
    stops.push(() => stream.stop());
    const instanceEvents = await startInstanceEvents({ ...sources, pollMs: 1000, timeScale });
    stops.push(() => instanceEvents.stop());
    const schedules = await startSchedules({ ...sources, startExecution: stepFunctions.startExecution, timeScale });
    stops.push(() => schedules.stop());
    const api = await startApiGateway({
      deployment,
      invoke: runtime.invoke,
      invokeWithResponseStream: runtime.invokeWithResponseStream,
      principals: () => [...account.principals.values()],
      authorize: gateway.authorize,
    });
    stops.push(() => api.stop());

    mkdirSync(join(dataDir, 'workloads'));
    const workloads = await WorkloadClusters.start({
      secretsEndpoint: moto.endpoint,
      credentials: ADMIN_CREDENTIALS,
      dataDir: join(dataDir, 'workloads'),
      // A kubelet's heartbeat (10 s) at the run's time scale; every sync describes the cluster's instances on moto.
      pollMs: 10_000 / timeScale,
      installationId: deployment.installationId,
    });
    stops.push(() => workloads.stop());

    const aws = {
      ec2: new EC2Client(clientConfig(moto.endpoint)),
      elbv2: new ElasticLoadBalancingV2Client(clientConfig(moto.endpoint)),
      secrets: new SecretsManagerClient(clientConfig(moto.endpoint)),
      dynamodb: new DynamoDBClient(clientConfig(moto.endpoint)),
      scheduler: new SchedulerClient(clientConfig(moto.endpoint)),
    };
    const env = (handler: HandlerName, key: string) =>
      String(
        (deployment.resolve(deployment.resource(functionIdOf(assembly, handler)).Properties!['Environment'] as never) as { Variables: Record<string, string> })
          .Variables[key],
      );
    const tableName = env('http', 'TABLE_NAME');
    const secretsNamePrefix = env('provision', 'SECRETS_NAME_PREFIX');
    // The operator's part of the mirror: its kubeconfig under the name the stack gives the function.
    let mirrorSecret: string | undefined;
    let mirrored: ((plural: string, namespace: string, name: string) => Promise<boolean>) | undefined;
    if (mirrorFn && options.mirrorKubeconfig) {
      const variables = deployment.resolve(deployment.resource(mirrorFn).Properties!['Environment'] as never) as { Variables: Record<string, string> };
      mirrorSecret = String(variables.Variables[MIRROR_KUBECONFIG_SECRET_ENV]);
      await aws.secrets.send(new CreateSecretCommand({ Name: mirrorSecret, SecretString: options.mirrorKubeconfig }));
      const target = loadKubeConfig(options.mirrorKubeconfig).makeApiClient(CustomObjectsApi);
      mirrored = async (plural, namespace, name) =>
        target.getNamespacedCustomObject({ group: 'clusterless.dev', version: 'v1alpha1', namespace, plural, name }).then(
          () => true,
          () => false,
        );
    }
    const operatorSecrets = mirrorSecret ? [mirrorSecret] : [];
    const clients = new Map<CallerName, ApiClient>();
    const callerPrincipal = (caller: CallerName) => account.principals.get(assembly.callerRoles[caller])!;
    const provisionId = functionIdOf(assembly, 'provision');
    const provisionRole = deployment.roleOfFunction(provisionId);
    let crashArmed = false;
    gateway.afterCall((principal, operation) => {
      if (crashArmed && principal === provisionRole && operation === 'ec2:RunInstances') {
        crashArmed = false;
        const crashed = runtime.crashBusy(provisionId);
        log(`  crashed ${crashed} provision environments right after RunInstances`);
      }
    });
    const sweepId = deployment.ofType('AWS::Scheduler::Schedule')[0]!;
    const sweepProps = deployment.resource(sweepId).Properties!;
    const sweepName = deployment.physicalOf(sweepId).ref;

    // The API callers' refusals are the scenario's own checks (a team outside its namespace): only the control plane's
    // principals (functions, state machines, schedules, event sources) must never be refused.
    const callers = new Set(Object.values(assembly.callerRoles));
    const results = await runScenario(
      {
        api: (caller) => {
          let client = clients.get(caller);
          if (!client) {
            const signer = createSigV4Signer({ region: REGION, credentials: callerPrincipal(caller).credentials });
            client = new ApiClient({ server: api.url, fetch, signer: async () => signer });
            clients.set(caller, client);
          }
          return client;
        },
        aws,
        tableName,
        secretsNamePrefix,
        operatorSecrets,
        ...(mirrored ? { mirrored } : {}),
        network: account.network,
        imageId: account.imageId,
        ...(account.imageSsmParameter ? { imageSsmParameter: account.imageSsmParameter } : {}),
        serveWorkload: (namespace, clusterName, port) => workloads.serve(namespace, clusterName, port, secretsNamePrefix),
        workloadNodes: (namespace, clusterName) => workloads.nodes(namespace, clusterName),
        freePort,
        crashAfterNextLaunch: () => {
          crashArmed = true;
        },
        throttle: (operation, count) => gateway.injectFaults({ operation, count }),
        throttledSoFar: () => gateway.throttled,
        instanceEventsFor: (instanceId) => instanceEvents.events.filter((e) => e.detail['instance-id'] === instanceId).length,
        requeuesFired: () =>
          Object.entries(schedules.fired)
            .filter(([name]) => name !== sweepName)
            .reduce((n, [, fired]) => n + fired, 0),
        sweepSchedule: { group: String(sweepProps['GroupName'] ?? 'default'), name: sweepName },
        abortReason: () => {
          const denied = gateway.denies().find((d) => !callers.has(d.principal));
          return denied ? `IAM refused ${denied.principal} ${denied.request.action} on ${denied.request.resource}` : undefined;
        },
        log,
      },
      { ...(options.short ? { short: true } : {}) },
    );

    // A run lost to a deny counts at once; otherwise what stays once the account is quiet.
    const lost = gateway.denies().some((d) => !callers.has(d.principal));
    const left = await settledLeftovers({ aws, tableName, secretsNamePrefix, operatorSecrets }, lost ? 0 : 60_000);
    const denies = [
      ...gateway
        .denies()
        .filter((d) => !callers.has(d.principal))
        .map(denyMessage),
      ...gateway.problems,
    ];
    const functionRoles = new Set(Object.keys(assembly.bundles).map((id) => deployment.roleOfFunction(id)));
    const unused = unusedPermissions(
      [...account.principals.values()].filter((p) => functionRoles.has(p.name)),
      gateway.records,
    );
    const summary: AccountSummary = {
      scenario: 'aws-account',
      steps: results.length,
      passed: results.filter((r) => r.passed).length,
      iamDenies: denies.length,
      leftovers: left.length,
      unusedPermissions: unused,
    };
    for (const d of denies) log(`IAM DENY: ${d}`);
    for (const l of left) log(`LEFT BEHIND: ${l}`);
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; cold starts ${JSON.stringify(runtime.stats.coldStarts)}`);
    passed = summary.passed === summary.steps && summary.iamDenies === 0 && summary.leftovers === 0;
    return { summary, results, denies, leftovers: left, coldStarts: runtime.stats.coldStarts };
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    // A failed run keeps the functions' logs (logs/{function}.log, their CloudWatch log groups) for the reader.
    if (passed) rmSync(dataDir, { recursive: true, force: true });
    else log(`the functions' logs are kept in ${join(dataDir, 'logs')}`);
  }
}

function parseArgs(argv: string[]): AccountRunOptions {
  const options: AccountRunOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reuse-assembly') options.reuseAssembly = true;
    else if (a === '--short') options.short = true;
    else if (a === '--time-scale') options.timeScale = Number(argv[++i]);
    else if (a === '--mirror-kubeconfig') options.mirrorKubeconfig = readFileSync(String(argv[++i]), 'utf8');
    else if (a === '--drop') {
      const [handler, ...action] = String(argv[++i]).split(':');
      options.drop = { handler: handler as HandlerName, action: action.join(':') };
    } else
      throw new Error(
        `unknown argument ${a}: npm run e2e:aws -- [--reuse-assembly] [--short] [--drop ROLE:ACTION] [--time-scale N] [--mirror-kubeconfig FILE]`,
      );
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await runAccount(parseArgs(process.argv.slice(2)));
  process.stdout.write(`${JSON.stringify(report.summary)}\n`);
  const ok = report.summary.passed === report.summary.steps && report.summary.iamDenies === 0 && report.summary.leftovers === 0;
  process.exit(ok ? 0 : 1);
}
