// Regenerates the README's screenshots of the dashboard (docs/screenshots/*.png): the demo on a fresh embedded host
// (simulated cloud, fast clock), a machine killed and a rollout started so that every view has something to show,
// captured by headless Chromium (scripts/setup-browser.sh). Run with `npm run screenshots`.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeDashboard } from '../dashboard/assets.js';
import { startEmbeddedHost } from '../local/embedded-host.js';
import { launchChromium } from '../test/support/browser.js';
import type { Machine } from '../functions/api/machine.js';
import { waitUntil } from '../test/support/wait.js';

const OUT = resolve(import.meta.dirname, '../docs/screenshots');
const NS = '/apis/clusterless.dev/v1alpha1/namespaces/default';

await writeDashboard();
const dataDir = mkdtempSync(join(tmpdir(), 'clusterless-screenshots-'));
const host = await startEmbeddedHost({ port: 0, dataDir, timeScale: 20, demo: true, log: () => {} });
const browser = await launchChromium();
try {
  const api = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const res = await fetch(host.url + path, { method, headers: body ? { 'content-type': type } : {}, ...(body ? { body: JSON.stringify(body) } : {}) });
    return (await res.json()) as { items: Machine[] };
  };
  await waitUntil(
    'the demo Ready',
    async () => (await api('GET', `${NS}/machines`)).items.filter((m) => m.status?.phase === 'Running').length === 6,
    60_000,
    200,
  );
  // A worker killed (the health check replaces it) and a rollout to slower machines, for the rollouts and health views.
  const workers = (await api('GET', `${NS}/machines`)).items.filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'demo-md-0');
  await api('POST', `/clusterless/v1/sim/namespaces/default/machines/${workers[0]!.metadata.name}/kill`, {});
  await api('POST', `${NS}/machineclasses`, {
    apiVersion: 'clusterless.dev/v1alpha1',
    kind: 'MachineClass',
    metadata: { name: 'sim-medium' },
    spec: { sim: { bootSeconds: 200, nodeReadySeconds: 4 } },
  });
  await api(
    'PATCH',
    `${NS}/machinedeployments/demo-md-0`,
    { spec: { template: { spec: { machineClassRef: { name: 'sim-medium' } } } } },
    'application/merge-patch+json',
  );
  await new Promise((r) => setTimeout(r, 3_000));
  mkdirSync(OUT, { recursive: true });
  chmodSync(OUT, 0o755);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  for (const [file, hash] of [
    ['fleet', '#/fleet'],
    ['cluster', '#/cluster/default/demo'],
    ['rollouts', '#/rollouts'],
    ['health', '#/health'],
    ['cost', '#/cost'],
  ] as const) {
    await page.goto(`${host.url}/${hash}`);
    await page.getByText('Live', { exact: true }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(OUT, `${file}.png`), fullPage: true });
    // The host holds a private umask while it runs; the screenshots are for the repository.
    chmodSync(join(OUT, `${file}.png`), 0o644);
    console.error(`screenshots: ${join(OUT, `${file}.png`)}`);
  }
} finally {
  await browser.close();
  await host.close();
  rmSync(dataDir, { recursive: true, force: true });
}
