/**
 * The task functions and the sweep reach workload clusters through the project's REST client
 * (functions/adapters/kubernetes-client/rest-client.ts), not @kubernetes/client-node: that package and what it
 * pulls (undici, ws, js-yaml...) were about 2 MB of each of their bundles, and a Lambda's import time follows
 * its bytes. The bundles are made as the stack makes them (infra/constructs/handler-function.ts: esbuild, ESM,
 * node22, module before main), and their inputs read from esbuild's metafile.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { HANDLERS, type HandlerName } from '../../../infra/control-plane-stack.js';
import { REPO_ROOT } from '../../../infra/constructs/handler-function.js';

/** The functions that read nodes or drain them, or talk to workload clusters' APIs for the bootstrap. */
const WORKLOAD_FUNCTIONS: HandlerName[] = ['reconcile', 'provision', 'rollout', 'remediate', 'teardown', 'sweep'];

/** What @kubernetes/client-node brings: itself and the HTTP, WebSocket and YAML stacks of its own. */
const CLIENT_NODE = /node_modules\/(@kubernetes\/client-node|js-yaml|ws|undici|openid-client|jsonpath-plus)\//;

describe('the bundles of the functions that reach workload clusters', () => {
  it('do not carry @kubernetes/client-node nor the packages it pulls', async () => {
    // Act
    const result = await build({
      absWorkingDir: REPO_ROOT,
      entryPoints: Object.fromEntries(WORKLOAD_FUNCTIONS.map((name) => [name, HANDLERS[name].entry])),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      mainFields: ['module', 'main'],
      outdir: 'out',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    // Assess
    const outputs = Object.entries(result.metafile.outputs).filter(([path]) => path.endsWith('.js'));
    expect(outputs).toHaveLength(WORKLOAD_FUNCTIONS.length);
    const carried = outputs.flatMap(([path, output]) => Object.keys(output.inputs).flatMap((input) => (CLIENT_NODE.test(input) ? [`${path}: ${input}`] : [])));
    expect(carried).toEqual([]);
  }, 60_000);
});
