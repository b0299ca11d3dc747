/**
 * The dashboard page: lists each kind once, then follows the API's watch (`?watch=1` streamed with fetch, resumed
 * from the last resourceVersion, relisted on 410 Expired) and redraws the current view from what it holds; the page
 * never reloads. No framework: the views are small functions from the objects to HTML, every text escaped.
 * Read-only: the page sends GET requests only.
 */
// biome-ignore-all lint/suspicious/noExplicitAny: the page reads the spec and status of many kinds, as JSON, without their schemas

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  ownerReferences?: { kind: string; name: string }[];
}
interface Condition {
  type: string;
  status: string;
  severity?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
interface Obj {
  kind: string;
  metadata: Meta;
  spec?: Record<string, any>;
  status?: Record<string, any> & { conditions?: Condition[]; phase?: string };
  // events.k8s.io/v1
  regarding?: { kind: string; name: string; namespace?: string; uid?: string };
  reason?: string;
  note?: string;
  type?: string;
  series?: { count: number; lastObservedTime?: string };
  eventTime?: string;
  deprecatedLastTimestamp?: string;
}

const GROUP = '/apis/clusterless.dev/v1alpha1';
/**
 * The kinds the page follows. A browser opens at most 6 HTTP/1.1 connections to a host and each watch holds one, so
 * the kinds that change most are watched (4 streams) and the others listed again every few seconds on one more
 * connection, with the cost, leaving one for the page itself. `optional` kinds may not exist on the server (a 404
 * hides their section).
 */
const WATCHED: { kind: string; path: string; mode: 'watch' | 'poll'; optional?: boolean }[] = [
  { kind: 'Cluster', path: `${GROUP}/clusters`, mode: 'watch' },
  { kind: 'MachineDeployment', path: `${GROUP}/machinedeployments`, mode: 'watch' },
  { kind: 'Machine', path: `${GROUP}/machines`, mode: 'watch' },
  { kind: 'Event', path: '/apis/events.k8s.io/v1/events', mode: 'watch' },
  { kind: 'ControlPlane', path: `${GROUP}/controlplanes`, mode: 'poll' },
  { kind: 'MachineHealthCheck', path: `${GROUP}/machinehealthchecks`, mode: 'poll' },
  // Fleet-wide upgrades in waves: a newer kind, read when the server has it.
  { kind: 'FleetUpgrade', path: `${GROUP}/fleetupgrades`, mode: 'poll', optional: true },
];
// The labels core sets on machines (functions/api/common.ts Labels).
const DEPLOYMENT_NAME = 'clusterless.dev/deployment-name';
const CONTROL_PLANE_NAME = 'clusterless.dev/control-plane-name';
const TOKEN_KEY = 'clusterless.dashboard.token';
const POLL_MS = 3_000;

const objects = new Map<string, Map<string, Obj>>(WATCHED.map((w) => [w.kind, new Map()]));
const absent = new Set<string>();
const synced = new Set<string>();
let cost: any;
let costError: string | undefined;
let problem: { kind: 'unreachable' | 'token' | 'forbidden'; text: string } | undefined;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** A count from the server, as a number whatever it holds (every count reaches the HTML unescaped). */
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const keyOf = (o: Obj) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const all = (kind: string) => [...(objects.get(kind)?.values() ?? [])].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
const cond = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const ready = (o: Obj | undefined) => cond(o, 'Ready') ?? cond(o, 'Available');

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(): HeadersInit {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** A GET through the API; 401 and 403 and a server out of reach become the banner. */
async function get(path: string, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { headers: headers(), cache: 'no-store', ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) throw err;
    report({ kind: 'unreachable', text: 'The API is unreachable: retrying. Is the host (clusterless up) or the dashboard proxy still running?' });
    throw err;
  }
  if (res.status === 401) {
    report({
      kind: 'token',
      text: sessionStorage.getItem(TOKEN_KEY)
        ? 'The API refused the token (401 Unauthorized): enter the right token.'
        : 'The API needs a token (401 Unauthorized): enter it below.',
    });
    throw new HttpError(401, 'unauthorized');
  }
  if (res.status >= 502 && res.status <= 504) {
    report({ kind: 'unreachable', text: `The API is unreachable (${res.status}): retrying. The dashboard proxy cannot reach the server.` });
    throw new HttpError(res.status, 'unreachable');
  }
  if (res.status === 403) {
    const body = await res.json().catch(() => ({}));
    report({ kind: 'forbidden', text: `The API refused the request (403 Forbidden): ${body.message ?? path}` });
    throw new HttpError(403, 'forbidden');
  }
  return res;
}

function report(p: typeof problem): void {
  problem = p;
  const banner = $('banner');
  banner.hidden = !p;
  banner.textContent = p?.text ?? '';
  const form = $('token-form');
  const wasHidden = form.hidden;
  form.hidden = p?.kind !== 'token';
  if (wasHidden && !form.hidden) $('token').focus();
  $('live').textContent = p ? 'Disconnected' : synced.size === WATCHED.length - absent.size ? 'Live' : 'Loading…';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Whatever waits for a better token: a new one entered wakes every watcher at once. */
let tokenChanged: () => void = () => {};
let tokenWait = new Promise<void>((r) => (tokenChanged = r));

/** One kind: list, then watch from the list's version; a 410 (or a watch the server ended) lists or watches again. */
async function follow(w: (typeof WATCHED)[number]): Promise<void> {
  let backoff = 500;
  for (;;) {
    try {
      const res = await get(w.path);
      if (res.status === 404 && w.optional) {
        absent.add(w.kind);
        scheduleRender();
        return;
      }
      if (!res.ok) throw new HttpError(res.status, await res.text());
      const list = await res.json();
      const map = new Map<string, Obj>();
      for (const o of list.items as Obj[]) map.set(keyOf({ ...o, kind: w.kind }), { ...o, kind: w.kind });
      objects.set(w.kind, map);
      synced.add(w.kind);
      if (problem?.kind !== 'token') report(undefined);
      scheduleRender();
      let rv: string = list.metadata?.resourceVersion ?? '';
      // Watches end (the server's timeout, a Lambda's 290 s): start again from the last version seen.
      for (;;) {
        const next = await watch(w, rv);
        if (next === undefined) break; // 410 Expired: relist
        rv = next;
        backoff = 500;
      }
    } catch (err) {
      if (err instanceof HttpError && err.status === 401) {
        await tokenWait;
        continue;
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 5_000);
    }
  }
}

/** Reads one watch to its end; the version to resume from, or undefined when the version expired (410). */
async function watch(w: (typeof WATCHED)[number], rv: string): Promise<string | undefined> {
  const q = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true', ...(rv ? { resourceVersion: rv } : {}) });
  const res = await get(`${w.path}?${q}`);
  if (res.status === 410) return undefined;
  if (!res.ok || !res.body) throw new HttpError(res.status, await res.text());
  if (problem) report(undefined);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return rv;
    buffer += value;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      const event = JSON.parse(line) as { type: string; object: Obj & { code?: number } };
      if (event.type === 'ERROR') {
        if (event.object.code === 410) {
          void reader.cancel();
          return undefined;
        }
        throw new HttpError(event.object.code ?? 500, 'watch error');
      }
      const o = { ...event.object, kind: w.kind };
      rv = o.metadata.resourceVersion ?? rv;
      if (event.type === 'BOOKMARK') continue;
      const map = objects.get(w.kind)!;
      if (event.type === 'DELETED') map.delete(keyOf(o));
      else map.set(keyOf(o), o);
      scheduleRender();
    }
  }
}

