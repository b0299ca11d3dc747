/**
 * The mirror as the embedded host runs it: every store change pushed to the target as it happens, a sweep
 * that imports kubectl edits and resyncs everything, a switch of target while the control plane keeps
 * reconciling, and the status `clusterless mirror status` shows.
 *
 * Edits and deletes made in the target arrive by a watch of its custom resources (mirror-watch.ts: list, then
 * watch from the last resourceVersion, relist on 410 Gone) and are imported as each event comes. The sweep
 * (import of a full list, then a resync of everything) stays as a safety net, every `sweepIntervalMs` (5 minutes
 * by default): a delete is never missed in between, because the mirror's finalizer keeps a deleted object
 * terminating until the mirror has seen it (mirror.ts, MIRROR_FINALIZER).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import type { ApiLimits } from '../../api/http/limits.js';
import type { ApiObject } from '../../api/kind.js';
import { kindByName, type KindName } from '../../api/kinds.js';
import type { HttpRequest, HttpResponse } from '../../api/http/router.js';
import { systemClock, type Clock, type Store } from '../../ports.js';
import { errorMessage, type KubeconfigSource } from '../kubernetes-client/client.js';
import { KubernetesMirror, MirrorAnnotations, changedInTarget, type ImportResult, type SyncResult, type TargetObject } from './mirror.js';
import { TargetWatch, type TargetEventType } from './mirror-watch.js';

export interface MirrorStatus {
  /** The target's server URL; null when no target is set. */
  target: string | null;
  /** When the last full sweep (import + resync) finished without error. */
  lastSyncTime: string | null;
  /** Objects mirrored at the last sweep. */
  objects: number;
  /** The latest errors (a few), newest last; empty when the last sweep and pushes since went well. */
  errors: string[];
}

export interface MirrorServiceOptions {
  store: Store;
  /** The target to start with; without one the service idles until setTarget. */
  kubeconfig?: KubeconfigSource;
  /** @default 'clusterless' */
  fieldManager?: string;
  /**
   * Milliseconds between sweeps (edit import + full resync), the safety net under the watch; 0 runs none (the
   * host calls sweep()).
   * @default 300000
   */
  sweepIntervalMs?: number;
  /** Watch the target and import its edits and deletes as they come. @default true */
  watch?: boolean;
  /** Pushes in flight at once. @default 4 */
  concurrency?: number;
  clock?: Clock;
  /** The installation's limits, held to imported edits (KubernetesMirrorOptions.limits). */
  limits?: ApiLimits;
  /** Told of every imported or refused edit (the host logs them). */
  onImport?(result: ImportResult): void;
  /** Told of every error (the host logs them). */
  onError?(message: string, err: unknown): void;
}

const MAX_ERRORS = 10;

/** A change to push: kind, namespace and name; the object itself is read from the store when it is pushed. */
interface PendingKey {
  kind: KindName;
  namespace: string;
  name: string;
}

export class MirrorService {
  private mirror: KubernetesMirror | undefined;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly pending = new Map<string, PendingKey>();
  private readonly inFlight = new Set<string>();
  private readonly idle: (() => void)[] = [];
  /** Pushes in flight, each bound to the mirror it started with. */
  private readonly pushes = new Set<Promise<void>>();
  private workers = 0;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<SyncResult | undefined> | undefined;
  private switching: Promise<unknown> = Promise.resolve();
  private lastSyncTime: string | null = null;
  private objects = 0;
  private errors: string[] = [];
  private stopped = false;
  private watch: TargetWatch | undefined;
  /** The imports of watch events, one at a time, in the order they came. */
  private importing: Promise<void> = Promise.resolve();

  constructor(private readonly options: MirrorServiceOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    if (options.kubeconfig) this.mirror = this.newMirror(options.kubeconfig);
  }

  private newMirror(kubeconfig: KubeconfigSource): KubernetesMirror {
    return new KubernetesMirror({
      kubeconfig,
      fieldManager: this.options.fieldManager ?? 'clusterless',
      clock: this.clock,
      ...(this.options.limits ? { limits: this.options.limits } : {}),
    });
  }

  /** The current target's server URL, or undefined. */
  get target(): string | undefined {
    return this.mirror?.target;
  }

