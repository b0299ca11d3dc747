/**
 * `clusterless kubeconfig`: a kubeconfig whose user runs `clusterless token` (token.ts) as kubectl's exec credential
 * plugin, as `aws eks update-kubeconfig` writes one. Apart from token.ts so that the token, which kubectl asks for on
 * every request, does not load the YAML library.
 */
import { stringify } from 'yaml';
import type { Context } from '../context.js';
import { audienceOf, type TokenOptions } from './token.js';

export interface KubectlKubeconfigOptions {
  /** The kubectl door (KubectlApiUrl). */
  server: string;
  /** The command and arguments that print the token, e.g. ['clusterless', 'token', '--server', URL]. */
  command: readonly string[];
  /** @default 'clusterless' */
  name?: string;
  /** PEM of the CA the server's certificate chains to. @default - the system's trust store (API Gateway's certificates) */
  certificateAuthority?: string;
}

/** A kubeconfig whose user runs `clusterless token` as an exec plugin (what `aws eks update-kubeconfig` writes). */
export function kubectlKubeconfig(options: KubectlKubeconfigOptions): string {
  const name = options.name ?? 'clusterless';
  const [command, ...args] = options.command;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: options.server,
          ...(options.certificateAuthority ? { 'certificate-authority-data': Buffer.from(options.certificateAuthority).toString('base64') } : {}),
        },
      },
    ],
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command,
            args,
            interactiveMode: 'Never',
            provideClusterInfo: false,
          },
        },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
  });
}

/** The arguments of `clusterless token` that reproduce these options. */
export function tokenArgs(server: URL, options: TokenOptions): string[] {
  return [
    'token',
    '--server',
    server.toString(),
    ...(options.apiId ? ['--api-id', options.apiId] : []),
    ...(options.region ? ['--region', options.region] : []),
    ...(options.profile ? ['--profile', options.profile] : []),
  ];
}

export function printKubeconfig(ctx: Context, server: URL, options: TokenOptions): void {
  // Fails here, not at kubectl's first request, when the audience cannot be told.
  audienceOf(server, options.apiId);
  ctx.io.stdout.write(kubectlKubeconfig({ server: server.toString(), command: ['clusterless', ...tokenArgs(server, options)] }));
}