/** The kinds not watched, and the cost meter, read again one after another on one connection. */
async function poll(): Promise<void> {
  for (;;) {
    for (const w of WATCHED.filter((k) => k.mode === 'poll' && !absent.has(k.kind))) {
      try {
        const res = await get(w.path);
        if (res.status === 404 && w.optional) absent.add(w.kind);
        else if (res.ok) {
          const list = await res.json();
          objects.set(w.kind, new Map((list.items as Obj[]).map((o) => [keyOf(o), { ...o, kind: w.kind }])));
          synced.add(w.kind);
        }
      } catch {
        // the banner says it
      }
    }
    try {
      const res = await get('/clusterless/v1/cost');
      if (res.ok) {
        cost = await res.json();
        costError = undefined;
        clockOffset = Date.parse(cost.until) - Date.now();
      } else costError = res.status === 404 ? 'This server serves no cost route (a version before it).' : `cost: HTTP ${res.status}`;
    } catch {
      // the banner says it
    }
    scheduleRender();
    await sleep(POLL_MS);
  }
}

// ---- views ----

/**
 * The server's clock less the browser's: the embedded host may run a scaled clock (demos, tests), and ages are
 * reckoned by the clock that wrote the timestamps. Taken from the cost report's `until` (the host's now); 0 elsewhere.
 */