  /** Starts the sweep timer, runs a first sweep (a restarted host resyncs everything), then watches the target. */
  async start(): Promise<void> {
    const interval = this.options.sweepIntervalMs ?? 300_000;
    if (interval > 0) {
      this.timer = setInterval(() => void this.sweep(), interval);
      this.timer.unref();
    }
    await this.sweep();
    if (this.mirror) await this.startWatch(this.mirror);
  }

  private async startWatch(mirror: KubernetesMirror): Promise<void> {
    if (this.options.watch === false || this.stopped) return;
    const watch = new TargetWatch({
      kubeConfig: mirror.kubeConfig,
      onEvent: (type, obj) => this.onTargetEvent(mirror, type, obj),
      onError: (message, err) => this.error(message, err),
    });
    this.watch = watch;
    try {
      await watch.start();
    } catch (err) {
      this.error(`watch of ${mirror.target}: ${errorMessage(err)}`, err);
    }
  }

  /**
   * One event of the target: an edit or a delete (a terminating object) is imported; an object of the mirror's
   * that is gone altogether (its finalizer was taken off by hand) gets the store's version pushed again.
   */
  private onTargetEvent(mirror: KubernetesMirror, type: TargetEventType, obj: TargetObject): void {
    const run = async () => {
      if (this.stopped || this.mirror !== mirror) return;
      const kind = kindByName(obj.kind)?.kind as KindName | undefined;
      if (!kind) return;
      const { namespace, name } = obj.metadata;
      if (type === 'DELETED') {
        if (obj.metadata.annotations?.[MirrorAnnotations.sourceUid]) this.enqueue({ kind, namespace, name });
        return;
      }
      // Most events are the mirror's own writes. Any other is read again: events queue up, and one behind the
      // import of a later state would otherwise be taken for an edit of a stale copy.
      if (!changedInTarget(obj)) return;
      const current = await mirror.get(kind, namespace, name);
      if (!current) return;
      const outcome = await mirror.importObject(this.store, current);
      if (outcome.type !== 'unchanged') this.options.onImport?.({ kind, namespace, name, outcome });
    };
    this.importing = this.importing
      .then(run)
      .catch((err: unknown) => this.error(`import of ${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${errorMessage(err)}`, err));
  }

  private async stopWatch(): Promise<void> {
    const watch = this.watch;
    this.watch = undefined;
    await watch?.stop();
    await this.importing;
  }

  /**
   * The callback for the host's store wrapper (local/runtime.ts TriggeringStore's onChange), called after
   * every successful write. Only the key is kept: the push reads the store, so that changes coalesce and a
   * removed object (which arrives as it was, with no deletionTimestamp) is told apart from a live one.
   */
  onChange(_namespace: string, _clusterName: string | undefined, obj: ApiObject): void {
    if (this.stopped || !this.mirror || !kindByName(obj.kind)) return;
    this.enqueue({ kind: obj.kind as KindName, namespace: obj.metadata.namespace, name: obj.metadata.name });
  }

  private enqueue(key: PendingKey): void {
    this.pending.set(`${key.kind}/${key.namespace}/${key.name}`, key);
    this.pump();
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 4;
    while (this.workers < limit && this.nextKey() !== undefined) {
      this.workers++;
      void this.work().finally(() => {
        this.workers--;
        if (this.workers === 0 && this.pending.size === 0) for (const r of this.idle.splice(0)) r();
        else this.pump();
      });
    }
  }

  /** The first pending key not already being pushed (one push per object at a time keeps them in order). */
  private nextKey(): string | undefined {
    for (const id of this.pending.keys()) if (!this.inFlight.has(id)) return id;
    return undefined;
  }

  private async work(): Promise<void> {
    for (let id = this.nextKey(); id !== undefined && !this.stopped; id = this.nextKey()) {
      const key = this.pending.get(id)!;
      this.pending.delete(id);
      this.inFlight.add(id);
      const pushed = this.push(key).catch((err: unknown) => this.error(`mirror ${id}: ${errorMessage(err)}`, err));
      this.pushes.add(pushed);
      try {
        await pushed;
      } finally {
        this.pushes.delete(pushed);
        this.inFlight.delete(id);
      }
    }
  }

