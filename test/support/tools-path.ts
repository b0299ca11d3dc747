/**
 * vitest globalSetup of every project: the bootstrap tests' cloud-init and shellcheck come first on PATH from the
 * per-user cache that scripts/setup-bootstrap-tools.sh fills, so that no system-wide install is needed or used.
 * Set before any test worker starts, so that every worker inherits it.
 */
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** BIN of scripts/setup-bootstrap-tools.sh (same defaults and override). */
export function bootstrapToolsBin(): string {
  const tools = process.env.CLUSTERLESS_BOOTSTRAP_TOOLS || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'clusterless', 'bootstrap-tools');
  return join(tools, 'bin');
}

export default function setup(): void {
  process.env.PATH = `${bootstrapToolsBin()}${delimiter}${process.env.PATH ?? ''}`;
}
