/**
 * Watches the target's custom resources, one watch per kind, as client-go's reflector does
 * (k8s.io/client-go/tools/cache/reflector.go: ListAndWatch): a list gives the objects and a resourceVersion, the
 * watch resumes from the last resourceVersion seen (bookmarks included) each time the server ends it, and a
 * 410 Gone (the version was compacted away) starts again with a list. Whatever is listed is handed over like an
 * event, so nothing that happened while the watch was down is missed.
 */
import { CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/common.js';
import type { ApiObject, KindDef } from '../../api/kind.js';
import { KINDS } from '../../api/kinds.js';
import { errorMessage, httpStatusOf } from '../kubernetes-client/client.js';
import { targetPages, type TargetObject } from './mirror.js';

export type TargetEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface TargetWatchOptions {
  kubeConfig: KubeConfig;
  /** Called for every object listed (as ADDED) and every event, in the order they come for a kind. */
  onEvent(type: TargetEventType, obj: TargetObject): void;
  onError?(message: string, err: unknown): void;
  /** @default KINDS */
  kinds?: readonly KindDef<ApiObject>[];
  /**
   * How long the server holds one watch open. Shorter than the client's 30 s inactivity timeout, so a quiet
   * watch is ended by the server (and resumed) rather than aborted. @default 25
   */
  timeoutSeconds?: number;
  /** Wait after a failed list or watch before the next attempt. @default 1000 */
  retryMs?: number;
  /**
   * Resume these kinds (by plural) from a resourceVersion kept from before (a bookmark) instead of listing them
   * first; one the server no longer has is a 410 and a list. @default - every kind is listed first
   */
  resumeFrom?: Readonly<Record<string, string>>;
}

/** 410 Gone, as an HTTP status or as the Status of an ERROR event. */
class Expired extends Error {
  override name = 'Expired';
}

export class TargetWatch {
  private readonly custom: CustomObjectsApi;
  private readonly watcher: Watch;
  private readonly aborts = new Set<AbortController>();
  private readonly loops: Promise<void>[] = [];
  private readonly listed = new Map<string, (() => void)[]>();
  private stopped = false;

  constructor(private readonly options: TargetWatchOptions) {
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.watcher = new Watch(options.kubeConfig);
  }

  /** Starts one list-and-watch per kind; resolves once every kind has been listed once (or resumed: resumeFrom). */
  async start(): Promise<void> {
    const kinds = this.options.kinds ?? KINDS;
    const firstLists = kinds.map((def) => new Promise<void>((r) => this.listed.set(def.plural, [r])));
    for (const def of kinds) this.loops.push(this.run(def));
    await Promise.all(firstLists);
  }

  private firstListDone(def: KindDef<ApiObject>): void {
    for (const r of this.listed.get(def.plural)?.splice(0) ?? []) r();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const waiting of this.listed.values()) for (const r of waiting.splice(0)) r();
    for (const a of this.aborts) a.abort();
    await Promise.allSettled(this.loops);
  }

  private async run(def: KindDef<ApiObject>): Promise<void> {
    let resourceVersion: string | undefined = this.options.resumeFrom?.[def.plural];
    while (!this.stopped) {
      try {
        resourceVersion ??= await this.list(def);
        this.firstListDone(def);
        resourceVersion = await this.watchOnce(def, resourceVersion);
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof Expired || httpStatusOf(err) === 410 || (err as { statusCode?: number }).statusCode === 410) {
          resourceVersion = undefined; // relist at once
          continue;
        }
        this.options.onError?.(`watch of ${def.plural}: ${errorMessage(err)}`, err);
        this.firstListDone(def); // start() does not wait on a target that fails: the loop goes on trying
        await new Promise((r) => setTimeout(r, this.options.retryMs ?? 1000).unref());
      }
    }
  }

  /** Lists every object of the kind (paginated), hands each over as ADDED, and returns the list's resourceVersion. */
  private async list(def: KindDef<ApiObject>): Promise<string> {
    let resourceVersion = '';
    for await (const page of targetPages(this.custom, def)) {
      for (const item of page.items) this.options.onEvent('ADDED', item);
      resourceVersion = page.resourceVersion ?? resourceVersion;
    }
    return resourceVersion;
  }

  /** One watch from resourceVersion until the server ends it; returns the last resourceVersion seen. */
  private watchOnce(def: KindDef<ApiObject>, from: string): Promise<string> {
    let resourceVersion = from;
    let expired = false;
    return new Promise<string>((resolve, reject) => {
      let abort: AbortController | undefined;
      const done = (err: unknown) => {
        if (abort) this.aborts.delete(abort);
        if (expired) reject(new Expired('resourceVersion expired'));
        else if (err && !this.stopped) reject(err);
        else resolve(resourceVersion);
      };
      this.watcher
        .watch(
          `/apis/${GROUP}/${VERSION}/${def.plural}`,
          { resourceVersion: from, allowWatchBookmarks: true, timeoutSeconds: this.options.timeoutSeconds ?? 25 },
          (type: string, obj: TargetObject & { code?: number }) => {
            if (type === 'ERROR') {
              if (obj.code === 410) expired = true;
              abort?.abort();
              return;
            }
            if (obj.metadata?.resourceVersion) resourceVersion = obj.metadata.resourceVersion;
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')
              this.options.onEvent(type, { ...obj, apiVersion: obj.apiVersion ?? `${GROUP}/${VERSION}`, kind: obj.kind ?? def.kind });
          },
          done,
        )
        .then((a) => {
          abort = a;
          this.aborts.add(a);
          if (this.stopped) a.abort();
        }, reject);
    });
  }
}
