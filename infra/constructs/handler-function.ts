import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import type { LogEncryption } from './log-encryption.js';
import type { WorkloadNetwork } from './workload-network.js';

/** The repository root: NodejsFunction bundles from here with the lock file and the local esbuild. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Lets a bundle that is ESM still load the CommonJS dependencies that call require (the X-Ray SDK, smithy). */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __clusterlessCreateRequire } from 'node:module'; const require = __clusterlessCreateRequire(import.meta.url);";

/**
 * The Node builtins the bundles import as CommonJS (`functions/handlers/runtime/builtins/<name>.cjs`, `/` as `-`),
 * all those their code imports. An ES import of a builtin makes Node build its module facade, which reads every
 * export, the lazy ones included: for `http` (smithy's HTTP handler and our own clients import it) that loads all of
 * Node's undici through its WebSocket getters (about 25 ms of CPU at import); for `process`, its stdin and stdout
 * streams; for `util` and `fs`, their lazy exports (5 to 10 ms of CPU for process, util, fs and fs/promises in a
 * fresh Node 22). And esbuild hoists every ES import of a builtin to the top of the bundle, so a
 * builtin imported only by a module the bundle evaluates lazily (the SDK's credential providers, imported when the
 * chain reaches them: `child_process` for the process provider) was loaded at import; a `require` runs where the
 * module is evaluated. `fs/promises`, `stream/web` and `util/types` are listed because an alias of a builtin also remaps
 * its subpaths (every subpath a bundle imports must be listed: the bundling test builds the mirror's bundle too).
 */
export const COMMONJS_BUILTINS = [
  'buffer',
  'child_process',
  'console',
  'crypto',
  'fs',
  'fs/promises',
  'http',
  'https',
  'os',
  'path',
  'process',
  'stream',
  'stream/web',
  'url',
  'util',
  'util/types',
  'zlib',
] as const;

/** What the bundles get for the `yaml` package: the package evaluated at its first use, not at import (see the file). */
export const YAML_SHIM = join(REPO_ROOT, 'functions/handlers/runtime/yaml.cjs');

/**
 * esbuild arguments of every bundle: each of COMMONJS_BUILTINS, bare and `node:`, aliased to its CommonJS shim, and
 * `yaml` to YAML_SHIM. The injected module (BUNDLE_INJECT) formats the bundle's stack traces through its source map
 * when a stack is read, in place of `--enable-source-maps`, which parsed the map at import
 * (functions/handlers/runtime/source-mapped-stacks.ts).
 */
export const BUNDLE_ESBUILD_ARGS = {
  '--alias': COMMONJS_BUILTINS.flatMap((name) => {
    const shim = join(REPO_ROOT, 'functions/handlers/runtime/builtins', `${name.replace('/', '-')}.cjs`);
    return [`${name}=${shim}`, `node:${name}=${shim}`];
  }).concat(`yaml=${YAML_SHIM}`),
};

/**
 * Packages a bundle imports only dynamically, when it first uses them, kept out of its index.mjs: NodejsFunction writes
 * one file, and V8 parses all of it at every cold start, code never run included (@peculiar/x509 and its ASN.1 stack,
 * 234 KiB, imported at the first certificate: 8 to 11 ms of CPU at each import). They are external to the bundle, and
 * written beside it (after bundling) as packages of the asset's node_modules, each bundled from its entry here
 * (`functions/handlers/runtime/vendored/`), when the bundle imports them: Node resolves the bundle's `import()` of the
 * name there. Their frames in a stack are V8's (minified without renaming: the names are the package's).
 */
