/**
 * `clusterless up`: the embedded host of DESIGN section 8 in this process, until SIGINT or SIGTERM. The host
 * is loaded only here, so that every other command works (and starts fast) without it.
 */
import { parseReplicaLimit } from '../../functions/api/http/limits.js';
import type { Context } from '../context.js';
import { OperationError, UsageError } from '../errors.js';

/** The contract of local/embedded-host.ts. */
export interface EmbeddedHostOptions {
  port: number;
  dataDir: string;
  provider: 'sim' | 'aws';
  nodes?: 'sim' | 'kubernetes';
  kmsKeyId?: string;
  timeScale: number;
  kubeconfig?: string;
  token?: string;
  demo?: boolean;
  maxMachineDeploymentReplicas?: number;
  log?: (line: string) => void;
}

export interface EmbeddedHost {
  url: string;
  close(): Promise<void>;
}

interface EmbeddedHostModule {
  startEmbeddedHost(options: EmbeddedHostOptions): Promise<EmbeddedHost>;
}

export const EMBEDDED_HOST_MODULE = '../local/embedded-host.js';

export interface UpOptions {
  port?: string;
  dataDir?: string;
  provider?: string;
  nodes?: string;
  kmsKeyId?: string;
  timeScale?: string;
  kubeconfig?: string;
  demo?: boolean;
  maxReplicas?: string;
}

export function upOptions(options: UpOptions, token: string | undefined): EmbeddedHostOptions {
  const port = Number(options.port ?? '8080');
  if (!/^\d+$/.test(options.port ?? '8080') || port > 65535)
    throw new UsageError(`--port must be a port number from 0 to 65535 (0 picks a free one), not "${options.port}"`);
  const provider = options.provider ?? 'sim';
  if (provider !== 'sim' && provider !== 'aws') throw new UsageError(`--provider must be sim or aws, not "${provider}"`);
  const nodes = options.nodes;
  if (nodes !== undefined && nodes !== 'sim' && nodes !== 'kubernetes') throw new UsageError(`--nodes must be sim or kubernetes, not "${nodes}"`);
  if (options.kmsKeyId !== undefined && provider !== 'aws')
    throw new UsageError('--kms-key-id is for the kubeadm bootstrap of EC2 machines: give it with --provider aws');
  let maxMachineDeploymentReplicas: number | undefined;
  try {
    if (options.maxReplicas !== undefined) maxMachineDeploymentReplicas = parseReplicaLimit(options.maxReplicas, '--max-replicas');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const timeScale = Number(options.timeScale ?? '1');
  if (!Number.isFinite(timeScale) || timeScale <= 0) throw new UsageError(`--time-scale must be a number > 0, not "${options.timeScale}"`);
  return {
    port,
    dataDir: options.dataDir ?? '.clusterless',
    provider,
    ...(nodes ? { nodes } : {}),
    ...(options.kmsKeyId ? { kmsKeyId: options.kmsKeyId } : {}),
    timeScale,
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(token ? { token } : {}),
    ...(options.demo ? { demo: true } : {}),
    ...(maxMachineDeploymentReplicas !== undefined ? { maxMachineDeploymentReplicas } : {}),
  };
}

async function loadHost(ctx: Context): Promise<EmbeddedHostModule> {
  let mod: unknown;
  try {
    mod = await ctx.io.importModule(EMBEDDED_HOST_MODULE);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    // Only the host module itself missing; a missing import inside it is a real error, shown as it is.
    if (e.code === 'ERR_MODULE_NOT_FOUND' && /Cannot find module '[^']*embedded-host\.js'/.test(e.message ?? ''))
      throw new OperationError('the embedded host (local/embedded-host.ts) is not part of this build', { cause: err });
    throw err;
  }
  if (typeof (mod as Partial<EmbeddedHostModule>).startEmbeddedHost !== 'function')
    throw new OperationError('local/embedded-host.ts does not export startEmbeddedHost');
  return mod as EmbeddedHostModule;
}

export async function up(ctx: Context, options: UpOptions, token: string | undefined): Promise<void> {
  const hostOptions = upOptions(options, token);
  const { startEmbeddedHost } = await loadHost(ctx);
  let host: EmbeddedHost;
  try {
    host = await startEmbeddedHost({ ...hostOptions, log: (line) => ctx.out(line) });
  } catch (err) {
    // The host says so itself when the data folder is another host's; anything else may be either.
    const hint =
      (err as Error).name === 'DataFolderInUseError' ? '' : ` (is another clusterless using ${hostOptions.dataDir}, or port ${hostOptions.port} taken?)`;
    throw new OperationError(`could not start: ${(err as Error).message}${hint}`, { cause: err });
  }
  ctx.out(`clusterless API listening on ${host.url} (data in ${hostOptions.dataDir}, provider ${hostOptions.provider})`);
  ctx.out(`dashboard: ${host.url}/${hostOptions.token ? ' (it asks for the token once)' : ''}`);
  const signal = await new Promise<string>((resolve) => {
    const off = ctx.io.onInterrupt((s) => {
      off();
      resolve(s);
    });
  });
  ctx.out(`clusterless: ${signal}, shutting down`);
  // A second signal while closing means "now": leave without waiting. One signal can arrive twice within
  // milliseconds (sent to the process group and relayed by a launcher in it), which is not a second request.
  const firstAt = Date.now();
  const offAgain = ctx.io.onInterrupt((s) => {
    if (Date.now() - firstAt < 1000) return;
    ctx.note(`clusterless: ${s} again, exiting without waiting`);
    ctx.io.exit(1);
  });
  try {
    await host.close();
  } finally {
    offAgain();
  }
  ctx.out('clusterless: stopped');
}