let clockOffset = 0;

function age(ts: string | undefined, now = Date.now() + clockOffset): string {
  if (!ts) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function statusClass(text: string | undefined): string {
  if (text === 'True' || text === 'Running' || text === 'Provisioned' || text === 'Succeeded' || text === 'Complete') return 'ok';
  if (text === 'Failed' || text === 'False' || text === 'Deleting' || text === 'Halted' || text === 'Aborted') return 'bad';
  return 'warn';
}
const badge = (text: string | undefined) => (text ? `<span class="${statusClass(text)}">${esc(text)}</span>` : '<span class="muted">—</span>');

function table(caption: string, head: string[], rows: string[][], empty = 'None.'): string {
  if (rows.length === 0) return `<h3>${esc(caption)}</h3><p class="muted">${esc(empty)}</p>`;
  return `<table><caption>${esc(caption)}</caption><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function counts(title: string, values: (string | undefined)[]): string {
  const m = new Map<string, number>();
  for (const v of values) m.set(v ?? 'unknown', (m.get(v ?? 'unknown') ?? 0) + 1);
  const rows = [...m].sort(([a], [b]) => a.localeCompare(b));
  return `<section class="card" aria-label="${esc(title)}"><h3>${esc(title)}</h3><dl>${rows.map(([k, n]) => `<dt>${esc(k)}</dt><dd>${n}</dd>`).join('') || '<dt class="muted">none</dt><dd></dd>'}</dl></section>`;
}

const clusterOf = (o: Obj) => (o.kind === 'Cluster' ? o.metadata.name : (o.spec?.clusterName as string | undefined));
const sameCluster = (c: Obj) => (o: Obj) => o.metadata.namespace === c.metadata.namespace && clusterOf(o) === c.metadata.name;
const clusterVersion = (c: Obj) => all('ControlPlane').find(sameCluster(c))?.spec?.version as string | undefined;
const zoneOf = (m: Obj) => (m.spec?.failureDomain ?? m.status?.infrastructure?.availabilityZone) as string | undefined;
const instanceTypeOf = (m: Obj) => m.status?.infrastructure?.instanceType as string | undefined;
const clusterLink = (ns: string | undefined, name: string) =>
  `<a href="#/cluster/${encodeURIComponent(ns ?? 'default')}/${encodeURIComponent(name)}">${esc(name)}</a>`;

/** Failures first: Failed or Deleting, then not Ready, then the rest, by name. */
function failuresFirst(items: Obj[]): Obj[] {
  const rank = (o: Obj) => (o.status?.phase === 'Failed' ? 0 : o.metadata.deletionTimestamp ? 1 : ready(o)?.status === 'True' ? 3 : 2);
  return [...items].sort((a, b) => rank(a) - rank(b) || keyOf(a).localeCompare(keyOf(b)));
}

function machineRows(machines: Obj[], withCluster: boolean): string[][] {
  return failuresFirst(machines).map((m) => [
    ...(withCluster ? [clusterLink(m.metadata.namespace, clusterOf(m) ?? '')] : []),
    esc(m.metadata.name),
    badge(m.status?.phase ?? 'Pending'),
    badge(ready(m)?.status),
    esc(m.status?.nodeRef?.name ?? ''),
    esc(zoneOf(m) ?? ''),
    esc(instanceTypeOf(m) ?? ''),
    esc(m.spec?.version ?? ''),
    esc(age(m.metadata.creationTimestamp)),
  ]);
}
const MACHINE_HEAD = ['Name', 'Phase', 'Ready', 'Node', 'Zone', 'Instance type', 'Version', 'Age'];

function fleetView(): string {
  const clusters = all('Cluster');
  const machines = all('Machine');
  const clusterRows = failuresFirst(clusters).map((c) => {
    const ms = machines.filter(sameCluster(c));
    const r = ready(c);
    return [
      clusterLink(c.metadata.namespace, c.metadata.name),
      esc(c.metadata.namespace ?? ''),
      badge(c.status?.phase ?? 'Pending'),
      badge(r?.status),
      esc(clusterVersion(c) ?? ''),
      `${ms.filter((m) => m.status?.phase === 'Running').length}/${ms.length}`,
      esc(r && r.status !== 'True' ? (r.message ?? r.reason ?? '') : ''),
    ];
  });
  return `<h2>Fleet</h2>
<div class="cards">${counts(
    'Clusters by phase',
    clusters.map((c) => c.status?.phase ?? 'Pending'),
  )}${counts(
    'Clusters by version',
    clusters.map((c) => clusterVersion(c)),
  )}${counts(
    'Machines by phase',
    machines.map((m) => m.status?.phase ?? 'Pending'),
  )}${counts('Machines by zone', machines.map(zoneOf))}${counts('Machines by instance type', machines.map(instanceTypeOf))}</div>
${table('Clusters', ['Cluster', 'Namespace', 'Phase', 'Ready', 'Version', 'Machines running', 'Message'], clusterRows, 'No clusters yet.')}
${table('Machines', ['Cluster', ...MACHINE_HEAD], machineRows(machines, true), 'No machines yet.')}`;
}

interface TreeNode {
  label: string;
  object?: Obj;
  children: TreeNode[];
}

/** The tree `clusterless describe cluster` prints (cli/format/describe.ts: ControlPlane, then Workers by MachineDeployment). */
function clusterTree(c: Obj, controlPlanes: Obj[], deployments: Obj[], machines: Obj[]): TreeNode {
  const placed = new Set<Obj>();
  const take = (pred: (m: Obj) => boolean): TreeNode[] =>
    machines
      .filter((m) => !placed.has(m) && pred(m))
      .map((m) => {
        placed.add(m);
        return { label: `Machine/${m.metadata.name}`, object: m, children: [] };
      });
  const cps = controlPlanes.map((cp) => ({
    label: `ControlPlane/${cp.metadata.name}`,
    object: cp,
    children: take((m) =>
      m.metadata.labels?.[CONTROL_PLANE_NAME] !== undefined
        ? m.metadata.labels[CONTROL_PLANE_NAME] === cp.metadata.name
        : (m.metadata.ownerReferences ?? []).some((r) => r.kind === 'ControlPlane' && r.name === cp.metadata.name),
    ),
  }));
  const mds = deployments.map((md) => ({
    label: `MachineDeployment/${md.metadata.name}`,
    object: md,
    children: take((m) => m.metadata.labels?.[DEPLOYMENT_NAME] === md.metadata.name),
  }));
  const workers = [...mds, ...take(() => true)];
  return { label: `Cluster/${c.metadata.name}`, object: c, children: [...cps, ...(workers.length ? [{ label: 'Workers', children: workers }] : [])] };
}

function treeRows(root: TreeNode): string[][] {
  const rows: string[][] = [];
  const visit = (n: TreeNode, prefix: string, connector: string) => {
    const c = ready(n.object);
    const phase = n.object?.status?.phase;
    rows.push([
      `<span class="tree">${esc(connector + n.label)}</span>`,
      badge(c?.status),
      esc(c && c.status !== 'True' ? (c.severity ?? '') : ''),
      esc(c && c.status !== 'True' ? (c.reason ?? '') : ''),
      esc(age(c?.lastTransitionTime)),
      esc(c?.message ?? (phase && !c ? `phase ${phase}` : '')),
    ]);
    n.children.forEach((child, i) => {
      const last = i === n.children.length - 1;
      visit(child, `${prefix}${last ? '  ' : '│ '}`, `${prefix}${last ? '└─' : '├─'}`);
    });
  };
  visit(root, '', '');
  return rows;
}

function eventRows(events: Obj[]): string[][] {
  const when = (e: Obj) => e.series?.lastObservedTime ?? e.deprecatedLastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  return [...events]
    .sort((a, b) => Date.parse(when(b) ?? '') - Date.parse(when(a) ?? ''))
    .slice(0, 50)
    .map((e) => [
      esc(age(when(e))),
      `<span class="${e.type === 'Warning' ? 'bad' : 'muted'}">${esc(e.type)}</span>`,
      esc(e.reason),
      esc(`${e.regarding?.kind ?? ''}/${e.regarding?.name ?? ''}`),
      esc(e.note),
    ]);
}
const EVENT_HEAD = ['Last seen', 'Type', 'Reason', 'Object', 'Message'];

function clusterView(ns: string, name: string): string {
  const c = objects.get('Cluster')!.get(`${ns}/${name}`);
  if (!c)
    return `<h2>Cluster ${esc(name)}</h2><p>${synced.has('Cluster') ? 'No such cluster (deleted?).' : 'Loading…'}</p><p><a href="#/fleet">Back to the fleet</a></p>`;
  const mine = sameCluster(c);
  const machines = all('Machine').filter(mine);
  const tree = clusterTree(c, all('ControlPlane').filter(mine), all('MachineDeployment').filter(mine), machines);
  const names = new Set<string>();
  const collect = (n: TreeNode) => {
    if (n.object) names.add(`${n.object.kind}/${n.object.metadata.name}`);
    n.children.forEach(collect);
  };
  collect(tree);
  const events = all('Event').filter((e) => e.metadata.namespace === ns && names.has(`${e.regarding?.kind}/${e.regarding?.name}`));
  const conditions = (c.status?.conditions ?? []).map((k) => [
    esc(k.type),
    badge(k.status),
    esc(k.severity ?? ''),
    esc(k.reason ?? ''),
    esc(age(k.lastTransitionTime)),
    esc(k.message ?? ''),
  ]);
  return `<h2>Cluster ${esc(name)} <span class="muted">(${esc(ns)})</span> ${badge(c.status?.phase ?? 'Pending')}</h2>
${table('Describe', ['Name', 'Ready', 'Severity', 'Reason', 'Since', 'Message'], treeRows(tree))}
${table('Conditions', ['Type', 'Status', 'Severity', 'Reason', 'Since', 'Message'], conditions)}
${table('Machines and their nodes', MACHINE_HEAD, machineRows(machines, false), 'No machines yet.')}
${table('Events', EVENT_HEAD, eventRows(events), 'No events.')}`;
}

/** kubectl's rollout status rule (cli/format/progress.ts): observed, every replica updated and available. */
function rolloutState(o: Obj): { done: boolean; text: string; updated: number; available: number; desired: number } {
  const desired = num(o.spec?.replicas, 1);
  const s = o.status ?? {};
  const updated = num(s.updatedReplicas);
  const available = num(o.kind === 'ControlPlane' ? s.readyReplicas : s.availableReplicas);
  const replicas = num(s.replicas);
  const base = { updated, available, desired };
  if ((s.observedGeneration ?? 0) < (o.metadata.generation ?? 0)) return { ...base, done: false, text: 'spec update not yet observed' };
  if (updated < desired) return { ...base, done: false, text: `${updated} of ${desired} new replicas updated` };
  if (replicas > updated) return { ...base, done: false, text: `${replicas - updated} old replicas pending termination` };
  if (available < desired) return { ...base, done: false, text: `${available} of ${desired} replicas available` };
  return { ...base, done: true, text: 'rolled out' };
}

function rolloutRow(o: Obj, limits: string): string[] {
  const r = rolloutState(o);
  const label = `${o.kind} ${o.metadata.name}: ${Math.min(r.updated, r.available)} of ${r.desired} updated and available`;
  return [
    esc(o.metadata.name),
    clusterLink(o.metadata.namespace, clusterOf(o) ?? ''),
    esc(o.spec?.version ?? o.spec?.template?.spec?.version ?? ''),
    `<progress max="${Math.max(r.desired, 1)}" value="${Math.min(r.updated, r.available)}" aria-label="${esc(label)}"></progress>`,
    `<span class="num">${r.updated}/${r.desired} updated, ${r.available}/${r.desired} available</span>`,
    esc(limits),
    `<span class="${r.done ? 'ok' : 'warn'}">${esc(r.done ? 'Complete' : `In progress: ${r.text}`)}</span>`,
  ];
}

function rolloutsView(): string {
  const mdRows = all('MachineDeployment').map((md) => {
    const ru = md.spec?.strategy?.rollingUpdate ?? {};
    const type = md.spec?.strategy?.type ?? 'RollingUpdate';
    return rolloutRow(md, type === 'RollingUpdate' ? `maxSurge ${ru.maxSurge ?? 1}, maxUnavailable ${ru.maxUnavailable ?? 0}` : type);
  });
  const cpRows = all('ControlPlane').map((cp) => rolloutRow(cp, `maxSurge ${cp.spec?.rollout?.maxSurge ?? 1}`));
  const head = ['Name', 'Cluster', 'Version', 'Progress', 'Replicas', 'Strategy', 'State'];
  let fleet = '';
  if (!absent.has('FleetUpgrade')) {
    // functions/api/fleet-upgrade.ts: waves (canary, batch-1, ...) and counts are frozen into status at the start.
    const rows = all('FleetUpgrade').map((f) => {
      const waves: { name: string; clusters: number; phase: string; bakeUntil?: string }[] = Array.isArray(f.status?.waves) ? f.status!.waves : [];
      const c = f.status?.counts ?? {};
      const current = f.status?.currentWave as number | undefined;
      const waveList = waves.length
        ? `<ol class="waves">${waves
            .map(
              (w, i) =>
                `<li${i === current ? ' aria-current="step"' : ''}>${esc(w.name)}: ${badge(w.phase)} <span class="muted">(${num(w.clusters)} clusters${w.bakeUntil && w.phase === 'Succeeded' && i === current ? `, baking until ${esc(w.bakeUntil)}` : ''})</span></li>`,
            )
            .join('')}</ol>`
        : '<span class="muted">not started</span>';
      return [
        esc(f.metadata.name),
        esc(f.spec?.version ?? ''),
        badge(f.status?.phase ?? 'Pending'),
        `<span class="num">${num(c.succeeded)} succeeded, ${num(c.inFlight)} in flight, ${num(c.failed)} failed of ${num(c.total)}</span>`,
        waveList,
        esc(f.status?.message ?? f.status?.reason ?? ''),
      ];
    });
    fleet = table('Fleet upgrades', ['Name', 'Version', 'Phase', 'Clusters', 'Waves', 'Message'], rows, 'No fleet upgrades.');
  }
  return `<h2>Rollouts</h2>
${table('MachineDeployments', head, mdRows, 'No MachineDeployments.')}
${table('Control planes', head, cpRows, 'No control planes.')}
${fleet}`;
}

function healthView(): string {
  const machines = all('Machine');
  const mhcRows = all('MachineHealthCheck').map((h) => {
    const s = h.status ?? {};
    return [
      esc(h.metadata.name),
      clusterLink(h.metadata.namespace, clusterOf(h) ?? ''),
      `<span class="num">${num(s.currentHealthy)}/${num(s.expectedMachines)}</span>`,
      esc(s.remediationsAllowed ?? ''),
      esc(h.spec?.maxUnhealthy ?? '100%'),
      badge(cond(h, 'RemediationAllowed')?.status),
    ];
  });
  const unhealthy = machines
    .filter((m) => cond(m, 'HealthCheckSucceeded')?.status === 'False' || cond(m, 'OwnerRemediated') !== undefined)
    .map((m) => {
      const hc = cond(m, 'HealthCheckSucceeded');
      return [
        esc(m.metadata.name),
        clusterLink(m.metadata.namespace, clusterOf(m) ?? ''),
        badge(m.status?.phase),
        esc(hc?.reason ?? ''),
        esc(hc?.message ?? ''),
        esc(cond(m, 'OwnerRemediated')?.reason ?? ''),
      ];
    });
  const remediationEvents = all('Event').filter((e) => /Unhealthy|Remediat/i.test(e.reason ?? ''));
  return `<h2>Health checks and remediations</h2>
${table('MachineHealthChecks', ['Name', 'Cluster', 'Healthy', 'Remediations allowed', 'Max unhealthy', 'Remediation allowed'], mhcRows, 'No MachineHealthChecks.')}
${table('Machines marked unhealthy', ['Machine', 'Cluster', 'Phase', 'Reason', 'Message', 'Owner remediated'], unhealthy, 'No machine is marked unhealthy.')}
${table('Remediation events', EVENT_HEAD, eventRows(remediationEvents), 'No remediation so far.')}`;
}

const MONTH_MS = 30 * 24 * 3600 * 1000;
/** The shortest span extrapolated to a month, as the cost route's rows do: a start's burst is not a month's rate. */
const HOUR_MS = 3600 * 1000;
const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;

function costView(): string {
  if (!cost) return `<h2>Cost</h2><p>${esc(costError ?? 'Loading…')}</p>`;
  const span = Math.max(HOUR_MS, Date.parse(cost.until) - Date.parse(cost.since));
  const perMonth = (cost.totalCost * MONTH_MS) / span;
  // Each cluster's own usage this month, counted by the tasks that worked on it (the same on both hosts).
  const known = new Set(all('Cluster').map(keyOf));
  const rows: any[] = Array.isArray(cost.clusters) ? cost.clusters : [];
  const split = rows.map((r) => [
    known.has(`${r.namespace}/${r.clusterName}`)
      ? clusterLink(r.namespace, String(r.clusterName))
      : `${esc(r.namespace)}/${esc(r.clusterName)} <span class="muted">(deleted)</span>`,
    `<span class="num">${num(r.usage?.lambdaRequests)}</span>`,
    `<span class="num">${num(r.usage?.standardTransitions) + num(r.usage?.expressRequests)}</span>`,
    `<span class="num">${esc(usd(num(r.totalCost)))}</span>`,
    `<span class="num">${esc(usd(num(r.perMonth)))}</span>`,
  ]);
  const services = [
    ['Step Functions', cost.stepFunctionsCost],
    ['Lambda', cost.lambdaCost],
    ['DynamoDB', cost.dynamoDbCost],
    ['EventBridge Scheduler', cost.schedulerCost],
  ].map(([k, v]) => [esc(k), `<span class="num">${esc(usd(v as number))}</span>`, `<span class="num">${esc(usd(((v as number) * MONTH_MS) / span))}</span>`]);
  return `<h2>Cost</h2>
<p>Control-plane cost on AWS (${esc(cost.region)}, prices of ${esc(cost.priceDate)}; EC2 instances are not included), metered since ${esc(cost.since)}.</p>
<div class="cards"><section class="card" aria-label="Per month"><h3>Per month at this rate</h3><p class="num" id="cost-month">${esc(usd(perMonth))}</p></section>
<section class="card" aria-label="So far"><h3>So far</h3><p class="num">${esc(usd(cost.totalCost))} over ${esc(age(cost.since, Date.parse(cost.until)))}</p></section></div>
${table(`Per cluster-month (${cost.period ?? ''}: the work of each cluster's tasks, since its first this month)`, ['Cluster', 'Task invocations', 'Step Functions requests and transitions', 'This month', 'Per month'], split, 'No cluster has worked this month.')}
${table('By service', ['Service', 'So far', 'Per month'], services)}`;
}

// ---- rendering ----

let pending = false;
let lastHtml = '';
function scheduleRender(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

function route(): string[] {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return parts[0] ? parts : ['fleet'];
}

function render(): void {
  const [view, ns, name] = route();
  const html =
    view === 'cluster' && ns && name
      ? clusterView(ns, name)
      : view === 'rollouts'
        ? rolloutsView()
        : view === 'health'
          ? healthView()
          : view === 'cost'
            ? costView()
            : fleetView();
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#/${view}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (html === lastHtml) return;
  lastHtml = html;
  const main = $('main');
  // Keep keyboard focus across a redraw: the focused link or control, found again by its href or label.
  const focused = main.contains(document.activeElement) ? (document.activeElement as HTMLElement) : undefined;
  const focusKey = focused?.getAttribute('href') ?? focused?.getAttribute('aria-label');
  main.innerHTML = html;
  if (focusKey) (main.querySelector(`[href="${CSS.escape(focusKey)}"], [aria-label="${CSS.escape(focusKey)}"]`) as HTMLElement | null)?.focus();
  const live = $('live');
  if (!problem) live.textContent = synced.size === WATCHED.length - absent.size ? 'Live' : 'Loading…';
}

function start(): void {
  // `clusterless dashboard` hands its session token over in the fragment (never sent to a server): kept, then dropped from the address.
  const handed = /^#token=([0-9a-f]+)$/.exec(location.hash);
  if (handed) {
    sessionStorage.setItem(TOKEN_KEY, handed[1]!);
    history.replaceState(null, '', '#/fleet');
  }
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, ($('token') as HTMLInputElement).value.trim());
    ($('token') as HTMLInputElement).value = '';
    report(undefined);
    const wake = tokenChanged;
    tokenWait = new Promise<void>((r) => (tokenChanged = r));
    wake();
  });
  window.addEventListener('hashchange', () => {
    render();
    $('main').focus();
  });
  render();
  for (const w of WATCHED) if (w.mode === 'watch') void follow(w);
  void poll();
}

start();
