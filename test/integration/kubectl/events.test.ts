/**
 * `kubectl get events` against the embedded host (kubectl --server http://127.0.0.1:PORT) (sim provider, scaled clock): a scale and a remediation happen,
 * and the real kubectl (v1.34, no core group on this server) resolves `events` to events.k8s.io/v1, prints their
 * steps with its event columns, selects by `regarding.name`, and cannot write events. Event writes never start a
 * reconcile. `kubectl get events -w` sees a new event on the embedded host as it does on kube-apiserver, side by side,
 * and a watch after a restart tells an event counted again (MODIFIED) from a new one.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Machine } from '../../../functions/api/machine.js';
import { EventReason, microTime } from '../../../functions/api/event.js';
import { silentLogger, storeEventRecorder } from '../../../functions/workflows/index.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { clusterManifests } from '../../support/control-plane.js';
import { kubeBinaries, startKube, type RunningKube } from '../../support/kube.js';
import { WATCH_OPEN, startKubectl } from '../../support/kubectl.js';
import { isReady, ofDeployment } from '../../support/fleet-watch.js';
import { waitUntil } from '../../support/wait.js';

// Note: kubectl 1.34 sends no bearer token to a plain-http server (seen: `--token` and a kubeconfig token both reach
// 127.0.0.1 without an Authorization header), so the host runs without a client token, as `npm start` does.
const P = '/apis/clusterless.dev/v1alpha1/namespaces/default';
let host: EmbeddedHost;
let dir: string;

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(host.url + path, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Runs kubectl asynchronously: the host answers it from this very process. */
function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(
      kubeBinaries().kubectl,
      ['--server', host.url, '--cache-dir', join(dir, 'kube-cache'), '--request-timeout', '20s', ...args],
      { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', HOME: dir, KUBECONFIG: join(dir, 'no-kubeconfig') }, timeout: 60_000 },
      (err, stdout, stderr) => resolveRun({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

const workers = async () => ((await api('GET', `${P}/machines`)).items as Machine[]).filter(ofDeployment('k1-md'));

async function settled(count: number): Promise<boolean> {
  const md = (await api('GET', `${P}/machinedeployments/k1-md`)) as MachineDeployment;
  const all = await workers();
  return md.status?.availableReplicas === count && all.length === count && all.every(isReady);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clusterless-events-'));
  host = await startEmbeddedHost({ port: 0, dataDir: join(dir, 'data'), timeScale: 40, sweepSeconds: 30, log: () => {} });
  for (const { plural, object } of clusterManifests({ name: 'k1', controlPlaneReplicas: 1, workers: 3, healthCheck: true }))
    await api('POST', `${P}/${plural}`, object);
  await waitUntil('k1 settled at 3 workers', () => settled(3), 90_000, 100);
}, 120_000);

afterAll(async () => {
  await host?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl get events', () => {
  let victim: Machine;

  beforeAll(async () => {
    // A scale to 4, then a remediation: one worker's instance killed out of band.
    await api('PATCH', `${P}/machinedeployments/k1-md`, { spec: { replicas: 4 } });
    await waitUntil('k1 settled at 4 workers', () => settled(4), 90_000, 100);
    victim = (await workers())[0]!;
    await api('POST', `/clusterless/v1/sim/namespaces/default/machines/${victim.metadata.name}/kill`, {});
    await waitUntil(
      'the victim remediated',
      async () => {
        const events = (await api('GET', `/apis/events.k8s.io/v1/namespaces/default/events`)).items as { reason: string; regarding: { name: string } }[];
        return events.some((e) => e.reason === 'Remediated' && e.regarding.name === victim.metadata.name);
      },
      90_000,
      100,
    );
  }, 200_000);

  it('lists the scale and the remediation with the event columns', async () => {
    const r = await kubectl('get', 'events', '-n', 'default');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    const set = victim.metadata.ownerReferences![0]!.name;
    expect(r.stdout).toMatch(new RegExp(`Normal\\s+ScalingMachineSet\\s+machinedeployment/k1-md\\s+Scaled up MachineSet ${set} from 3 to 4`));
    expect(r.stdout).toMatch(new RegExp(`Normal\\s+SuccessfulCreate\\s+machineset/${set}\\s+Created Machine "`));
    for (const reason of ['MachineMarkedUnhealthy', 'Remediating', 'Remediated'])
      expect(r.stdout).toMatch(new RegExp(`Normal\\s+${reason}\\s+machine/${victim.metadata.name}\\s`));
  });

  it('selects one object with --field-selector regarding.name=X, in the order it happened', async () => {
    const r = await kubectl(
      'get',
      'ev',
      '--field-selector',
      `regarding.name=${victim.metadata.name}`,
      '--sort-by',
      '.eventTime',
      '-o',
      'custom-columns=REASON:.reason,OBJECT:.regarding.name',
    );
    expect(r.stderr).toBe('');
    const rows = r.stdout.trimEnd().split('\n').slice(1);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['SuccessfulCreate', 'MachineMarkedUnhealthy', 'Remediating', 'Remediated']);
    expect(rows.every((l) => l.split(/\s+/)[1] === victim.metadata.name)).toBe(true);
  });

  it('resolves events to events.k8s.io/v1 (there is no core group)', async () => {
    const r = await kubectl('api-resources', '--api-group', 'events.k8s.io', '--no-headers');
    expect(r.stdout.trim().split(/\s+/)).toEqual(['events', 'ev', 'events.k8s.io/v1', 'true', 'Event']);
  });

  it('cannot delete an event: 405, only the control plane writes them', async () => {
    const name = (await kubectl('get', 'events', '-o', 'jsonpath={.items[0].metadata.name}')).stdout;
    expect(name).not.toBe('');
    const r = await kubectl('delete', 'event', name);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/MethodNotAllowed|not allow/i);
    expect((await kubectl('get', 'event', name, '-o', 'name')).stdout.trim()).toBe(`event.events.k8s.io/${name}`);
  });

  it('event writes never start a reconcile', async () => {
    // The runtime's store tells its trigger of every write of a cluster's object; events must never reach it.
    const store = host.runtime.store as unknown as { onChange: (...a: unknown[]) => void };
    const original = store.onChange;
    const seen: string[] = [];
    store.onChange = (...a: unknown[]) => {
      seen.push(`${a[0]}/${a[1]}/${(a[2] as { kind: string }).kind}`);
      original(...a);
    };
    try {
      const recorder = storeEventRecorder(host.runtime.store, host.runtime.deps.clock, silentLogger);
      const regarding = {
        kind: 'Machine',
        namespace: 'default',
        name: victim.metadata.name,
        uid: victim.metadata.uid!,
        apiVersion: 'clusterless.dev/v1alpha1',
      };
      for (let i = 0; i < 3; i++)
        await recorder.record({
          regarding,
          type: 'Warning',
          reason: EventReason.WorkflowFailed,
          action: 'GiveUp',
          note: `test ${i % 2}`,
          workflow: 'remediate',
        });
      // The cluster's own writes go on meanwhile; no event is among them.
      expect(seen.filter((s) => s.endsWith('/Event'))).toEqual([]);
      // The spy is on the path a write of a cluster's object takes.
      await api('PATCH', `${P}/machinedeployments/k1-md`, { metadata: { labels: { touched: 'yes' } } });
      expect(seen).toContain('default/k1/MachineDeployment');
    } finally {
      store.onChange = original;
    }
  });
});

describe('kubectl get events -w, the embedded host beside kube-apiserver', () => {
  let kube: RunningKube;

  beforeAll(async () => {
    kube = await startKube();
  }, 120_000);

  afterAll(async () => {
    await kube?.stop();
  });

  const regarding = { kind: 'Machine', namespace: 'default', name: 'watched-machine', apiVersion: 'clusterless.dev/v1alpha1' };
  const note = 'watched event one';

  /** The row of the new event as printed: every column but LAST SEEN (an age). */
  const rowOf = (out: string) =>
    out
      .split('\n')
      .find((l) => l.includes(note))
      ?.split(/\s{2,}/)
      .slice(1);

  it('prints a new event as it is recorded, with the same columns as kube-apiserver', async () => {
    const targets = [
      {
        name: 'the embedded host',
        args: ['--server', host.url],
        // With the workflows' own recorder (the host's WorkflowDeps), whose writes must reach the change feed.
        record: () =>
          host.runtime.deps.events.record({
            regarding,
            type: 'Warning',
            reason: EventReason.WorkflowFailed,
            action: 'GiveUp',
            note,
            workflow: 'remediate',
          }),
      },
      {
        name: 'kube-apiserver',
        args: ['--kubeconfig', kube.adminKubeconfig],
        // kube-apiserver takes a create; an events.k8s.io/v1 Event leaves the deprecated fields unset.
        record: async () => {
          const event = {
            apiVersion: 'events.k8s.io/v1',
            kind: 'Event',
            metadata: { name: 'watched-machine.test', namespace: 'default' },
            eventTime: microTime(new Date()),
            reportingController: 'clusterless.dev/remediate',
            reportingInstance: 'clusterless.dev/remediate',
            action: 'GiveUp',
            reason: EventReason.WorkflowFailed,
            regarding,
            note,
            type: 'Warning',
          };
          const r = await kube.kubectl(['create', '-f', '-'], { input: JSON.stringify(event) });
          expect(r.stderr).toBe('');
        },
      },
    ];
    const printed: Record<string, { header: string; row: string[] | undefined }> = {};
    for (const target of targets) {
      // Prepare
      const w = startKubectl([...target.args, 'get', 'events', '-n', 'default', '-w', '-v=6', '--request-timeout=60s']);
      try {
        await w.until((_, err) => WATCH_OPEN.test(err), 'the watch response');
        // Act
        await target.record();
        await w.until((out) => out.includes(note), `the new event on ${target.name}`);
      } finally {
        await w.stop();
      }
      // Column widths follow the longest cell of what else is listed: compared as words.
      printed[target.name] = { header: w.stdout().split('\n')[0]!.split(/\s+/).join(' '), row: rowOf(w.stdout()) };
    }
    // Assess
    expect(printed['kube-apiserver']!.header).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    expect(printed['kube-apiserver']!.row).toEqual(['Warning', 'WorkflowFailed', 'machine/watched-machine', note]);
    expect(printed['the embedded host']).toEqual(printed['kube-apiserver']);
  });
});

describe('a watch of events after the embedded host restarts', () => {
  it('sends an event recorded before the restart and counted again after it as a MODIFIED (the feed knows the stored events)', async () => {
    // Prepare: an event recorded, the host stopped and started again on its data folder
    const data = join(dir, 'restarted');
    const recorded = {
      regarding: { kind: 'Machine', namespace: 'default', name: 'restarted-machine', apiVersion: 'clusterless.dev/v1alpha1' },
      type: 'Normal' as const,
      reason: EventReason.SuccessfulCreate,
      action: 'Create',
      note: 'recorded before the restart',
      workflow: 'provision-machine',
    };
    const first = await startEmbeddedHost({ port: 0, dataDir: data, sweepSeconds: 3600, log: () => {} });
    await first.runtime.deps.events.record(recorded);
    await first.close();
    const again = await startEmbeddedHost({ port: 0, dataDir: data, sweepSeconds: 3600, log: () => {} });
    const abort = new AbortController();
    try {
      const events = `${again.url}/apis/events.k8s.io/v1/namespaces/default/events`;
      const { metadata } = (await (await fetch(events)).json()) as { metadata: { resourceVersion: string } };
      const res = await fetch(`${events}?watch=true&resourceVersion=${metadata.resourceVersion}`, { signal: abort.signal });
      // Act
      await again.runtime.deps.events.record(recorded);
      // Assess: the first line of the stream
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('\n')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const line = JSON.parse(text.split('\n')[0]!) as { type: string; object: { series?: { count: number } } };
      expect(line.type).toBe('MODIFIED');
      expect(line.object.series?.count).toBe(2);
    } finally {
      abort.abort();
      await again.close();
    }
  }, 60_000);
});