export const VENDORED_PACKAGES: readonly { name: string; entry: string }[] = [
  { name: 'reflect-metadata', entry: 'functions/handlers/runtime/vendored/reflect-metadata.ts' },
  { name: '@peculiar/x509', entry: 'functions/handlers/runtime/vendored/x509.ts' },
];

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell commands that write VENDORED_PACKAGES a bundle in `outputDir` imports (HandlerFunction's afterBundling). */
export function vendoredPackageCommands(inputDir: string, outputDir: string): string[] {
  const bundle = join(outputDir, 'index.mjs');
  return VENDORED_PACKAGES.map(({ name, entry }) => {
    const dir = join(outputDir, 'node_modules', name);
    const esbuild = [
      join(inputDir, 'node_modules', '.bin', 'esbuild'),
      join(inputDir, entry),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node22',
      '--main-fields=module,main',
      '--minify-whitespace',
      '--minify-syntax',
      `--banner:js=${ESM_REQUIRE_BANNER}`,
      ...VENDORED_PACKAGES.filter((p) => p.name !== name).map((p) => `--external:${p.name}`),
      `--outfile=${join(dir, 'index.mjs')}`,
      '--log-level=warning',
    ];
    const packageJson = JSON.stringify({ name, type: 'module', exports: './index.mjs' });
    return `if grep -qF ${shellQuote(`import("${name}")`)} ${shellQuote(bundle)}; then ${esbuild.map(shellQuote).join(' ')} && printf %s ${shellQuote(packageJson)} > ${shellQuote(join(dir, 'package.json'))}; fi`;
  });
}

/** Injected into every bundle: see BUNDLE_ESBUILD_ARGS. */
export const BUNDLE_INJECT = [join(REPO_ROOT, 'functions/handlers/runtime/install-source-mapped-stacks.ts')];

/** The CloudWatch namespace of the Powertools metrics of every handler. */
export const METRICS_NAMESPACE = 'Clusterless';

export interface HandlerFunctionProps {
  /** The handler file, relative to the repository root, e.g. `functions/handlers/http.ts`. */
  readonly entry: string;
  readonly description: string;
  /** POWERTOOLS_SERVICE_NAME: the `service` of every log line, metric and trace of this function. */
  readonly serviceName: string;
  /** Where the function logs go (encrypted, with retention). */
  readonly logs: LogEncryption;
  /**
   * The Lambda runtime. DESIGN section 2 pins Node.js 22, the line the test suite runs on.
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default - no environment beyond Powertools' */
  readonly environment?: Record<string, string>;
  /** @default - unreserved: the account's pool */
  readonly reservedConcurrentExecutions?: number;
  /** Run in this VPC (functions that reach workload API servers). @default - Lambda's own network */
  readonly network?: WorkloadNetwork;
}

/**
 * One Lambda handler of functions/handlers: an ESM bundle made with the local esbuild (no Docker), arm64,
 * X-Ray active tracing, Powertools logger/metrics/tracer settings, its own encrypted log group with
 * retention, and a role of its own that starts with nothing but writing that log group (no managed
 * policies): every other permission is granted by the construct that uses the function.
 */
export class HandlerFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  /** The function's own log group (what its log lines are filtered from, e.g. StepFailureAlarms). */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const logGroup = props.logs.newLogGroup(this, 'Logs');
    this.logGroup = logGroup;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description.slice(0, 1000),
    });
    logGroup.grantWrite(this.role);
    props.network?.grantNetworkInterfaces(this.role);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: props.runtime ?? lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(60),
      role: this.role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      ...(props.network ? { vpc: props.network.vpc, vpcSubnets: props.network.subnetSelection, securityGroups: props.network.securityGroups } : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // Events and responses can hold manifests and errors: neither is logged nor put in traces.
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        POWERTOOLS_TRACER_CAPTURE_ERROR: 'true',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The SDK is bundled at the version the tests ran with, not the runtime's.
        bundleAwsSDK: true,
        esbuildArgs: BUNDLE_ESBUILD_ARGS,
        inject: BUNDLE_INJECT,
        externalModules: VENDORED_PACKAGES.map((p) => p.name),
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => vendoredPackageCommands(inputDir, outputDir),
        },
        forceDockerBundling: false,
      },
    });
  }
}
