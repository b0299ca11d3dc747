/**
 * Driving an embedded host over its HTTP API as a client would, for the tests of real programs (the process
 * provider): the kinds' plurals, a JSON request (merge patch for PATCH) whose answer is parsed when it is JSON, and
 * whether a process is still alive.
 */
import type { EmbeddedHost } from '../../local/embedded-host.js';

export const PLURALS: Record<string, string> = {
  MachineClass: 'machineclasses',
  Cluster: 'clusters',
  ControlPlane: 'controlplanes',
  MachineDeployment: 'machinedeployments',
  MachineHealthCheck: 'machinehealthchecks',
  ClusterResourceSet: 'clusterresourcesets',
};

/** `method path` on the host, with a JSON body; the answer's body parsed when it is JSON, else its text. */
export async function hostApi(host: EmbeddedHost, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(host.url + path, {
    method,
    headers: { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) : undefined };
}

/** Whether the process of that pid still runs (signal 0 checks without signalling). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
