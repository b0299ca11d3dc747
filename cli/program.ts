/**
 * The `clusterless` command line (DESIGN section 9): commander wiring, global options, exit codes. Every
 * command but `up` speaks only HTTP to --server.
 */
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS } from '../functions/api/http/limits.js';
import { ApiClient, DEFAULT_SERVER } from './client.js';
import { makeContext, type Context } from './context.js';
import { AlreadyReported, ExitCode, UsageError, errorLine, exitCodeOf } from './errors.js';
import { colorsFor, type Io } from './io.js';
import type { CredentialsProvider, RequestSigner } from './sigv4.js';
import { CONVERT_OUTPUT_FORMATS, OUTPUT_FORMATS } from './format/output-formats.js';
import type * as deleteCommand from './commands/delete.js';
import type * as generateCommand from './commands/generate.js';
import type * as getCommand from './commands/get.js';
import type * as rolloutCommand from './commands/rollout.js';
import type * as upCommand from './commands/up.js';
import type { TokenOptions } from './commands/token.js';
import type { SimInterruptOptions } from './commands/sim.js';
import type { DashboardOptions } from './commands/dashboard.js';
import { registerFleetCommands } from './commands/fleet-commands.js';

// Each command's module is imported when the command runs, not before: `clusterless token`, which kubectl runs for
// every request it makes, then loads neither the embedded host nor the API's schemas nor any other command.

interface GlobalOptions {
  server?: string;
  token?: string;
}

export interface CliDeps {
  /** The AWS credential chain (of a profile: `token --profile`); tests pass fixed credentials, main.ts the SDK's node chain. */
  credentials?: (options?: { profile?: string }) => CredentialsProvider;
}

const EPILOGUE = `
Environment:
  CLUSTERLESS_SERVER   default for --server (${DEFAULT_SERVER})
  CLUSTERLESS_TOKEN    default for --token
  NO_COLOR             no colours even on a terminal (output to a pipe or file never has any)
  AWS_*                with an https --server and no token, requests are signed with SigV4 for API Gateway
                       using the standard AWS credential chain; region from the host or AWS_REGION

Exit codes:
  0  success
  1  the API refused the request, or the operation failed or timed out
  2  usage error: bad command line or input file (nothing was sent)
  3  the server could not be reached

On failure one line "error: <reason>" is printed on stderr.`;

/** The server URL, checked when a command first needs it (so that `generate` works whatever it is). */
export function serverUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server must be an http or https URL such as ${DEFAULT_SERVER}, not "${server}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--server must be an http or https URL, not "${server}"`);
  return url;
}

/** Resolves the signer at the first request: only for https, only when no token, only if credentials exist. */
function signerFactory(server: string, io: Io, deps: CliDeps): () => Promise<RequestSigner | undefined> {
  return async () => {
    const url = serverUrl(server);
    if (url.protocol !== 'https:') return undefined;
    const provider = deps.credentials?.();
    if (!provider) return undefined;
    let credentials: Awaited<ReturnType<typeof provider>>;
    try {
      credentials = await provider();
    } catch {
      return undefined; // no credentials: send unsigned, and say so if the server refuses
    }
    const { createSigV4Signer, signingRegion } = await import('./sigv4.js');
    const region = signingRegion(url.hostname, io.env);
    if (!region) throw new UsageError(`cannot tell which AWS region to sign requests to ${url.host} for: set AWS_REGION`);
    return createSigV4Signer({ region, credentials });
  };
}

function contextFor(cmd: Command, io: Io, deps: CliDeps): Context {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const server = g.server ?? io.env['CLUSTERLESS_SERVER'] ?? DEFAULT_SERVER;
  const token = g.token ?? io.env['CLUSTERLESS_TOKEN'];
  const signer = token ? undefined : signerFactory(server, io, deps);
  return makeContext(io, new ApiClient({ server, fetch: io.fetch, validate: serverUrl, ...(token ? { token } : {}), ...(signer ? { signer } : {}) }));
}

type Action<A extends unknown[]> = (ctx: Context, ...args: A) => Promise<void> | void;

/** Wraps a command: commander passes (args..., options, command); the context is made from the globals. */
function action<A extends unknown[]>(io: Io, deps: CliDeps, fn: Action<A>) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    await fn(contextFor(cmd, io, deps), ...(args.slice(0, -1) as A));
  };
}

const namespaceOption = () => new Option('-n, --namespace <namespace>', 'namespace of the object (default: default)');
const intervalOption = () => new Option('--interval <duration>', 'how often to poll the server').default('1s');

