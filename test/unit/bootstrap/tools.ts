/**
 * The outside tools the bootstrap tests check rendered documents with. A missing tool fails the test with the
 * line that installs it; nothing is skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
export const SETUP_LINE =
  'bash scripts/setup-bootstrap-tools.sh (cloud-init and shellcheck into the per-user cache, kubeadm built by scripts/build-kubeadm.sh)';

export function requireTool(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`${name} is not installed. Set up the test tools first: ${SETUP_LINE}`);
  return r.stdout.trim();
}

let kubeadm: string | undefined;

/** kubeadm as scripts/build-kubeadm.sh built it. */
export function kubeadmBinary(): string {
  if (kubeadm) return kubeadm;
  const r = spawnSync('bash', [join(ROOT, 'scripts/build-kubeadm.sh'), '--print'], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('KUBEADM='));
  if (r.status !== 0 || !line) throw new Error(`kubeadm is not built. Set up the test tools first: bash scripts/build-kubeadm.sh\n${r.stderr}`);
  kubeadm = line.slice('KUBEADM='.length);
  return kubeadm;
}

/** The version of the kubeadm that validates: configurations are rendered for it (kubeadm refuses older control planes). */
export function kubeadmVersion(): string {
  return spawnSync(kubeadmBinary(), ['version', '-o', 'short'], { encoding: 'utf8' }).stdout.trim();
}

export interface ToolResult {
  code: number;
  output: string;
}

/** Runs a tool on `content` written to a temporary file. */
export function runOnFile(command: string, args: (file: string) => string[], content: string, fileName = 'input'): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'clusterless-bootstrap-'));
  try {
    const file = join(dir, fileName);
    writeFileSync(file, content);
    const r = spawnSync(command, args(file), { encoding: 'utf8' });
    return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const cloudInitSchema = (doc: string) => runOnFile(requireTool('cloud-init'), (f) => ['schema', '--config-file', f], doc, 'user-data');
export const shellcheck = (script: string) => runOnFile(requireTool('shellcheck'), (f) => ['--shell=bash', '--severity=style', f], script, 'script.sh');
export const kubeadmValidate = (config: string) => runOnFile(kubeadmBinary(), (f) => ['config', 'validate', '--config', f], config, 'kubeadm.yaml');

/** PEM blocks of any kind (certificates, keys): none may appear where secrets must not. */
export const PEM = /-----BEGIN [A-Z ]+-----/;
/** A bootstrap token anywhere in a text. */
export const TOKEN = /[a-z0-9]{6}\.[a-z0-9]{16}/;
