/**
 * The demo of `npm start`: applies examples/demo/cluster.yaml through the API (if the cluster is not there
 * yet) and reports progress until the cluster is Ready. The host keeps serving afterwards.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Cluster } from '../functions/api/cluster.js';
import { kindByName } from '../functions/api/kinds.js';
import type { HttpRequest, HttpResponse } from '../functions/api/http/index.js';
import type { Machine } from '../functions/api/machine.js';
import { isTrue } from '../functions/core/conditions.js';
import type { Store } from '../functions/ports.js';

export const DEMO_FILE = resolve(import.meta.dirname, '../examples/demo/cluster.yaml');
const BASE = '/apis/clusterless.dev/v1alpha1/namespaces';

export async function applyDemo(handle: (req: HttpRequest) => Promise<HttpResponse>, log: (line: string) => void): Promise<string> {
  const docs = parseAllDocuments(readFileSync(DEMO_FILE, 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
  const cluster = docs.find((d) => d.kind === 'Cluster')!;
  for (const doc of docs) {
    const plural = kindByName(doc.kind)!.plural;
    const ns = doc.metadata.namespace ?? 'default';
    const exists = await handle({ method: 'GET', path: `${BASE}/${ns}/${plural}/${doc.metadata.name}`, query: {}, headers: {} });
    if (exists.status === 200) continue;
    const r = await handle({
      method: 'POST',
      path: `${BASE}/${ns}/${plural}`,
      query: {},
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(doc),
    });
    if (r.status >= 300) throw new Error(`demo: could not create ${doc.kind} ${doc.metadata.name}: ${r.body}`);
    log(`demo: ${doc.kind.toLowerCase()}.clusterless.dev/${doc.metadata.name} created`);
  }
  return cluster.metadata.name;
}

/** One line of progress: machines by phase, and whether the cluster is Ready. */
export async function demoProgress(store: Store, clusterName: string, namespace = 'default'): Promise<{ line: string; ready: boolean }> {
  const objects = await store.listCluster(namespace, clusterName);
  const cluster = objects.find((o): o is Cluster => o.kind === 'Cluster');
  const machines = objects.filter((o): o is Machine => o.kind === 'Machine');
  const phases = new Map<string, number>();
  for (const m of machines) phases.set(m.status?.phase ?? 'Pending', (phases.get(m.status?.phase ?? 'Pending') ?? 0) + 1);
  const running = machines.filter((m) => m.status?.phase === 'Running').length;
  const clusterReady = isTrue(cluster?.status?.conditions, 'Ready');
  // The demo is done when the cluster is Ready and every machine it declares runs.
  const ready = clusterReady && machines.length > 0 && running === machines.length;
  const summary =
    [...phases]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([p, n]) => `${n} ${p}`)
      .join(', ') || 'no machines yet';
  return { line: `demo: cluster ${clusterName} ${cluster?.status?.phase ?? 'Pending'}${clusterReady ? ' and Ready' : ''}: machines ${summary}`, ready };
}