export function buildProgram(io: Io, deps: CliDeps = {}): Command {
  const program = new Command('clusterless')
    .description('A serverless Cluster API: declare Kubernetes clusters, clusterless makes the world match.')
    .addOption(new Option('--server <url>', `the clusterless API (env CLUSTERLESS_SERVER, default ${DEFAULT_SERVER})`))
    .addOption(
      new Option(
        '--token <token>',
        'bearer token sent with every request; for `up`, the token clients must send (env CLUSTERLESS_TOKEN; `up --provider aws` without one makes one into <data-dir>/client-token)',
      ),
    )
    .addHelpText('after', EPILOGUE)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Errors are printed by runCli, as the one `error:` line.
      outputError: () => {},
    })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  program
    .command('up')
    .description('run the whole control plane on this machine (embedded store, local workflows, simulated machines) until Ctrl-C')
    .option('--port <port>', 'port on 127.0.0.1; 0 picks a free one', '8080')
    .option('--data-dir <dir>', 'where the state is kept', '.clusterless')
    .addOption(new Option('--provider <provider>', 'where machines run').choices(['sim', 'aws']).default('sim'))
    .addOption(new Option('--nodes <nodes>', "where node readiness comes from (default: the provider's own)").choices(['sim', 'kubernetes']))
    .option('--kms-key-id <arn>', 'aws: bootstrap machines with kubeadm, their secrets encrypted with this KMS key')
    .option('--time-scale <n>', 'divide every wait and retry interval by N (demos, tests)', '1')
    .option('--kubeconfig <file>', 'mirror the objects into this Kubernetes cluster')
    .option('--demo', 'apply the demo fleet (examples/) and show its progress')
    .option(
      '--max-replicas <n>',
      `the most replicas a MachineDeployment, MachineSet or ControlPlane may ask for through the API (default: ${DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS})`,
    )
    .action(async (options: Parameters<typeof upCommand.up>[1], cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { up } = await import('./commands/up.js');
      await up(makeContext(io, new ApiClient({ server: DEFAULT_SERVER, fetch: io.fetch })), options, g.token ?? io.env['CLUSTERLESS_TOKEN']);
    });

  program
    .command('apply')
    .description('create or update the objects of manifests (multi-document YAML, JSON or a List; Cluster API manifests are converted first)')
    .requiredOption('-f, --filename <file...>', 'manifest file, directory, or - for stdin')
    .addOption(namespaceOption())
    .action(action(io, deps, (ctx, options: { filename: string[]; namespace?: string }) => import('./commands/apply.js').then((m) => m.apply(ctx, options))));

  program
    .command('convert')
    .description('print Cluster API manifests (clusterctl generate cluster, AWS) as clusterless objects; what has no equivalent is warned about on stderr')
    .requiredOption('-f, --filename <file...>', 'manifest file, directory, or - for stdin')
    .addOption(new Option('-o, --output <format>', 'output format').choices([...CONVERT_OUTPUT_FORMATS]).default('yaml'))
    .action(action(io, deps, (ctx, options: { filename: string[]; output?: string }) => import('./commands/convert.js').then((m) => m.convert(ctx, options))));

  program
    .command('import')
    .description(
      'take over clusters that Cluster API (AWS) manages, paused there: their objects are converted and their running instances adopted, nothing launched',
    )
    .argument('[cluster...]', 'the Cluster API clusters (default: every one in the namespace)')
    .requiredOption('--kubeconfig <file>', 'kubeconfig of the Cluster API management cluster')
    .addOption(namespaceOption())
    .action(
      action(io, deps, (ctx, clusters: string[], options: { kubeconfig: string; namespace?: string }) =>
        import('./commands/import.js').then((m) => m.importClusters(ctx, clusters, options)),
      ),
    );

  program
    .command('get')
    .description('list objects of a kind, or show one')
    .argument(
      '<kind>',
      'clusters, controlplanes, machineclasses, machinedeployments, machinesets, machines, machinehealthchecks (or a singular or short name); or kubeconfig CLUSTER for its admin kubeconfig',
    )
    .argument('[name]', 'one object')
    .addOption(namespaceOption())
    .option('-A, --all-namespaces', 'list across every namespace')
    .addOption(new Option('-o, --output <format>', 'output format').choices([...OUTPUT_FORMATS]))
    .option('-l, --selector <selector>', 'label selector, e.g. clusterless.dev/cluster-name=demo')
    .option('-w, --watch', 'after listing, print the rows that change until interrupted')
    .option('--watch-timeout <duration>', 'stop watching after this long')
    .addOption(intervalOption())
    .option('--expiration <duration>', 'get kubeconfig only: how long its credentials last (default 1h, at most 24h)')
    .action(
      action(io, deps, (ctx, kind: string, name: string | undefined, options: Parameters<typeof getCommand.get>[3] & { expiration?: string }) => {
        if (options.expiration !== undefined && kind.toLowerCase() !== 'kubeconfig') throw new UsageError('--expiration is for get kubeconfig only');
        return import('./commands/get.js').then((m) => m.get(ctx, kind, name, options));
      }),
    );

  program
    .command('describe')
    .description('show a cluster as a tree with the conditions of its control plane, deployments and machines')
    .argument('<kind>', 'cluster')
    .argument('<name>')
    .addOption(namespaceOption())
    .action(
      action(io, deps, (ctx, kind: string, name: string, options: { namespace?: string }) =>
        import('./commands/describe.js').then((m) => m.describe(ctx, kind, name, options)),
      ),
    );

  program
    .command('scale')
    .description('set the replicas of a machinedeployment, machineset or controlplane')
    .argument('<kind>')
    .argument('<name>')
    .requiredOption('--replicas <n>', 'the new number of replicas')
    .addOption(namespaceOption())
    .action(
      action(io, deps, (ctx, kind: string, name: string, options: { replicas?: string; namespace?: string }) =>
        import('./commands/scale.js').then((m) => m.scale(ctx, kind, name, options)),
      ),
    );

  program
    .command('move')
    .description(
      'move a cluster to another clusterless installation: objects, history and cloud resources; machines keep running (re-run to finish a move that stopped)',
    )
    .argument('<cluster>')
    .requiredOption('--to <url>', 'the server of the installation to move the cluster to')
    .addOption(new Option('--to-token <token>', 'bearer token for --to (env CLUSTERLESS_TO_TOKEN)'))
    .addOption(namespaceOption())
    .action(
      action(io, deps, (ctx, cluster: string, options: { to: string; toToken?: string; namespace?: string }) => {
        const token = options.toToken ?? io.env['CLUSTERLESS_TO_TOKEN'];
        const signer = token ? undefined : signerFactory(options.to, io, deps);
        const target = new ApiClient({ server: options.to, fetch: io.fetch, validate: serverUrl, ...(token ? { token } : {}), ...(signer ? { signer } : {}) });
        return import('./commands/move.js').then((m) => m.move(ctx, target, cluster, options));
      }),
    );

  const rollout = program.command('rollout').description('manage the rollout of a machinedeployment');
  rollout
    .command('status')
    .description('wait until the rollout is complete, showing its progress')
    .argument('<kind>', 'machinedeployment or controlplane')
    .argument('<name>')
    .addOption(namespaceOption())
    .option('--timeout <duration>', 'give up after this long (0: wait forever)', '0')
    .addOption(intervalOption())
    .action(
      action(io, deps, (ctx, kind: string, name: string, options: Parameters<typeof rolloutCommand.rolloutStatus>[3]) =>
        import('./commands/rollout.js').then((m) => m.rolloutStatus(ctx, kind, name, options)),
      ),
    );
  rollout
    .command('history')
    .description('list the revisions of a machinedeployment')
    .argument('<kind>', 'machinedeployment')
    .argument('<name>')
    .addOption(namespaceOption())
    .option('--revision <n>', 'show the machine template of one revision')
    .action(
      action(io, deps, (ctx, kind: string, name: string, options: { namespace?: string; revision?: string }) =>
        import('./commands/rollout.js').then((m) => m.rolloutHistory(ctx, kind, name, options)),
      ),
    );
  rollout
    .command('undo')
    .description('roll back to the previous revision, or to --to-revision')
    .argument('<kind>', 'machinedeployment')
    .argument('<name>')
    .addOption(namespaceOption())
    .option('--to-revision <n>', 'the revision to go back to (0: the previous one)')
    .action(
      action(io, deps, (ctx, kind: string, name: string, options: { namespace?: string; toRevision?: string }) =>
        import('./commands/rollout.js').then((m) => m.rolloutUndo(ctx, kind, name, options)),
      ),
    );
  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const)
    rollout
      .command(verb)
      .description(paused ? 'stop the rollout where it is (spec.paused)' : 'let a paused rollout continue')
      .argument('<kind>', 'machinedeployment')
      .argument('<name>')
      .addOption(namespaceOption())
      .action(
        action(io, deps, (ctx, kind: string, name: string, options: { namespace?: string }) =>
          import('./commands/rollout.js').then((m) => m.rolloutPause(ctx, kind, name, paused, options)),
        ),
      );

  registerFleetCommands(program, (fn) => action(io, deps, fn));

  program
    .command('delete')
    .description('delete an object; its machines and infrastructure are torn down first')
    .argument('<kind>')
    .argument('[name]')
    .addOption(namespaceOption())
    .option('--wait', 'return only once the object is gone')
    .option('--timeout <duration>', 'with --wait, give up after this long (0: wait forever)', '0')
    .option('--ignore-not-found', 'succeed when the object does not exist')
    .addOption(intervalOption())
    .action(
      action(io, deps, (ctx, kind: string, name: string | undefined, options: Parameters<typeof deleteCommand.deleteObject>[3]) =>
        import('./commands/delete.js').then((m) => m.deleteObject(ctx, kind, name, options)),
      ),
    );

  program
    .command('generate')
    .description('print the manifests of a new cluster or ClusterClass (apply them with: clusterless apply -f -)')
    .argument('<what>', 'cluster or clusterclass')
    .argument('<name>', 'name of the cluster or ClusterClass')
    .option('--class <name>', 'cluster: a Cluster of this ClusterClass (spec.topology), the class making its machines')
    .option('--kubernetes-version <version>', 'Kubernetes version, e.g. v1.31.2')
    .option('--version <version>', 'the same as --kubernetes-version')
    .option('--control-plane-machine-count <n>', "control-plane machines (odd; default 1, 3 with --provider process; with --class: the class's)")
    .option('--worker-machine-count <n>', 'worker machines (default 0, 2 with --provider process)')
    .option('--workers <n>', 'the same as --worker-machine-count')
    .addOption(new Option('--provider <provider>', 'where the machines run').choices(['sim', 'aws', 'process']).default('sim'))
    .addOption(namespaceOption())
    .option('--aws-region <region>', 'aws: the region of the cluster')
    .option('--aws-subnet <id:zone...>', 'aws: a subnet and its availability zone, e.g. subnet-0abc...:us-east-1a (repeatable)')
    .option('--aws-security-group-id <id...>', 'aws: security groups of the machines')
    .option('--aws-instance-type <type...>', 'aws: instance types in fallback order (default m7i.large)')
    .option('--aws-ami <id>', 'aws: the AMI (default: Ubuntu 24.04 through its SSM parameter)')
    .option('--aws-image-ssm-parameter <name>', 'aws: an SSM parameter holding the AMI id')
    .option('--aws-iam-instance-profile <name>', 'aws: the instance profile of the machines')
    .option(
      '--aws-control-plane-endpoint <host[:port]>',
      'aws: the DNS name of your load balancer in front of the control plane (default: clusterless makes one)',
    )
    .option(
      '--aws-target-group-arn <arn>',
      'aws: the target group of your load balancer, tagged clusterless.dev/installation=<id> and clusterless.dev/cluster=<namespace>/<name>; control-plane machines are registered in it',
    )
    .option('--addon <file...>', 'manifests to apply to the cluster once its API answers (a ClusterResourceSet; repeatable), e.g. a CNI')
    .action(
      action(io, deps, (ctx, what: string, name: string, options: Parameters<typeof generateCommand.generate>[3]) =>
        import('./commands/generate.js').then((m) => m.generate(ctx, what, name, options)),
      ),
    );

  const mirror = program.command('mirror').description('mirror the objects into a Kubernetes cluster, as CRDs');
  mirror
    .command('set')
    .description('mirror into the cluster of a kubeconfig (switching targets at any time)')
    .option('--kubeconfig <file>', 'kubeconfig of the target cluster')
    .option('--context <name>', 'context of the kubeconfig to use (default: its current context)')
    .action(
      action(io, deps, (ctx, options: { kubeconfig?: string; context?: string }) => import('./commands/service.js').then((m) => m.mirrorSet(ctx, options))),
    );
  mirror
    .command('status')
    .description('show the mirror target and how far it is in sync')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']))
    .action(action(io, deps, (ctx, options: { output?: string }) => import('./commands/service.js').then((m) => m.mirrorStatus(ctx, options))));

  const sim = program.command('sim').description('act on the simulated cloud of the embedded host');
  sim
    .command('kill')
    .description("kill a machine's simulated instance, or a process machine's programs (SIGKILL), as a failure would")
    .argument('<machine>')
    .addOption(namespaceOption())
    .action(
      action(io, deps, (ctx, machine: string, options: { namespace?: string }) =>
        import('./commands/service.js').then((m) => m.simKill(ctx, machine, options)),
      ),
    );
  sim
    .command('interrupt')
    .description("send a spot interruption warning for a simulated machine's instance (terminated 120 simulated seconds later), as EC2 would")
    .argument('<machine>')
    .addOption(namespaceOption())
    .addOption(new Option('--rebalance', 'send an EC2 Instance Rebalance Recommendation instead (nothing is terminated)'))
    .action(
      action(io, deps, (ctx, machine: string, options: SimInterruptOptions) => import('./commands/sim.js').then((m) => m.simInterrupt(ctx, machine, options))),
    );

  program
    .command('cost')
    .description('what the fleet costs to run')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']))
    .action(action(io, deps, (ctx, options: { output?: string }) => import('./commands/service.js').then((m) => m.cost(ctx, options))));

  // kubectl against the deployed API (its KubectlApiUrl): an exec credential plugin, and a kubeconfig that runs it.
  const tokenOptions = (cmd: Command) =>
    cmd
      .option('--api-id <id>', 'the API id of the kubectl door (default: the first label of an execute-api --server host)')
      .option('--region <region>', 'the STS region to sign for (default: AWS_REGION, else the global endpoint)')
      .option('--profile <profile>', 'the AWS profile whose credentials sign the token');
  const serverOf = (cmd: Command) => serverUrl(cmd.optsWithGlobals<GlobalOptions>().server ?? io.env['CLUSTERLESS_SERVER'] ?? DEFAULT_SERVER);
  tokenOptions(
    program.command('token').description('print an ExecCredential for kubectl: an EKS-style token for the kubectl door of --server (a kubeconfig exec plugin)'),
  ).action(async (options: TokenOptions, cmd: Command) => {
    const credentials = deps.credentials?.(options.profile ? { profile: options.profile } : {});
    const { printToken } = await import('./commands/token.js');
    await printToken(makeContext(io, new ApiClient({ server: DEFAULT_SERVER, fetch: io.fetch })), serverOf(cmd), options, credentials);
  });
  tokenOptions(
    program.command('kubeconfig').description('print a kubeconfig for kubectl against the kubectl door --server, its user running `clusterless token`'),
  ).action(async (options: TokenOptions, cmd: Command) => {
    const { printKubeconfig } = await import('./commands/kubectl-kubeconfig.js');
    await printKubeconfig(makeContext(io, new ApiClient({ server: DEFAULT_SERVER, fetch: io.fetch })), serverOf(cmd), options);
  });

  // The dashboard against a deployed server: the page on loopback, its reads proxied and signed here.
  program
    .command('dashboard')
    .description('serve the web dashboard on 127.0.0.1 and proxy its reads to --server, signed with your AWS credentials')
    .option('--port <port>', 'the port on 127.0.0.1 (default: a free one)')
    .action(async (options: DashboardOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const server = g.server ?? io.env['CLUSTERLESS_SERVER'] ?? DEFAULT_SERVER;
      const token = g.token ?? io.env['CLUSTERLESS_TOKEN'];
      const ctx = makeContext(io, new ApiClient({ server: DEFAULT_SERVER, fetch: io.fetch }));
      const { dashboard } = await import('./commands/dashboard.js');
      return dashboard(ctx, serverUrl(server), options, token ? { token } : { signer: signerFactory(server, io, deps) });
    });

  return program;
}

/** Runs the CLI with `argv` (the arguments after the program name) and returns the exit code. */
export async function runCli(argv: readonly string[], io: Io, deps: CliDeps = {}): Promise<number> {
  const program = buildProgram(io, deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
      // A group (rollout, mirror, sim) or the program without a subcommand: the help went to stderr.
      if (err.code === 'commander.help') return ExitCode.usage;
      io.stderr.write(`${errorLine(err.message.replace(/^error:\s*/, ''))}\n`);
      return ExitCode.usage;
    }
    if (!(err instanceof AlreadyReported)) {
      const red = colorsFor(io.stderr, io.env).red;
      io.stderr.write(`${errorLine(err).replace(/^error:/, red('error:'))}\n`);
    }
    return exitCodeOf(err);
  }
}
