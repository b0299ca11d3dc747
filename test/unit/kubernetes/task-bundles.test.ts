/**
 * The task functions and the sweep reach workload clusters through the project's REST client
 * (functions/adapters/kubernetes-client/rest-client.ts), not @kubernetes/client-node: that package and what it
 * pulls (undici, ws, js-yaml...) were about 2 MB of each of their bundles, and a Lambda's import time follows
 * its bytes. Likewise every function reaches EC2 through our own Query client (functions/adapters/aws/ec2-query),
 * not @aws-sdk/client-ec2, whose one schema module for all of EC2 was 538 KiB of each task's code. The bundles
 * are made as the stack makes them (infra/constructs/handler-function.ts: esbuild, ESM, node22, module before
 * main), and their inputs read from esbuild's metafile.
 */
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDLERS, type HandlerName } from '../../../infra/control-plane-stack.js';
import { REPO_ROOT } from '../../../infra/constructs/handler-function.js';

/** The functions that read nodes or drain them, or talk to workload clusters' APIs for the bootstrap. */
const WORKLOAD_FUNCTIONS: HandlerName[] = ['reconcile', 'provision', 'rollout', 'remediate', 'teardown', 'sweep'];

/** What @kubernetes/client-node brings: itself and the HTTP, WebSocket and YAML stacks of its own. */
const CLIENT_NODE = /node_modules\/(@kubernetes\/client-node|js-yaml|ws|undici|openid-client|jsonpath-plus)\//;
const CLIENT_EC2 = /node_modules\/@aws-sdk\/client-ec2\//;

const ALL_FUNCTIONS = Object.keys(HANDLERS) as HandlerName[];
let outputs: Metafile['outputs'];

/** The inputs of these functions' bundles that match `pattern`, as `out/{fn}.js: {input}`. */
function carried(functions: HandlerName[], pattern: RegExp): string[] {
  return functions.flatMap((name) => Object.keys(outputs[`out/${name}.js`]!.inputs).flatMap((input) => (pattern.test(input) ? [`${name}: ${input}`] : [])));
}

beforeAll(async () => {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: Object.fromEntries(ALL_FUNCTIONS.map((name) => [name, HANDLERS[name].entry])),
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
  outputs = result.metafile.outputs;
}, 120_000);

describe('the bundles of the functions', () => {
  it('are one file per function', () => {
    expect(
      Object.keys(outputs)
        .filter((path) => path.endsWith('.js'))
        .sort(),
    ).toEqual(ALL_FUNCTIONS.map((name) => `out/${name}.js`).sort());
  });

  it('that reach workload clusters do not carry @kubernetes/client-node nor the packages it pulls', () => {
    expect(carried(WORKLOAD_FUNCTIONS, CLIENT_NODE)).toEqual([]);
  });

  it('do not carry @aws-sdk/client-ec2 (EC2 is our own Query client)', () => {
    expect(carried(ALL_FUNCTIONS, CLIENT_EC2)).toEqual([]);
    // The client they carry instead, so that the check above cannot pass by a renamed path.
    expect(carried(['provision', 'instance-events'], /functions\/adapters\/aws\/ec2-query\/client\.ts$/)).toHaveLength(2);
  });

  it("of the tasks carry their own task's module and no other task's (the entries do not import workflows/index.ts)", () => {
    const TASK_MODULES = {
      reconcile: 'reconcile-task.ts',
      provision: 'provision-machine.ts',
      rollout: 'stepping.ts',
      remediate: 'stepping.ts',
      teardown: 'stepping.ts',
      'fleet-upgrade': 'fleet-upgrade.ts',
    } as const;
    for (const [name, own] of Object.entries(TASK_MODULES) as [HandlerName, string][]) {
      const modules = carried([name], /functions\/workflows\/(reconcile-task|provision-machine|stepping|fleet-upgrade)\.ts$/).map((line) =>
        line.split('/').at(-1),
      );
      expect({ name, modules }).toEqual({ name, modules: [own] });
    }
  });
});
