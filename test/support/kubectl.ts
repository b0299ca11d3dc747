/**
 * The real kubectl run side by side against two servers (a clusterless host and kube-apiserver serving crds/): the
 * helpers the kubectl suites share (test/integration/kubectl/*.test.ts, test/e2e-aws/kubectl.test.ts). Each suite
 * makes its targets (how kubectl reaches the server); these run a command on both and compare what kubectl says.
 */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { type KubectlResult, kubeBinaries } from './kube.js';

export type { KubectlResult } from './kube.js';

/** Runs the real kubectl; KUBECONFIG names no file, so that only what `args` name is read (not ~/.kube/config). */
export function runKubectl(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<KubectlResult> {
  return new Promise((done, reject) => {
    const child = spawn(kubeBinaries().kubectl, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...(options.env ?? process.env), KUBECONFIG: '/dev/null' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A kubectl still running (a wait, a watch): its output so far, and its end. */
export interface RunningKubectl {
  done: Promise<KubectlResult>;
  stdout(): string;
  /** Resolves once `seen(stdout, stderr)` holds; rejects if kubectl ends first or `timeoutMs` (30 s) pass: a test fails, never hangs. */
  until(seen: (stdout: string, stderr: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the real kubectl and leaves it running; stdin is closed. */
export function startKubectl(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): RunningKubectl {
  const child = spawn(kubeBinaries().kubectl, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...(options.env ?? process.env), KUBECONFIG: '/dev/null' } });
  let stdout = '';
  let stderr = '';
  let ended = false;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), notify()));
  child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), notify()));
  const done = new Promise<KubectlResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => ((ended = true), resolve({ code: code ?? -1, stdout, stderr }), notify()));
  });
  return {
    done,
    stdout: () => stdout,
    until: (seen, what, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => (listeners.delete(check), reject(new Error(`${what} not seen within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr.slice(-3000)}`))),
          timeoutMs,
        );
        const check = () => {
          if (!seen(stdout, stderr) && !ended) return;
          listeners.delete(check);
          clearTimeout(timer);
          if (seen(stdout, stderr)) resolve();
          else reject(new Error(`kubectl ended before ${what}:\n${stdout}\n${stderr.slice(-3000)}`));
        };
        listeners.add(check);
        check();
      }),
    stop: async () => {
      if (!ended) child.kill('SIGTERM');
      await done;
    },
  };
}

/** One server kubectl is pointed at: clusterless (a host, or the kubectl door on AWS) or kube-apiserver. */
export interface KubectlTarget {
  name: string;
  kubectl(args: readonly string[], input?: string): Promise<KubectlResult>;
  start(args: readonly string[]): RunningKubectl;
}

/** A target reached with these leading arguments (--kubeconfig, --cache-dir, -n) and environment. */
export function kubectlTarget(name: string, leading: readonly string[], env?: NodeJS.ProcessEnv): KubectlTarget {
  const options = env ? { env } : {};
  return {
    name,
    kubectl: (args, input) => runKubectl([...leading, ...args], input === undefined ? options : { ...options, input }),
    start: (args) => startKubectl([...leading, ...args], options),
  };
}

