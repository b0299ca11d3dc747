/**
 * Commands backed by the host's own endpoints under /clusterless/v1 rather than the resource API: the mirror
 * (`mirror set|status`), the simulator (`sim kill`) and `cost`. A server that does not serve one answers
 * 404 without naming an object; that becomes one clear line.
 */
import { stringify } from 'yaml';
import { kindByName } from '../../functions/api/kinds.js';
import { isRouteNotFound } from '../client.js';
import type { Context } from '../context.js';
import { ApiRequestError, UsageError } from '../errors.js';
import { NONE, qualifiedName } from '../format/columns.js';
import { renderTable } from '../format/table.js';
import { checkOutput, printDocuments } from './get.js';

export const MIRROR_PATH = '/clusterless/v1/mirror';
export const COST_PATH = '/clusterless/v1/cost';
export const simKillPath = (namespace: string, machine: string) =>
  `/clusterless/v1/sim/namespaces/${encodeURIComponent(namespace)}/machines/${encodeURIComponent(machine)}/kill`;

/** Runs a request against a host endpoint, turning "no such route" into a sentence about the feature. */
async function call<T>(ctx: Context, method: string, path: string, feature: string, body?: unknown): Promise<T> {
  try {
    return (await ctx.client.request<T>(method, path, body === undefined ? {} : { body })).body;
  } catch (err) {
    if (isRouteNotFound(err))
      throw new ApiRequestError(
        `the server at ${ctx.client.server} does not serve ${feature} (${method} ${path} answered 404)`,
        404,
        (err as ApiRequestError).status,
      );
    throw err;
  }
}

const scalar = (v: unknown) => (v === undefined || v === null || v === '' ? NONE : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** `key: value` lines, aligned, for a small status object whose fields the CLI need not know in advance. */
function keyValues(obj: Record<string, unknown>): string {
  const entries = Object.entries(obj);
  const width = Math.max(0, ...entries.map(([k]) => k.length)) + 3; // the colon and two spaces
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width)}${scalar(v)}\n`).join('');
}

export async function mirrorSet(ctx: Context, options: { kubeconfig?: string; context?: string }): Promise<void> {
  if (!options.kubeconfig) throw new UsageError('--kubeconfig FILE is required: the cluster to mirror the objects into');
  let kubeconfig: string;
  try {
    kubeconfig = await ctx.io.readFile(options.kubeconfig);
  } catch (err) {
    throw new UsageError(`cannot read ${options.kubeconfig}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const status = await call<Record<string, unknown> | undefined>(ctx, 'PUT', MIRROR_PATH, 'the mirror', {
    kubeconfig,
    ...(options.context ? { context: options.context } : {}),
  });
  ctx.out(`mirror target set${options.context ? ` (context ${options.context})` : ''}`);
  if (status && typeof status === 'object') ctx.io.stdout.write(keyValues(status));
}

export async function mirrorStatus(ctx: Context, options: { output?: string }): Promise<void> {
  checkOutput(options.output, ['yaml', 'json']);
  const status = await call<Record<string, unknown>>(ctx, 'GET', MIRROR_PATH, 'the mirror');
  if (options.output === 'yaml' || options.output === 'json') return printDocuments(ctx, options.output, status);
  ctx.io.stdout.write(status && typeof status === 'object' ? keyValues(status) : `${scalar(status)}\n`);
}

export async function simKill(ctx: Context, machine: string, options: { namespace?: string }): Promise<void> {
  const ns = options.namespace ?? 'default';
  await call(ctx, 'POST', simKillPath(ns, machine), 'the simulator (is it running with --provider sim?)', {});
  ctx.out(`${qualifiedName(kindByName('Machine')!, machine)} killed`);
}

export async function cost(ctx: Context, options: { output?: string }): Promise<void> {
  checkOutput(options.output, ['yaml', 'json']);
  const report = await call<Record<string, unknown>>(ctx, 'GET', COST_PATH, 'cost reports');
  if (options.output === 'yaml' || options.output === 'json') return printDocuments(ctx, options.output, report);
  if (!report || typeof report !== 'object') {
    ctx.out(scalar(report));
    return;
  }
  // A table of the items, whatever their fields, then the report's other fields (totals, currency).
  const { items, ...rest } = report;
  if (Array.isArray(items) && items.length > 0 && items.every((i) => i && typeof i === 'object')) {
    const keys = [...new Set(items.flatMap((i) => Object.keys(i as object)))];
    ctx.io.stdout.write(
      renderTable(
        keys.map((k) => k.toUpperCase()),
        items.map((i) => keys.map((k) => scalar((i as Record<string, unknown>)[k]))),
      ),
    );
  }
  if (Object.keys(rest).length > 0) ctx.io.stdout.write(keyValues(rest));
  else if (!Array.isArray(items)) ctx.io.stdout.write(stringify(report));
}
