/**
 * vitest globalSetup: ONE moto_server for the whole run, its endpoint provided to every test file as
 * `inject('motoEndpoint')`. Files share it and isolate themselves by unique names (uniqueName in aws.ts)
 * rather than resetting it, because they run in parallel. dynalite is started per file (dynalite.ts).
 * The bootstrap tests' cloud-init and shellcheck come first on PATH from the per-user cache that
 * scripts/setup-bootstrap-tools.sh fills, so that no system-wide install is needed or used.
 */
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startMotoServer } from './moto.js';

/** BIN of scripts/setup-bootstrap-tools.sh (same defaults and override). */
export function bootstrapToolsBin(): string {
  const tools = process.env.CLUSTERLESS_BOOTSTRAP_TOOLS || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'clusterless', 'bootstrap-tools');
  return join(tools, 'bin');
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Set before any test worker starts, so that every worker inherits it.
  process.env.PATH = `${bootstrapToolsBin()}${delimiter}${process.env.PATH ?? ''}`;
  const moto = await startMotoServer();
  project.provide('motoEndpoint', moto.endpoint);
  return () => moto.stop();
}
