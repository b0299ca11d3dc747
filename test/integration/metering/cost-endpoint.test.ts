/**
 * `clusterless up` (the embedded host on dynalite and the simulated cloud) serves its cost meter at
 * GET /clusterless/v1/cost, `clusterless cost` prints it, and an instance killed out of band is reconciled
 * at once, as EC2's state-change event does on AWS, not at the next sweep.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../../functions/api/machine.js';
import type { CostReport } from '../../../functions/metering/index.js';
import type { Io } from '../../../cli/io.js';
import { runCli } from '../../../cli/program.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { NS_PATH, clusterManifests } from '../../support/control-plane.js';
import { waitUntil } from '../../support/wait.js';

let host: EmbeddedHost;
let dataDir: string;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(host.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

const until = <T>(what: string, check: () => Promise<T | undefined | false>) => waitUntil(what, check, 40_000, 50);

const machines = async () => (await api('GET', `${NS_PATH}/default/machines`)).json.items as Machine[];
const isReady = (m: Machine) => m.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (s) => void (stdout += s), isTTY: false, columns: 200 },
    stderr: { write: (s) => void (stderr += s), isTTY: false },
    env: { CLUSTERLESS_SERVER: host.url },
    readStdin: async () => '',
    readFile: async () => '',
    listDir: async () => undefined,
    fetch: globalThis.fetch,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    onInterrupt: () => () => {},
    importModule: async () => ({}),
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'clusterless-cost-'));
  // The sweep is an hour of simulated time away: whatever happens within the test was triggered by events.
  host = await startEmbeddedHost({ port: 0, dataDir, timeScale: 20, sweepSeconds: 3600 });
  for (const m of clusterManifests({ name: 'cost', controlPlaneReplicas: 1, workers: 2 })) {
    // Nodes Ready as soon as their instance runs: no sweep is needed to see them Ready.
    if (m.plural === 'machineclasses') m.object.spec = { sim: { bootSeconds: 1, nodeReadySeconds: 0 } };
    const r = await api('POST', `${NS_PATH}/default/${m.plural}`, m.object);
    expect(r.status, JSON.stringify(r.json)).toBe(201);
  }
  await until('3 machines Ready', async () => (await machines()).filter(isReady).length === 3);
  await host.runtime.workflows.idle();
});

afterAll(async () => {
  await host?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('GET /clusterless/v1/cost', () => {
  it('reports the work done so far, per operation, priced with the dated us-east-1 table', async () => {
    const r = await api('GET', '/clusterless/v1/cost');
    expect(r.status).toBe(200);
    const report = r.json as CostReport;

    expect(report).toMatchObject({ currency: 'USD', region: 'us-east-1', priceDate: '2026-11-27' });
    const row = (service: string, operation: string, resource?: string) =>
      report.items.find((i) => i.service === service && i.operation === operation && (resource === undefined || i.resource === resource));
    expect(row('states', 'StateTransition', 'provision-machine/Task')!.requests).toBeGreaterThan(0);
    expect(row('states', 'ExpressRequest', 'reconcile-cluster')!.requests).toBeGreaterThan(0);
    expect(row('lambda', 'Invoke', 'provision')!.requests).toBeGreaterThan(0);
    expect(row('dynamodb', 'PutItem', 'object')!.quantity).toBeGreaterThan(0);
    expect(row('ec2', 'RunInstances')!.requests).toBe(3);
    expect(report.totalCost).toBeGreaterThan(0);
    expect(report.totalCost).toBeCloseTo(
      report.items.reduce((s, i) => s + i.cost, 0),
      9,
    );
  });

  it('answers only GET', async () => {
    const r = await api('POST', '/clusterless/v1/cost', {});
    expect(r.status).toBe(405);
  });

  it('`clusterless cost` prints the items as a table and the totals below it', async () => {
    const r = await cli(['cost']);

    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SERVICE\s+OPERATION\s+RESOURCE\s+REQUESTS\s+QUANTITY\s+UNIT\s+COST$/);
    expect(lines.some((l) => /^states\s+StateTransition\s+provision-machine\/Task\s+\d+/.test(l))).toBe(true);
    expect(r.stdout).toMatch(/^currency:\s+USD$/m);
    expect(r.stdout).toMatch(/^priceDate:\s+2026-11-27$/m);
    expect(r.stdout).toMatch(/^totalCost:\s+0\.\d+/m);
  });

  it('`clusterless cost -o json` is the report itself', async () => {
    const r = await cli(['cost', '-o', 'json']);

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ currency: 'USD', priceDate: '2026-11-27' });
  });
});

describe('an instance killed out of band', () => {
  it('is noticed at once: its Machine is Failed long before the next sweep', async () => {
    const victim = (await machines()).find((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'cost-md')!;
    const executions = host.runtime.workflows.list('reconcile-cluster').length;

    const r = await api('POST', `/clusterless/v1/sim/namespaces/default/machines/${victim.metadata.name}/kill`, {});
    expect(r.status).toBe(200);

    // A settled cluster without a health check is not requeued, and the sweep is 3600 simulated s (180 s of
    // wall time) away: only the instance's state change can start this reconcile within 40 s.
    const failed = await until('the Machine Failed', async () =>
      (await machines()).find((m) => m.metadata.uid === victim.metadata.uid && m.status?.phase === 'Failed'),
    );
    expect(failed.status?.failureMessage).toMatch(/terminated/);
    expect(host.runtime.workflows.list('reconcile-cluster').length).toBeGreaterThan(executions);
  });
});
