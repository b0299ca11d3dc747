/** WorkloadClients keeps one client per cluster: renewed credentials replace the old client, not pile up. */
import { describe, expect, it } from 'vitest';
import { WorkloadClients } from '../../../functions/adapters/kubernetes/workload.js';

/** A kubeconfig text; `user` stands for the short-lived credentials a renewal changes. */
const kubeconfig = (server: string, user: string) =>
  [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: c, cluster: {server: "${server}"}}]`,
    `users: [{name: ${user}, user: {token: ${user}}}]`,
    `contexts: [{name: c, context: {cluster: c, user: ${user}}}]`,
    'current-context: c',
  ].join('\n');

describe('WorkloadClients', () => {
  it('gives the same client for the same kubeconfig, a new one for renewed credentials, one per cluster', async () => {
    // Arrange: what the resolver answers, changed between calls as a renewal would.
    const texts: Record<string, string | undefined> = {
      'ns/a': kubeconfig('https://a.test:6443', 'first'),
      'ns/b': kubeconfig('https://b.test:6443', 'first'),
    };
    const clients = new WorkloadClients({ kubeconfigFor: (ns, name) => texts[`${ns}/${name}`] });
    // Act
    const a1 = await clients.core('ns', 'a');
    const a2 = await clients.core('ns', 'a');
    texts['ns/a'] = kubeconfig('https://a.test:6443', 'renewed');
    const a3 = await clients.core('ns', 'a');
    await clients.core('ns', 'b');
    const none = await clients.core('ns', 'gone');
    // Assess
    expect(a1).toBeDefined();
    expect(a2).toBe(a1);
    expect(a3).not.toBe(a1);
    expect(await clients.core('ns', 'a')).toBe(a3);
    expect(clients.clusterCount).toBe(2);
    expect(none).toBeUndefined();
  });
});
