/**
 * Loading kubeconfigs and reading errors of @kubernetes/client-node, for the mirror (which only the embedded host
 * runs) and the e2e harness. The task functions and the sweep reach workload clusters through rest-client.ts
 * instead, so that their bundles do not carry @kubernetes/client-node.
 */
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { isInlineKubeconfig } from './kubeconfig.js';

export { isInlineKubeconfig };

/** A kubeconfig as users give it: a KubeConfig, a file path, or the file's text (YAML or JSON). */
export type KubeconfigSource = KubeConfig | string;

export function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  if (typeof source !== 'string') return source;
  const kc = new KubeConfig();
  if (isInlineKubeconfig(source)) kc.loadFromString(source);
  else kc.loadFromFile(source);
  if (!kc.getCurrentCluster()) throw new Error('the kubeconfig has no current cluster');
  return kc;
}

/** The server URL of the kubeconfig's current context. */
export function serverOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? '';
}

/** The HTTP status of an API error; undefined for transport errors (refused, reset, TLS, timeout). */
export function httpStatusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** The Kubernetes Status an API error carries, when its body is one. */
export function statusBodyOf(err: unknown): { message?: string; reason?: string; code?: number } | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = err.body;
  if (body && typeof body === 'object') return body as { message?: string };
  if (typeof body === 'string')
    try {
      return JSON.parse(body) as { message?: string };
    } catch {
      return { message: body };
    }
  return undefined;
}

/** A short text for logs and status: the Status message when there is one. */
export function errorMessage(err: unknown): string {
  const status = statusBodyOf(err);
  if (status?.message) return `${httpStatusOf(err)}: ${status.message}`;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}
