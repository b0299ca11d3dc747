/**
 * The dashboard in a real headless Chromium (Debian's, unpacked by scripts/setup-browser.sh) against a real embedded
 * host on 127.0.0.1 running the demo on the simulated cloud with a fast clock and a client token: the token is asked
 * for and a wrong one said so, the fleet loads and follows the API's watch (a killed machine and its replacement
 * appear without a reload), a rollout shows in progress, and the views are reachable from the keyboard.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDashboard } from '../../../dashboard/assets.js';
import { startDashboardProxy } from '../../../dashboard/proxy.js';
import type { Machine } from '../../../functions/api/machine.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { launchChromium } from '../../support/browser.js';
import { freePort } from '../../support/free-port.js';
import { waitUntil } from '../../support/wait.js';

const TOKEN = 'dashboard-test-token';
const NS = '/apis/clusterless.dev/v1alpha1/namespaces/default';
const UI_TIMEOUT = 30_000;

let host: EmbeddedHost;
let dataDir: string;
let browser: Browser;
let page: Page;

async function api(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: any }> {
  const res = await fetch(host.url + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

const machines = async () => (await api('GET', `${NS}/machines`)).json.items as Machine[];
const workers = async () => (await machines()).filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'demo-md-0');
const banner = () => page.getByRole('alert');

beforeAll(async () => {
  // The bundle the host serves, as `npm start` builds it.
  await writeDashboard();
  dataDir = await mkdtemp(join(tmpdir(), 'clusterless-dashboard-'));
  host = await startEmbeddedHost({ port: 0, dataDir, timeScale: 20, token: TOKEN, demo: true, log: () => {} });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the dashboard served by the embedded host', () => {
  it('serves its page without a token, with a policy that allows only its own script, style and origin', async () => {
    const res = await fetch(`${host.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    // The API itself still needs the token.
    expect((await fetch(`${host.url}${NS}/clusters`)).status).toBe(401);
  });

  it('refuses the page to a request a browser was made to send from another site (the browser guard)', async () => {
    // fetch would not send another Host: node:http does, as a page re-pointed by DNS rebinding does.
    const status = await new Promise<number | undefined>((resolve, reject) =>
      request(`${host.url}/`, { headers: { host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end(),
    );
    expect(status).toBe(403);
  });

  it('asks for the token, and says so clearly when the token is wrong (401)', async () => {
    await page.goto(`${host.url}/`);
    await expect.poll(() => banner().textContent(), { timeout: UI_TIMEOUT }).toMatch(/needs a token \(401 Unauthorized\)/);
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => banner().textContent(), { timeout: UI_TIMEOUT }).toMatch(/refused the token \(401 Unauthorized\)/);
    expect(await page.getByLabel('API token').isVisible()).toBe(true);
  });

  it('loads the demo fleet and shows the cluster Ready', async () => {
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Connect' }).click();
    expect(await banner().isHidden()).toBe(true);
    const clusterRow = page.getByRole('table', { name: 'Clusters' }).getByRole('row').filter({ hasText: 'demo' });
    await expect.poll(() => clusterRow.textContent(), { timeout: UI_TIMEOUT }).toMatch(/Provisioned\s*True.*6\/6/);
    expect(await page.getByRole('region', { name: 'Machines by phase' }).textContent()).toMatch(/Running\s*6/);
    expect(await page.getByRole('region', { name: 'Machines by zone' }).textContent()).toMatch(/zone-a.*zone-b.*zone-c/);
  });

  it('follows the watch: a killed machine goes Failed and its replacement appears, without a reload', async () => {
    await page.evaluate('window.notReloaded = true');
    const before = new Set((await machines()).map((m) => m.metadata.name));
    const [victim] = await workers();
    const name = victim!.metadata.name;
    // The health check holds its remediation while the page is looked at (more unhealthy than maxUnhealthy allows):
    // a replacement can otherwise follow a kill within one of the page's frames, and the Failed row is never drawn.
    const checks = (await api('GET', `${NS}/machinehealthchecks`)).json.items as { metadata: { name: string } }[];
    const setMaxUnhealthy = async (value: string | number) => {
      for (const c of checks) {
        const res = await api('PATCH', `${NS}/machinehealthchecks/${c.metadata.name}`, { spec: { maxUnhealthy: value } }, 'application/merge-patch+json');
        expect(res.status).toBe(200);
      }
    };
    expect(checks.length).toBeGreaterThan(0);
    await setMaxUnhealthy(0);
    expect((await api('POST', `/clusterless/v1/sim/namespaces/default/machines/${name}/kill`, {})).status).toBe(200);
    const machinesTable = page.getByRole('table', { name: 'Machines' });
    await expect.poll(() => machinesTable.getByRole('row').filter({ hasText: name }).first().textContent(), { timeout: UI_TIMEOUT }).toMatch(/Failed|Deleting/);
    await setMaxUnhealthy('100%');
    const replacement = await waitUntil('a replacement worker', async () => (await workers()).find((m) => !before.has(m.metadata.name)), 40_000, 100);
    expect(replacement).toBeDefined();
    await expect.poll(() => machinesTable.getByRole('row').filter({ hasText: replacement!.metadata.name }).count(), { timeout: UI_TIMEOUT }).toBe(1);
    await expect.poll(() => machinesTable.getByRole('row').filter({ hasText: name }).count(), { timeout: UI_TIMEOUT }).toBe(0);
    expect(await page.evaluate('window.notReloaded')).toBe(true);
  });

  it('shows a MachineDeployment rollout in progress against its maxSurge and maxUnavailable', async () => {
    // Settled first (the killed worker replaced), so that what follows is the page seeing the new rollout.
    await page.getByRole('link', { name: 'Rollouts' }).click();
    const row = page.getByRole('table', { name: 'MachineDeployments' }).getByRole('row').filter({ hasText: 'demo-md-0' });
    await expect.poll(() => row.textContent(), { timeout: UI_TIMEOUT }).toMatch(/3\/3 updated, 3\/3 available.*Complete/);
    // Slow machines (10 simulated minutes to boot): the rollout stays in progress while the test looks.
    const slow = {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'MachineClass',
      metadata: { name: 'sim-slow' },
      spec: { sim: { bootSeconds: 600, nodeReadySeconds: 4 } },
    };
    expect((await api('POST', `${NS}/machineclasses`, slow)).status).toBe(201);
    const patch = { spec: { template: { spec: { machineClassRef: { name: 'sim-slow' } } } } };
    expect((await api('PATCH', `${NS}/machinedeployments/demo-md-0`, patch, 'application/merge-patch+json')).status).toBe(200);
    await expect.poll(() => row.textContent(), { timeout: UI_TIMEOUT }).toMatch(/maxSurge 1, maxUnavailable 0.*In progress/);
    expect(await row.getByRole('progressbar').getAttribute('aria-label')).toMatch(/MachineDeployment demo-md-0: \d of 3 updated and available/);
  });

  it('shows a FleetUpgrade with its phase and the counts of its clusters', async () => {
    const upgrade = {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'FleetUpgrade',
      metadata: { name: 'to-1-32' },
      spec: { clusterSelector: { matchLabels: { tier: 'canary-less' } }, version: 'v1.32.0' },
    };
    const created = await api('POST', `${NS}/fleetupgrades`, upgrade);
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    await page.getByRole('link', { name: 'Rollouts' }).click();
    const row = page.getByRole('table', { name: 'Fleet upgrades' }).getByRole('row').filter({ hasText: 'to-1-32' });
    await expect.poll(() => row.textContent(), { timeout: UI_TIMEOUT }).toMatch(/to-1-32\s*v1\.32\.0\s*(Pending|Progressing|Succeeded|Halted).*of 0/);
  });

  it("shows each cluster's own cost this month, as its tasks counted it, and the installation's", async () => {
    // The route the view reads: a row for the demo cluster, counted by its tasks (no share of machines).
    const cost = await api('GET', '/clusterless/v1/cost');
    const demo = (cost.json.clusters as { clusterName: string; usage: { lambdaRequests: number }; totalCost: number }[]).find((c) => c.clusterName === 'demo');
    expect(demo?.usage.lambdaRequests).toBeGreaterThan(0);
    await page.goto(`${host.url}/#/cost`);
    const table = page.getByRole('table', { name: /Per cluster-month/ });
    const row = table.getByRole('row').filter({ hasText: 'demo' });
    await expect.poll(() => row.textContent(), { timeout: UI_TIMEOUT }).toMatch(/demo\s*\d+\s*\d+\s*\$[0-9.]+\s*\$[0-9.]+/);
    expect(await page.locator('#cost-month').textContent()).toMatch(/^\$[0-9.]+$/);
    expect(await page.getByRole('main').textContent()).not.toMatch(/share of machines|only the embedded host/);
  });

  it('reaches every view from the keyboard', async () => {
    // A fresh load (the token stays in the tab's sessionStorage): focus starts at the top of the page.
    await page.goto(`${host.url}/#/fleet`);
    await page.reload();
    const reached: string[] = [];
    for (let i = 0; i < 12 && reached.length < 4; i++) {
      await page.keyboard.press('Tab');
      const text = await page.evaluate<string | null>("document.activeElement?.closest('nav') ? document.activeElement.textContent : null");
      if (text && !reached.includes(text)) reached.push(text);
    }
    expect(reached).toEqual(['Fleet', 'Rollouts', 'Health', 'Cost']);
    // Enter on the focused link opens its view, and focus moves to the content.
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('heading', { level: 2 }).textContent(), { timeout: UI_TIMEOUT }).toBe('Cost');
    expect(await page.evaluate('document.activeElement?.id')).toBe('main');
    // Back to the Health link with Shift+Tab.
    const focusedText = () => page.evaluate<string | null>('document.activeElement?.textContent ?? null');
    for (let i = 0; i < 6 && (await focusedText()) !== 'Health'; i++) await page.keyboard.press('Shift+Tab');
    expect(await focusedText()).toBe('Health');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('heading', { level: 2 }).textContent(), { timeout: UI_TIMEOUT }).toBe('Health checks and remediations');
    // A cluster's page: its link is in the fleet view, and the describe tree is there.
    await page.goto(`${host.url}/#/fleet`);
    await page.getByRole('link', { name: 'demo', exact: true }).first().focus();
    await page.keyboard.press('Enter');
    const tree = page.getByRole('table', { name: 'Describe' });
    await expect
      .poll(() => tree.textContent(), { timeout: UI_TIMEOUT })
      .toMatch(/Cluster\/demo.*ControlPlane\/demo-control-plane.*Workers.*MachineDeployment\/demo-md-0/);
  });
});

describe("the dashboard through `clusterless dashboard`'s proxy", () => {
  it('opens from the printed URL (the session token in its fragment) and shows the fleet the server holds', async () => {
    const proxy = await startDashboardProxy({ server: new URL(host.url), bearer: TOKEN });
    const viaProxy = await browser.newPage();
    try {
      await viaProxy.goto(proxy.url);
      const clusterRow = viaProxy.getByRole('table', { name: 'Clusters' }).getByRole('row').filter({ hasText: 'demo' });
      await expect.poll(() => clusterRow.textContent(), { timeout: UI_TIMEOUT }).toMatch(/Provisioned/);
      // The token left the address bar once kept.
      expect(viaProxy.url()).not.toContain('token=');
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('says clearly when the API is unreachable', async () => {
    // A server that is not there: the proxy answers 503 for each call.
    const proxy = await startDashboardProxy({ server: new URL(`http://127.0.0.1:${await freePort()}`) });
    const viaProxy = await browser.newPage();
    try {
      await viaProxy.goto(proxy.url);
      await expect.poll(() => viaProxy.getByRole('alert').textContent(), { timeout: UI_TIMEOUT }).toMatch(/The API is unreachable/);
      expect(await viaProxy.getByText('Disconnected').isVisible()).toBe(true);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('lists again when its watch is told the version expired (410), and shows what the new list holds', async () => {
    // A stand-in server: the first watch of clusters answers kube's ERROR event with a 410 Status.
    let clusters = [{ metadata: { name: 'before-expiry', namespace: 'default' }, status: { phase: 'Provisioned' } }];
    let clusterLists = 0;
    const open = new Set<import('node:http').ServerResponse>();
    const fake = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/clusterless/v1/cost') return void res.writeHead(404).end('{}');
      res.setHeader('content-type', 'application/json');
      const isClusters = url.pathname.endsWith('/clusters');
      if (url.searchParams.get('watch') === null) {
        if (isClusters) clusterLists++;
        return void res.end(JSON.stringify({ items: isClusters ? clusters : [], metadata: { resourceVersion: isClusters && clusterLists > 1 ? '5' : '1' } }));
      }
      if (isClusters && url.searchParams.get('resourceVersion') === '1') {
        clusters = [{ metadata: { name: 'after-expiry', namespace: 'default' }, status: { phase: 'Provisioned' } }];
        return void res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 } })}\n`);
      }
      res.writeHead(200);
      res.flushHeaders();
      open.add(res);
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const proxy = await startDashboardProxy({ server: new URL(`http://127.0.0.1:${(fake.address() as AddressInfo).port}`) });
    const viaProxy = await browser.newPage();
    try {
      await viaProxy.goto(proxy.url);
      const table = viaProxy.getByRole('table', { name: 'Clusters' });
      await expect.poll(() => table.textContent(), { timeout: UI_TIMEOUT }).toContain('after-expiry');
      expect(await table.textContent()).not.toContain('before-expiry');
      expect(clusterLists).toBe(2);
    } finally {
      await viaProxy.close();
      await proxy.close();
      for (const r of open) r.destroy();
      fake.closeAllConnections();
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });
});