  private async push(key: PendingKey): Promise<void> {
    const mirror = this.mirror;
    if (!mirror) return;
    const obj = await this.store.get(key.kind, key.namespace, key.name);
    if (obj) await mirror.apply(obj);
    else await mirror.delete(key.kind, key.namespace, key.name);
  }

  /** Resolves when every change pushed so far has reached the target (tests, and a host that stops). */
  async flush(): Promise<void> {
    if (this.workers === 0 && this.pending.size === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  /** Imports edits made in the target, then resyncs it with the store. One sweep at a time. */
  sweep(): Promise<SyncResult | undefined> {
    this.sweeping ??= this.runSweep().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async runSweep(): Promise<SyncResult | undefined> {
    // Bound to the target of its start; a switch waits for it before cleaning that target.
    const mirror = this.mirror;
    if (!mirror || this.stopped) return undefined;
    try {
      const result = await mirror.sync(this.store);
      for (const r of result.imports) this.options.onImport?.(r);
      if (this.mirror === mirror) {
        this.lastSyncTime = this.clock.now().toISOString();
        this.objects = result.objects;
        this.errors = [];
      }
      return result;
    } catch (err) {
      this.error(`sweep of ${mirror.target}: ${errorMessage(err)}`, err);
      return undefined;
    }
  }

  /**
   * Switches the target (`clusterless mirror set`): checks that the new one serves the CRDs, makes it the
   * target of every push from now on, resyncs everything into it, then removes what the mirror had put in
   * the old one. Reconciles never wait: writes go on and are pushed to the new target meanwhile. A new
   * target that cannot be reached or lacks the CRDs is refused and the old one stays.
   */
  async setTarget(kubeconfig: KubeconfigSource): Promise<MirrorStatus> {
    const run = async () => {
      const next = this.newMirror(kubeconfig);
      await next.list(); // reachable, allowed, and the CRDs are installed
      const previous = this.mirror;
      this.mirror = next;
      this.lastSyncTime = null;
      this.errors = [];
      // No event of the old target is imported from here on: its objects are about to be removed there.
      await this.stopWatch();
      // Pushes and a sweep that started with the old target end before it is cleaned; later ones use the new.
      await Promise.allSettled([...this.pushes, this.sweeping]);
      const result = await next.sync(this.store);
      this.lastSyncTime = this.clock.now().toISOString();
      this.objects = result.objects;
      if (previous && previous.target !== next.target) {
        try {
          await previous.removeAll();
        } catch (err) {
          this.error(`cleaning the previous target ${previous.target}: ${errorMessage(err)}`, err);
        }
      }
      if (this.mirror === next) await this.startWatch(next);
    };
    const switched = this.switching.then(run);
    this.switching = switched.catch(() => undefined);
    await switched;
    return this.status();
  }

  status(): MirrorStatus {
    return { target: this.mirror?.target ?? null, lastSyncTime: this.lastSyncTime, objects: this.objects, errors: [...this.errors] };
  }

  private error(message: string, err: unknown): void {
    this.errors = [...this.errors, `${this.clock.now().toISOString()} ${message}`].slice(-MAX_ERRORS);
    this.options.onError?.(message, err);
  }

  /** Stops the timer and waits for the pushes and the sweep in flight; the next start resyncs the rest. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopped = true;
    await this.stopWatch();
    await Promise.allSettled([...this.pushes, this.sweeping, this.switching]);
    for (const r of this.idle.splice(0)) r();
  }
}

/**
 * The fields of a kubeconfig (client-go's tools/clientcmd/api/v1/types.go: Config, Cluster, AuthInfo, Context)
 * that PUT /clusterless/v1/mirror takes: data only. The kubeconfig comes from whoever may call the host, and
 * @kubernetes/client-node runs `exec` and `auth-provider` commands when it connects and reads the files the
 * path fields name (`token-file` even while loading), so those are refused, naming the field. Any other field
 * is refused too rather than passed on: a later client could give it a meaning, and a YAML parser could read a
 * key differently from ours (a `<<` merge key is a plain key here, a merge for js-yaml).
 */
const KUBECONFIG_FIELDS: Record<'config' | 'cluster' | 'user' | 'context', Record<string, 'string' | 'boolean' | 'list' | 'map' | 'ignored'>> = {
  config: {
    apiVersion: 'string',
    kind: 'string',
    clusters: 'list',
    users: 'list',
    contexts: 'list',
    'current-context': 'string',
    preferences: 'ignored',
    extensions: 'ignored',
  },
  cluster: {
    server: 'string',
    'certificate-authority-data': 'string',
    'insecure-skip-tls-verify': 'boolean',
    'tls-server-name': 'string',
    'proxy-url': 'string',
    'disable-compression': 'boolean',
    extensions: 'ignored',
  },
  user: {
    'client-certificate-data': 'string',
    'client-key-data': 'string',
    token: 'string',
    username: 'string',
    password: 'string',
    as: 'string',
    'as-uid': 'string',
    'as-groups': 'ignored',
    'as-user-extra': 'ignored',
    extensions: 'ignored',
  },
  context: { cluster: 'string', user: 'string', namespace: 'string', extensions: 'ignored' },
};

/** Why a field that reaches outside the kubeconfig is refused, and what to send instead. */
const HOST_REACHING_FIELDS: Record<string, string> = {
  exec: 'runs a program on the host; send a token or a client certificate inline',
  'auth-provider': 'runs a program or reads files on the host; send a token or a client certificate inline',
  'token-file': 'reads a file on the host; send token inline',
  tokenFile: 'reads a file on the host; send token inline',
  'client-certificate': 'reads a file on the host; send client-certificate-data inline',
  'client-key': 'reads a file on the host; send client-key-data inline',
  'certificate-authority': 'reads a file on the host; send certificate-authority-data inline',
};

const INLINE_ONLY =
  'the kubeconfig must be sent inline, as YAML or JSON text (a mapping with clusters, users and contexts); a file path is not taken (clusterless mirror set --kubeconfig FILE reads the file and sends its text)';

class KubeconfigRefused extends Error {
  override name = 'KubeconfigRefused';
  constructor(
    readonly field: string,
    message: string,
    readonly reason: 'FieldValueForbidden' | 'FieldValueInvalid' | 'FieldValueNotFound' = 'FieldValueInvalid',
  ) {
    super(message);
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks one mapping of the kubeconfig against its fields; `at` is its field path, for the refusal. */
function checkFields(value: unknown, fields: (typeof KUBECONFIG_FIELDS)[keyof typeof KUBECONFIG_FIELDS], at: string): Record<string, unknown> {
  if (!isMap(value)) throw new KubeconfigRefused(at, 'must be a mapping');
  for (const [key, v] of Object.entries(value)) {
    const field = `${at}.${key}`;
    const reaching = HOST_REACHING_FIELDS[key];
    if (reaching) throw new KubeconfigRefused(field, `is not taken here: it ${reaching}`, 'FieldValueForbidden');
    const type = fields[key];
    if (type === undefined) throw new KubeconfigRefused(field, 'is not a kubeconfig field this route takes', 'FieldValueForbidden');
    if (type === 'string' && typeof v !== 'string') throw new KubeconfigRefused(field, 'must be a string');
    if (type === 'boolean' && typeof v !== 'boolean') throw new KubeconfigRefused(field, 'must be true or false');
    if (type === 'list' && !Array.isArray(v)) throw new KubeconfigRefused(field, 'must be a list');
  }
  return value;
}

/** `clusters`, `users` or `contexts`: a list of `{name, <item>}`, each item checked. */
function checkNamedList(config: Record<string, unknown>, list: 'clusters' | 'users' | 'contexts', item: 'cluster' | 'user' | 'context'): void {
  const entries = (config[list] ?? []) as unknown[];
  entries.forEach((entry, i) => {
    const at = `kubeconfig.${list}[${i}]`;
    if (!isMap(entry)) throw new KubeconfigRefused(at, 'must be a mapping with name and ' + item);
    for (const key of Object.keys(entry))
      if (key !== 'name' && key !== item) throw new KubeconfigRefused(`${at}.${key}`, 'is not a kubeconfig field this route takes', 'FieldValueForbidden');
    if (typeof entry['name'] !== 'string' || entry['name'] === '') throw new KubeconfigRefused(`${at}.name`, 'must be a non-empty string');
    checkFields(entry[item], KUBECONFIG_FIELDS[item], `${at}.${item}`);
  });
}

/**
 * The KubeConfig of an untrusted kubeconfig text, made only of the data fields checked above, with `context`
 * (when given) as its current context. Throws KubeconfigRefused naming the field at fault; a text that does not
 * parse gets a fixed message, never the parser's, which quotes the text.
 */
export function untrustedKubeconfig(text: string, context?: string): KubeConfig {
  let config: unknown;
  try {
    config = parseYaml(text, { merge: false, uniqueKeys: true, maxAliasCount: 100 });
  } catch {
    throw new KubeconfigRefused('kubeconfig', 'is not valid YAML or JSON');
  }
  if (!isMap(config)) throw new KubeconfigRefused('kubeconfig', INLINE_ONLY);
  checkFields(config, KUBECONFIG_FIELDS.config, 'kubeconfig');
  checkNamedList(config, 'clusters', 'cluster');
  checkNamedList(config, 'users', 'user');
  checkNamedList(config, 'contexts', 'context');
  ((config['clusters'] ?? []) as { cluster: { server?: unknown } }[]).forEach(({ cluster }, i) => {
    let url: URL | undefined;
    try {
      url = new URL(String(cluster.server ?? ''));
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      throw new KubeconfigRefused(`kubeconfig.clusters[${i}].cluster.server`, 'must be the https (or http) URL of a Kubernetes API server');
  });
  const kc = new KubeConfig();
  // The checked document, as JSON: what the client reads is exactly what was checked.
  kc.loadFromString(JSON.stringify(config));
  if (context !== undefined) {
    if (!kc.getContextObject(context)) throw new KubeconfigRefused('context', 'names no context of the kubeconfig', 'FieldValueNotFound');
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster())
    throw new KubeconfigRefused(
      context !== undefined ? 'context' : 'kubeconfig.current-context',
      'must name a context whose cluster is in the kubeconfig',
      'FieldValueNotFound',
    );
  return kc;
}

/**
 * `GET /clusterless/v1/mirror` (status) and `PUT /clusterless/v1/mirror` with `{"kubeconfig": "<kubeconfig
 * YAML>", "context": "<name>"}` (switch the target, answered once the new target holds everything; `context`
 * is optional). Errors are Kubernetes Status objects like the rest of the API: 400 naming the field for a bad
 * body or a kubeconfig it does not take (a path, `exec`, a file field: see KUBECONFIG_FIELDS), 502 when the
 * new target cannot be used (unreachable, forbidden, no CRDs), 405 for other methods.
 */
export async function handleMirrorRequest(service: MirrorService, req: HttpRequest): Promise<HttpResponse> {
  const json = (status: number, body: unknown): HttpResponse => ({
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const failure = (code: number, reason: string, message: string, cause?: { field: string; reason: string; message: string }) =>
    json(code, {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      code,
      reason,
      message,
      ...(cause ? { details: { causes: [cause] } } : {}),
    });
  const badField = (field: string, message: string, reason = 'FieldValueInvalid') =>
    failure(400, 'BadRequest', `${field}: ${message}`, { field, reason, message });
  if (req.method === 'GET') return json(200, service.status());
  if (req.method !== 'PUT') return failure(405, 'MethodNotAllowed', `${req.method} is not allowed on the mirror; use GET or PUT`);
  let body: unknown;
  try {
    body = JSON.parse(req.body ?? '');
  } catch {
    return failure(400, 'BadRequest', 'the body must be JSON: {"kubeconfig": "<kubeconfig YAML>", "context": "<optional context name>"}');
  }
  const { kubeconfig, context } = (isMap(body) ? body : {}) as { kubeconfig?: unknown; context?: unknown };
  if (typeof kubeconfig !== 'string' || kubeconfig.trim() === '') return badField('kubeconfig', 'is required: the kubeconfig YAML', 'FieldValueRequired');
  if (context !== undefined && (typeof context !== 'string' || context === '')) return badField('context', 'must be the name of a context of the kubeconfig');
  let target: KubeConfig;
  try {
    target = untrustedKubeconfig(kubeconfig, context as string | undefined);
  } catch (err) {
    if (err instanceof KubeconfigRefused) return badField(err.field, err.message, err.reason);
    return badField('kubeconfig', 'cannot be read');
  }
  try {
    return json(200, await service.setTarget(target));
  } catch (err) {
    return failure(502, 'ServiceUnavailable', `the mirror target was not changed: ${errorMessage(err)}`);
  }
}