/** kubectl's -v=6 line for an answered watch request: the watch is open. */
export const WATCH_OPEN = /verb="GET" url="[^"]*watch=true[^"]*" status="200 OK"/;

/** kubectl's -v=6 line for an answered paged list (a watch has no limit): a watch from its version sees every later change. */
export const LISTED = /verb="GET" url="[^"]*[?&]limit=\d+[^"]*" status="200 OK"/;

/**
 * `kubectl wait ...` on both targets in turn: started, then (once kubectl logged `ready`, by default its open watch)
 * `change` made on the same target, then its end. The answers' exit codes and stdout, normalised (stderr is kubectl's
 * request log). `seconds` bounds the wait (kubectl's --timeout).
 */
export async function waitOnBoth(
  targets: readonly [KubectlTarget, KubectlTarget],
  args: readonly string[],
  change: (t: KubectlTarget) => Promise<unknown>,
  options: { ready?: RegExp; seconds?: number } = {},
): Promise<[KubectlResult, KubectlResult]> {
  const results: KubectlResult[] = [];
  const seconds = options.seconds ?? 30;
  for (const t of targets) {
    const waiting = t.start(['wait', ...args, `--timeout=${seconds}s`, '-v=6']);
    try {
      await waiting.until((_, stderr) => (options.ready ?? WATCH_OPEN).test(stderr), `${t.name}: kubectl wait ready`, seconds * 1000);
      await change(t);
      const r = await waiting.done;
      results.push({ code: r.code, stdout: normalised(r.stdout), stderr: r.code === 0 ? '' : r.stderr.slice(-2000) });
    } finally {
      await waiting.stop();
    }
  }
  return results as [KubectlResult, KubectlResult];
}

/** What varies between runs and servers: temporary paths, ports, uids, times and resourceVersions. */
export function normalised(text: string): string {
  return text
    .replace(/\/tmp\/[A-Z]+-\d+/g, '/tmp/DIFF')
    .replace(/https?:\/\/127\.0\.0\.1:\d+/g, 'SERVER')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UID')
    .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?( \+0000)?Z?/g, 'TIME')
    .replace(/resourceVersion( is|:) "?\d+"?/g, 'resourceVersion$1 RV');
}

/** Ages (`0s`, `12s`, `3m4s`) in a table, uids and resource versions in YAML: what differs between two servers' reads. */
export function withoutAges(text: string): string {
  return text.replace(/(?<=\s)\d+[smhdy](\d+[smhd])?(?=\s|$)/g, '<age>').replace(/^(\s*)(uid|resourceVersion|creationTimestamp): .*$/gm, '$1$2: <volatile>');
}

/** kubectl's stdout, or an error naming the target with kubectl's stderr. */
export async function kubectlOk(t: KubectlTarget, args: readonly string[], input?: string): Promise<string> {
  const r = await t.kubectl(args, input);
  if (r.code !== 0) throw new Error(`${t.name}: kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Runs one command on both targets, in turn or (`together`, for servers that share nothing) at once; the answers
 * normalised.
 */
export async function onBoth(
  targets: readonly [KubectlTarget, KubectlTarget],
  args: readonly string[],
  input?: string,
  options: { together?: boolean } = {},
): Promise<[KubectlResult, KubectlResult]> {
  const run = async (t: KubectlTarget) => {
    const r = await t.kubectl(args, input);
    return { code: r.code, stdout: normalised(r.stdout), stderr: normalised(r.stderr) };
  };
  if (options.together) return (await Promise.all(targets.map(run))) as [KubectlResult, KubectlResult];
  const results: KubectlResult[] = [];
  for (const t of targets) results.push(await run(t));
  return results as [KubectlResult, KubectlResult];
}

/** Both servers answered alike: the same exit code and output. */
export function alike([ours, theirs]: [KubectlResult, KubectlResult]): KubectlResult {
  expect(ours, 'clusterless answered as kube-apiserver').toEqual(theirs);
  return ours;
}

/** A field of a stored object on both targets (`kind` as kubectl names it, e.g. machinedeployment). */
export async function fieldOnBoth(targets: readonly [KubectlTarget, KubectlTarget], kind: string, name: string, jsonPath: string): Promise<[string, string]> {
  return (await Promise.all(targets.map((t) => kubectlOk(t, ['get', kind, name, '-o', `jsonpath=${jsonPath}`])))) as [string, string];
}

/** The MachineClass the MachineDeployments of machineDeploymentManifest name (in the target's namespace). */
export const MACHINE_CLASS_MANIFEST = 'apiVersion: clusterless.dev/v1alpha1\nkind: MachineClass\nmetadata:\n  name: small\nspec:\n  sim: {}\n';

/** A MachineDeployment as a user writes it (no namespace: kubectl's context or -n gives it). */
export function machineDeploymentManifest(name: string, replicas = 2, extra = ''): string {
  return [
    'apiVersion: clusterless.dev/v1alpha1',
    'kind: MachineDeployment',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  clusterName: demo',
    `  replicas: ${replicas}`,
    '  template:',
    '    spec:',
    '      version: v1.31.2',
    '      machineClassRef: {name: small}',
    extra,
    '',
  ].join('\n');
}
