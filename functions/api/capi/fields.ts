/**
 * Reading a Cluster API object field by field, so that whatever the conversion does not read is named in a
 * warning by its path instead of being dropped silently: every read (or deliberate skip) marks a path as
 * taken, and `leftovers` reports every value left under no taken path.
 */
import { fieldPath } from '../validate.js';
import { durationSeconds, isPlainObject } from '../common.js';

export type Path = readonly (string | number)[];

/** Cluster API's well-known labels and annotations (cluster-api api/core/v1beta2/common_types.go). */
export const CapiLabels = {
  clusterName: 'cluster.x-k8s.io/cluster-name',
  deploymentName: 'cluster.x-k8s.io/deployment-name',
  poolName: 'cluster.x-k8s.io/pool-name',
  setName: 'cluster.x-k8s.io/set-name',
  controlPlane: 'cluster.x-k8s.io/control-plane',
  controlPlaneName: 'cluster.x-k8s.io/control-plane-name',
  /** On the objects a managed topology generated (cluster-api api/core/v1beta2/common_types.go). */
  topologyOwned: 'topology.cluster.x-k8s.io/owned',
  topologyDeploymentName: 'topology.cluster.x-k8s.io/deployment-name',
} as const;
export const CapiAnnotations = {
  paused: 'cluster.x-k8s.io/paused',
  skipRemediation: 'cluster.x-k8s.io/skip-remediation',
  deleteMachine: 'cluster.x-k8s.io/delete-machine',
  skipPreflightChecks: 'machineset.cluster.x-k8s.io/skip-preflight-checks',
} as const;

/** A non-empty string, or undefined. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Fields of Cluster API's kinds that are maps, whose keys are written in brackets as Kubernetes writes them. */
const MAPS = new Set(['labels', 'annotations', 'matchLabels', 'extraArgs', 'kubeletExtraArgs', 'additionalTags', 'data', 'stringData', 'tags']);

/** `spec.template.metadata.labels[app]`, `spec.files[0]`. */
export function pathString(path: Path): string {
  return fieldPath(path, (i) => i > 0 && MAPS.has(String(path[i - 1])));
}

/** One finding of a conversion: the Cluster API object (`Kind/name`), the field at issue, and why. */
export interface ConversionIssue {
  source: string;
  path: string;
  message: string;
}

/** `KubeadmControlPlane/foo spec.kubeadmConfigSpec.files[0]: not converted (...)`. */
export function formatIssue(i: ConversionIssue): string {
  return `${i.source}${i.path ? ` ${i.path}` : ''}: ${i.message}`;
}

/** A JSON object (api/common.ts isPlainObject), under the name the converter reads it by. */
export const isRecord = isPlainObject;

/** Metadata the API server sets: observed, never intent, so never worth a warning. */
const SERVER_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp'];

export class FieldReader {
  private readonly taken = new Set<string>();

  constructor(
    readonly object: Record<string, unknown>,
    readonly source: string,
    private readonly warnings: ConversionIssue[],
  ) {
    // What identifies the object, and what the server wrote about it (status included: observed, not asked for).
    for (const p of [['apiVersion'], ['kind'], ['metadata', 'name'], ['metadata', 'namespace'], ['status'], ...SERVER_METADATA.map((f) => ['metadata', f])])
      this.skip(p);
  }

  /** The value at `path` (undefined when absent or null), marking it as converted. */
  get(path: Path): unknown {
    this.skip(path);
    return this.peek(path);
  }

  /** The value at `path` without marking it. */
  peek(path: Path): unknown {
    let v: unknown = this.object;
    for (const p of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string | number, unknown>)[p];
    }
    return v ?? undefined;
  }

  /** The first of `paths` present (as the v1beta1 and v1beta2 spellings of one field); every one is marked. */
  first(...paths: Path[]): { value: unknown; path: Path } | undefined {
    let found: { value: unknown; path: Path } | undefined;
    for (const p of paths) {
      const v = this.get(p);
      if (v !== undefined && !found) found = { value: v, path: p };
    }
    return found;
  }

  /** Marks `path` as handled without a value: a reference resolved, or a field whose meaning clusterless has built in. */
  skip(path: Path): void {
    this.taken.add(key(path));
  }

  /** A warning on `path` with its own reason; the path is then handled. */
  warn(path: Path, message: string): void {
    this.skip(path);
    this.warnings.push({ source: this.source, path: pathString(path), message });
  }

  /**
   * Warns on every value no read has taken: scalars by their path, list items whole (`files[0]`), so that one
   * unconverted file is one warning, not one per line of it.
   */
  leftovers(reason: string | ((path: Path) => string)): void {
    const why = (p: Path) => `not converted (${typeof reason === 'string' ? reason : reason(p)})`;
    const walk = (v: unknown, path: (string | number)[]): void => {
      if (v === null || v === undefined) return;
      if (this.isTaken(path)) return;
      if (Array.isArray(v)) {
        v.forEach((item, i) => {
          const p = [...path, i];
          // An item some of whose fields were read is looked into; one left alone is named whole.
          if (this.isTaken(p)) return;
          if (this.hasTakenUnder(p)) walk(item, p);
          else this.warnings.push({ source: this.source, path: pathString(p), message: why(p) });
        });
        return;
      }
      if (isRecord(v)) {
        for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
        return;
      }
      this.warnings.push({ source: this.source, path: pathString(path), message: why(path) });
    };
    walk(this.object, []);
  }

  private hasTakenUnder(path: Path): boolean {
    const prefix = key(path).slice(0, -1);
    for (const t of this.taken) if (t.startsWith(`${prefix},`)) return true;
    return false;
  }

  private isTaken(path: Path): boolean {
    for (let i = 0; i <= path.length; i++) if (this.taken.has(key(path.slice(0, i)))) return true;
    return false;
  }
}

function key(path: Path): string {
  return JSON.stringify(path);
}

/** Seconds from a Go duration ("90s", "10m", "1h0m0s", "500ms"), rounded up to whole seconds; undefined when not one. */
export function durationToSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^(0|(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+)$/.test(value)) return undefined;
  // Whole seconds, rounded up (the float error of 0.1 + 0.2 and the like left out).
  return Math.ceil(durationSeconds(value) - 1e-9);
}
