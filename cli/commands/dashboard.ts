/**
 * `clusterless dashboard`: serves the dashboard page on 127.0.0.1 (a free port unless --port) and proxies its reads
 * to --server, signed with the user's AWS credentials (or sent with --token), so the browser holds no credential
 * and nothing new listens on AWS. Runs until interrupted. See dashboard/proxy.ts for what is forwarded.
 */
import { startDashboardProxy } from '../../dashboard/proxy.js';
import type { RequestSigner } from '../sigv4.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';

export interface DashboardOptions {
  port?: string;
}

export async function dashboard(
  ctx: Context,
  server: URL,
  options: DashboardOptions,
  auth: { token?: string; signer?: () => Promise<RequestSigner | undefined> },
): Promise<void> {
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number (0 to 65535), not "${options.port}"`);
  const signer = await auth.signer?.();
  if (server.protocol === 'https:' && !signer && !auth.token)
    ctx.note('note: no AWS credentials were found to sign the requests; the server will likely refuse them (401/403)');
  const proxy = await startDashboardProxy({
    server,
    fetch: ctx.io.fetch,
    ...(signer ? { signer } : {}),
    ...(auth.token ? { bearer: auth.token } : {}),
    ...(port ? { port } : {}),
  });
  ctx.out(`dashboard: open ${proxy.url}`);
  ctx.note(`dashboard: reads of ${server.origin} go through this proxy${signer ? ' signed with your AWS credentials' : ''}; Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    const off = ctx.io.onInterrupt(() => {
      off();
      resolve();
    });
  });
  await proxy.close();
}
