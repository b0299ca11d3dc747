/**
 * Every command run in process against the real router (memory store) with a fake terminal and clock:
 * what it prints, what it sends, and its exit code.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Labels } from '../../../functions/api/common.js';
import { DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS } from '../../../functions/api/http/limits.js';
import { generateCluster, renderGenerated } from '../../../cli/commands/generate.js';
import { fakeWorld, type FakeWorld } from './harness.js';
import { machine, machineSet, path, readyCondition, controlPlaneLabels, deploymentLabels } from './fixtures.js';
import { EventReason } from '../../../functions/api/event.js';
import { silentLogger, storeEventRecorder } from '../../../functions/workflows/index.js';

const ANSI = /\u001b\[/;
const demoYaml = renderGenerated(generateCluster('demo', { kubernetesVersion: 'v1.31.2', controlPlaneMachineCount: '3', workerMachineCount: '3' }), ' demo');

let w: FakeWorld;
beforeEach(() => {
  w = fakeWorld();
});

async function applyDemo() {
  const r = await w.run(['apply', '-f', '-'], { stdin: demoYaml });
  expect(r.code).toBe(0);
}

describe('apply', () => {
  it('creates every object, then finds them unchanged, then configures the one that changed', async () => {
    const first = await w.run(['apply', '-f', '-'], { stdin: demoYaml });
    expect(first).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'machineclass.clusterless.dev/demo created',
        'cluster.clusterless.dev/demo created',
        'controlplane.clusterless.dev/demo-control-plane created',
        'machinedeployment.clusterless.dev/demo-md-0 created',
        'machinehealthcheck.clusterless.dev/demo-md-0 created',
        '',
      ].join('\n'),
    });
    const again = await w.run(['apply', '-f', '-'], { stdin: demoYaml });
    expect(
      again.stdout
        .split('\n')
        .filter(Boolean)
        .every((l) => l.endsWith(' unchanged')),
    ).toBe(true);
    // Nothing changed, so nothing was written.
    expect(w.requests.slice(-5).map((r) => r.method)).toEqual(['GET', 'GET', 'GET', 'GET', 'GET']);

    const scaled = demoYaml.replace('replicas: 3\n  template', 'replicas: 5\n  template');
    const third = await w.run(['apply', '-f', 'cluster.yaml'], { files: { 'cluster.yaml': scaled } });
    expect(third.stdout).toContain('machinedeployment.clusterless.dev/demo-md-0 configured');
    expect(third.stdout).toContain('controlplane.clusterless.dev/demo-control-plane unchanged');
    expect((await w.api('GET', path('machinedeployments', 'demo-md-0'))).json.spec.replicas).toBe(5);
  });

  it('keeps what the server set (defaults, finalizers) when it configures an object', async () => {
    await applyDemo();
    // A label on the MachineClass (its spec is immutable) configures it; the spec's defaults stay.
    await w.run(['apply', '-f', '-'], {
      stdin: demoYaml.replace(
        '  name: demo\n  namespace: default\nspec:\n  sim:',
        '  name: demo\n  namespace: default\n  labels:\n    tier: fast\nspec:\n  sim:',
      ),
    });
    const mc = (await w.api('GET', path('machineclasses', 'demo'))).json;
    expect(mc.metadata.labels).toMatchObject({ tier: 'fast' });
    expect(mc.spec.sim).toMatchObject({ bootSeconds: 5, nodeReadySeconds: 2, failureRate: 0 });
    const md = (await w.api('GET', path('machinedeployments', 'demo-md-0'))).json;
    expect(md.metadata.finalizers).toEqual(['clusterless.dev/machine-deployment']);
  });

  it('applies the other objects when one is refused, prints one error line for it and exits 1', async () => {
    const bad = demoYaml.replace('replicas: 3\n  version', 'replicas: 4\n  version');
    const r = await w.run(['apply', '-f', '-'], { stdin: bad });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: ControlPlane.clusterless.dev "demo-control-plane" is invalid: spec.replicas: Invalid value: 4: must be an odd number (1, 3, 5, ...) so that etcd keeps quorum\n',
    );
    expect(r.stdout).toContain('machinehealthcheck.clusterless.dev/demo-md-0 created');
  });

  it('refuses a manifest whose namespace contradicts -n before sending anything (exit 2)', async () => {
    const r = await w.run(['apply', '-n', 'other', '-f', '-'], { stdin: demoYaml });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: stdin \(document 1\): the namespace of the object \(default\) does not match --namespace other\n$/);
    expect(w.requests).toEqual([]);
  });

  it('puts objects without a namespace in the one of -n', async () => {
    const r = await w.run(['apply', '-n', 'team-a', '-f', '-'], { stdin: demoYaml.replaceAll('  namespace: default\n', '') });
    expect(r.code).toBe(0);
    expect((await w.api('GET', path('clusters', 'demo', undefined, 'team-a'))).status).toBe(200);
  });

  it('says which file it cannot read (exit 2)', async () => {
    const r = await w.run(['apply', '-f', 'missing.yaml']);
    expect(r).toMatchObject({ code: 2, stderr: 'error: cannot read missing.yaml: ENOENT\n' });
  });
});

describe('get', () => {
  beforeEach(async () => {
    await applyDemo();
    await w.create(machine('demo-md-0-aaaa', { labels: deploymentLabels('demo', 'demo-md-0') }));
    await w.create(machine('other-md-0-bbbb', { cluster: 'other', labels: deploymentLabels('other', 'other-md-0') }));
    await w.api('PATCH', path('machines', 'demo-md-0-aaaa', 'status'), { status: { phase: 'Running', nodeRef: { name: 'ip-10-0-0-1' } } });
    w.clock.advance(190);
  });

  it('prints a kubectl table of machines, plain when not on a terminal', async () => {
    const r = await w.run(['get', 'machines']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'NAME              CLUSTER   NODE          PHASE     VERSION   AGE',
        'demo-md-0-aaaa    demo      ip-10-0-0-1   Running   v1.31.2   3m10s',
        'other-md-0-bbbb   other     <none>        <none>    v1.31.2   3m10s',
        '',
      ].join('\n'),
    });
  });

  it('colours on a terminal, and not with NO_COLOR', async () => {
    expect((await w.run(['get', 'machines'], { tty: true })).stdout).toMatch(ANSI);
    expect((await w.run(['get', 'machines'], { tty: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(ANSI);
  });

  it('sends -l as the label selector', async () => {
    const r = await w.run(['get', 'ma', '-l', `${Labels.clusterName}=demo`, '-o', 'name']);
    expect(r.stdout).toBe('machine.clusterless.dev/demo-md-0-aaaa\n');
    expect(w.requests.at(-1)!.query).toEqual({ labelSelector: `${Labels.clusterName}=demo` });
  });

  it('prints one object as YAML or JSON, and a list as a List', async () => {
    const one = await w.run(['get', 'machinedeployment', 'demo-md-0', '-o', 'json']);
    expect(JSON.parse(one.stdout)).toMatchObject({ kind: 'MachineDeployment', metadata: { name: 'demo-md-0' } });
    const list = await w.run(['get', 'clusters', '-o', 'yaml']);
    expect(list.stdout).toMatch(/^apiVersion: v1\nkind: List\n/);
    expect(list.stdout).toContain('name: demo');
    const slash = await w.run(['get', 'md/demo-md-0', '-o', 'name']);
    expect(slash.stdout).toBe('machinedeployment.clusterless.dev/demo-md-0\n');
  });

  it('lists across namespaces with -A and a NAMESPACE column', async () => {
    const r = await w.run(['get', 'clusters', '-A']);
    expect(r.stdout.split('\n')[0]).toBe('NAMESPACE   NAME   PHASE    AGE');
    expect(w.requests.at(-1)!.path).toBe('/apis/clusterless.dev/v1alpha1/clusters');
  });

  it('says on stderr that nothing was found, and exits 0', async () => {
    const r = await w.run(['get', 'machinesets']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: 'No resources found in default namespace.\n' });
  });

  it.each([
    {
      name: 'an unknown kind',
      argv: ['get', 'pods'],
      code: 2,
      err: /^error: unknown resource type "pods" \(one of: machineclasses, clusterclasses, clusterresourcesets, clusters/,
    },
    { name: 'an unknown output', argv: ['get', 'machines', '-o', 'table'], code: 2, err: /^error: option '-o, --output <format>' argument 'table' is invalid/ },
    { name: 'a name with -A', argv: ['get', 'machines', 'x', '-A'], code: 2, err: /^error: a resource cannot be retrieved by name across all namespaces/ },
    { name: 'a missing object', argv: ['get', 'cluster', 'nope'], code: 1, err: /^error: clusters.clusterless.dev "nope" not found\n$/ },
    { name: 'a bad selector', argv: ['get', 'machines', '-l', 'a b c'], code: 1, err: /^error: unable to parse label selector "a b c"/ },
  ])('fails on $name with one error line and exit $code', async ({ argv, code, err }) => {
    const r = await w.run(argv);
    expect(r.code).toBe(code);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(err);
    expect(r.stdout).toBe('');
  });

  it('watches: prints the table, then a row for each object that changes, until --watch-timeout', async () => {
    let polls = 0;
    w.onSleep = async () => {
      polls++;
      if (polls === 2) await w.api('PATCH', path('machines', 'other-md-0-bbbb', 'status'), { status: { phase: 'Provisioning' } });
      if (polls === 3) await w.create(machine('demo-md-0-cccc', { labels: deploymentLabels('demo', 'demo-md-0') }));
    };
    const r = await w.run(['get', 'machines', '-w', '--watch-timeout', '10s', '--interval', '1s']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'NAME              CLUSTER   NODE          PHASE     VERSION   AGE',
        'demo-md-0-aaaa    demo      ip-10-0-0-1   Running   v1.31.2   3m10s',
        'other-md-0-bbbb   other     <none>        <none>    v1.31.2   3m10s',
        'other-md-0-bbbb   other     <none>        Provisioning   v1.31.2   3m12s',
        'demo-md-0-cccc    demo      <none>        <none>    v1.31.2   0s',
        '',
      ].join('\n'),
    );
  });

  it('stops watching on Ctrl-C with exit 0', async () => {
    w.onSleep = () => {
      for (const h of w.interrupts) h('SIGINT');
    };
    const r = await w.run(['get', 'clusters', '-w']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('NAME   PHASE    AGE');
  });
});

describe('describe cluster', () => {
  it('draws the cluster tree from the list endpoints, with conditions', async () => {
    await applyDemo();
    const cp = (await w.api('GET', path('controlplanes', 'demo-control-plane'))).json;
    await w.create(
      machine('demo-control-plane-x', {
        labels: controlPlaneLabels('demo', 'demo-control-plane'),
        owner: { kind: 'ControlPlane', name: cp.metadata.name, uid: cp.metadata.uid },
      }),
    );
    await w.create(machine('demo-md-0-y', { labels: deploymentLabels('demo', 'demo-md-0') }));
    await w.create(machine('elsewhere', { cluster: 'other' }));
    await w.api('PATCH', path('machines', 'demo-md-0-y', 'status'), {
      status: { conditions: [readyCondition('False', '2026-01-01T00:00:00Z', { reason: 'NodeNotReady', severity: 'Warning', message: 'kubelet stopped' })] },
    });
    w.clock.advance(42);
    const r = await w.run(['describe', 'cluster', 'demo']);
    expect(r.code).toBe(0);
    const names = r.stdout.split('\n').map((l) => /^[\s│├└─]*\S*/.exec(l)![0]);
    expect(names).toEqual([
      'NAME',
      'Cluster/demo',
      '├─ControlPlane/demo-control-plane',
      '│ └─Machine/demo-control-plane-x',
      '└─Workers',
      '  └─MachineDeployment/demo-md-0',
      '    └─Machine/demo-md-0-y',
      '',
      'Events:',
      '',
    ]);
    expect(r.stdout).toMatch(/Machine\/demo-md-0-y\s+False\s+Warning\s+NodeNotReady\s+42s\s+kubelet stopped/);
    expect(r.stdout).toContain('\nEvents:  <none>\n');
  });

  it("ends with the cluster's events, oldest first, as kubectl describe prints them", async () => {
    await applyDemo();
    const cluster = (await w.api('GET', path('clusters', 'demo'))).json;
    const recorder = storeEventRecorder(w.store, w.clock, silentLogger);
    const regarding = { kind: 'Cluster', namespace: 'default', name: 'demo', uid: cluster.metadata.uid, apiVersion: 'clusterless.dev/v1alpha1' };
    const note = 'The delete-cluster workflow gave up: boom';
    await recorder.record({ regarding, type: 'Warning', reason: EventReason.WorkflowFailed, action: 'GiveUp', note, workflow: 'delete-cluster' });
    w.clock.advance(30);
    await recorder.record({ regarding, type: 'Warning', reason: EventReason.WorkflowFailed, action: 'GiveUp', note, workflow: 'delete-cluster' });
    // Another object's event, and one of an older cluster of the same name, are not the cluster's.
    await recorder.record({
      regarding: { ...regarding, name: 'other' },
      type: 'Normal',
      reason: EventReason.Remediated,
      action: 'Remediate',
      note: 'x',
      workflow: 'remediate',
    });
    await recorder.record({
      regarding: { ...regarding, uid: 'old' },
      type: 'Normal',
      reason: EventReason.Remediated,
      action: 'Remediate',
      note: 'y',
      workflow: 'remediate',
    });
    w.clock.advance(10);
    const r = await w.run(['describe', 'cluster', 'demo']);
    expect(r.code).toBe(0);
    const events = r.stdout.slice(r.stdout.indexOf('\nEvents:\n') + 1).split('\n');
    expect(events[0]).toBe('Events:');
    expect(events[1]).toMatch(/^ {2}Type\s+Reason\s+Age\s+From\s+Message$/);
    expect(events[3]).toMatch(
      /^ {2}Warning\s+WorkflowFailed\s+10s \(x2 over 40s\)\s+clusterless\.dev\/delete-cluster\s+The delete-cluster workflow gave up: boom$/,
    );
    expect(events.slice(4).filter(Boolean)).toEqual([]);
  });

  it('fails with one line for a cluster that does not exist', async () => {
    const r = await w.run(['describe', 'cluster', 'nope']);
    expect(r).toMatchObject({ code: 1, stderr: 'error: clusters.clusterless.dev "nope" not found\n' });
  });

  it('only describes clusters (exit 2 otherwise)', async () => {
    expect((await w.run(['describe', 'machine', 'x'])).code).toBe(2);
  });
});

describe('scale, delete', () => {
  beforeEach(applyDemo);

  it('scales a machinedeployment by a merge patch of spec.replicas', async () => {
    const r = await w.run(['scale', 'machinedeployment', 'demo-md-0', '--replicas', '5']);
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'machinedeployment.clusterless.dev/demo-md-0 scaled\n' });
    const req = w.requests.at(-1)!;
    expect([req.method, req.headers['content-type'], JSON.parse(req.body!)]).toEqual(['PATCH', 'application/merge-patch+json', { spec: { replicas: 5 } }]);
    expect((await w.api('GET', path('machinedeployments', 'demo-md-0'))).json.spec.replicas).toBe(5);
  });

  it('passes on the API refusal of an even control plane, naming the field', async () => {
    const r = await w.run(['scale', 'cp', 'demo-control-plane', '--replicas', '4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: ControlPlane.clusterless.dev "demo-control-plane" is invalid: spec.replicas: .*odd number.*\n$/);
  });

  it.each([
    { argv: ['scale', 'cluster', 'demo', '--replicas', '2'], err: /clusters do not support this command/ },
    { argv: ['scale', 'md', 'demo-md-0', '--replicas', 'many'], err: /--replicas must be an integer/ },
    { argv: ['scale', 'md', 'demo-md-0'], err: /required option '--replicas <n>' not specified/ },
  ])('refuses $argv as usage (exit 2)', async ({ argv, err }) => {
    const r = await w.run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(err);
  });

  it('deletes an object without finalizers at once', async () => {
    const r = await w.run(['delete', 'machineclass', 'demo', '--wait']);
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'machineclass.clusterless.dev "demo" deleted\n' });
    expect((await w.api('GET', path('machineclasses', 'demo'))).status).toBe(404);
  });

  it('with --wait, returns only when teardown has removed the object', async () => {
    let polls = 0;
    w.onSleep = async () => {
      if (++polls === 3) await w.api('PATCH', path('machinedeployments', 'demo-md-0'), { metadata: { finalizers: null } });
    };
    const r = await w.run(['delete', 'md', 'demo-md-0', '--wait', '--interval', '2s']);
    expect(r.code).toBe(0);
    expect(polls).toBe(3);
    expect((await w.api('GET', path('machinedeployments', 'demo-md-0'))).status).toBe(404);
  });

  it('with --wait --timeout, fails when teardown takes longer', async () => {
    const r = await w.run(['delete', 'md', 'demo-md-0', '--wait', '--timeout', '5s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: timed out after 5s waiting for machinedeployment "demo-md-0" to be removed (its teardown is still running)\n');
  });

  it('fails on a missing object unless --ignore-not-found', async () => {
    expect((await w.run(['delete', 'cluster', 'nope'])).code).toBe(1);
    expect((await w.run(['delete', 'cluster', 'nope', '--ignore-not-found'])).code).toBe(0);
  });
});

describe('rollout', () => {
  let md: any;
  beforeEach(async () => {
    await applyDemo();
    md = (await w.api('GET', path('machinedeployments', 'demo-md-0'))).json;
  });

  const setStatus = (status: Record<string, unknown>) => w.api('PATCH', path('machinedeployments', 'demo-md-0', 'status'), { status });

  it('status: prints kubectl progress lines off a terminal until the rollout is done', async () => {
    let polls = 0;
    w.onSleep = async () => {
      polls++;
      if (polls === 1) await setStatus({ observedGeneration: md.metadata.generation, replicas: 4, updatedReplicas: 1, availableReplicas: 3 });
      if (polls === 2) await setStatus({ replicas: 4, updatedReplicas: 3, availableReplicas: 3 });
      if (polls === 3) await setStatus({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    };
    const r = await w.run(['rollout', 'status', 'md', 'demo-md-0']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'Waiting for machinedeployment "demo-md-0" spec update to be observed...',
        'Waiting for machinedeployment "demo-md-0" rollout to finish: 1 out of 3 new replicas have been updated...',
        'Waiting for machinedeployment "demo-md-0" rollout to finish: 1 old replicas are pending termination...',
        'machinedeployment "demo-md-0" successfully rolled out',
        '',
      ].join('\n'),
    });
  });

  it('status: on a terminal, redraws a progress bar with the elapsed time in place', async () => {
    let polls = 0;
    w.onSleep = async () => {
      if (++polls === 2) await setStatus({ observedGeneration: md.metadata.generation, replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    };
    await setStatus({ observedGeneration: md.metadata.generation, replicas: 3, updatedReplicas: 1, availableReplicas: 1 });
    const r = await w.run(['rollout', 'status', 'md', 'demo-md-0', '--interval', '5s'], { tty: true });
    expect(r.code).toBe(0);
    const frames = r.stdout.split('\r\u001b[2K').filter(Boolean);
    expect(frames.length).toBe(3);
    expect(frames[0]).toMatch(/^\[.*\] 1\/3 updated, 1\/3 available  .*0s.*  1 out of 3 new replicas have been updated$/);
    expect(frames[1]).toMatch(/\] 1\/3 updated, 1\/3 available  .*5s/);
    expect(frames[2]).toMatch(/✔.* machinedeployment "demo-md-0" successfully rolled out \(10s\)\n$/);
  });

  it('status: exits 1 with one line when --timeout passes', async () => {
    const r = await w.run(['rollout', 'status', 'md', 'demo-md-0', '--timeout', '3s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: timed out after 3s waiting for machinedeployment "demo-md-0" to roll out: the latest spec is not yet observed\n');
  });

  it('pause and resume patch spec.paused, and say so when there is nothing to do', async () => {
    expect((await w.run(['rollout', 'pause', 'md', 'demo-md-0'])).stdout).toBe('machinedeployment.clusterless.dev/demo-md-0 paused\n');
    expect((await w.api('GET', path('machinedeployments', 'demo-md-0'))).json.spec.paused).toBe(true);
    expect((await w.run(['rollout', 'pause', 'md', 'demo-md-0'])).stdout).toBe('machinedeployment.clusterless.dev/demo-md-0 already paused\n');
    expect((await w.run(['rollout', 'resume', 'md', 'demo-md-0'])).stdout).toBe('machinedeployment.clusterless.dev/demo-md-0 resumed\n');
    expect((await w.api('GET', path('machinedeployments', 'demo-md-0'))).json.spec.paused).toBe(false);
  });

  it('history lists the revisions from the owned MachineSets; undo goes back to the previous one', async () => {
    await w.create(machineSet(md, 1, 'v1.31.2', 'aaaa'));
    await w.create(machineSet(md, 2, 'v1.31.3', 'bbbb', 3));
    await w.api('PATCH', path('machinedeployments', 'demo-md-0'), { spec: { template: { spec: { version: 'v1.31.3' } } } });

    const history = await w.run(['rollout', 'history', 'md', 'demo-md-0']);
    expect(history.stdout).toBe(
      [
        'machinedeployment.clusterless.dev/demo-md-0',
        'REVISION   MACHINESET       VERSION   MACHINECLASS   REPLICAS   CHANGE',
        '1          demo-md-0-aaaa   v1.31.2   demo           0          initial',
        '2          demo-md-0-bbbb   v1.31.3   demo           3          version v1.31.2 -> v1.31.3',
        '',
      ].join('\n'),
    );

    const undo = await w.run(['rollout', 'undo', 'md', 'demo-md-0']);
    expect(undo).toEqual({ code: 0, stderr: '', stdout: 'machinedeployment.clusterless.dev/demo-md-0 rolled back\n' });
    const rb = w.requests.find((r) => r.path.endsWith('/rollback'))!;
    expect([rb.method, JSON.parse(rb.body!)]).toEqual(['POST', { toRevision: 0 }]);
    expect((await w.api('GET', path('machinedeployments', 'demo-md-0'))).json.spec.template.spec.version).toBe('v1.31.2');

    const again = await w.run(['rollout', 'undo', 'md', 'demo-md-0', '--to-revision', '1']);
    expect(again.stdout).toMatch(/skipped rollback \(current template already matches revision 1\)/);

    const shown = await w.run(['rollout', 'history', 'md', 'demo-md-0', '--revision', '2']);
    expect(shown.stdout).toContain('version: v1.31.3');
  });

  it('undo to an unknown revision fails with the API reason', async () => {
    const r = await w.run(['rollout', 'undo', 'md', 'demo-md-0', '--to-revision', '7']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*toRevision: unable to find revision 7/);
  });
});

describe('host endpoints: mirror, sim kill, cost', () => {
  it.each([
    { argv: ['mirror', 'status'], what: /does not serve the mirror \(GET \/clusterless\/v1\/mirror answered 404\)/ },
    { argv: ['cost'], what: /does not serve cost reports \(GET \/clusterless\/v1\/cost answered 404\)/ },
    {
      argv: ['sim', 'kill', 'm1'],
      what: /does not serve the simulator .*\(POST \/clusterless\/v1\/sim\/namespaces\/default\/machines\/m1\/kill answered 404\)/,
    },
  ])('$argv: one clear line when the server lacks the endpoint', async ({ argv, what }) => {
    const r = await w.run(argv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(what);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('mirror set PUTs the kubeconfig and context, and prints what the server says', async () => {
    w.intercept = (req) => (req.path === '/clusterless/v1/mirror' ? Response.json({ state: 'Syncing', server: 'https://k8s:6443' }) : undefined);
    const r = await w.run(['mirror', 'set', '--kubeconfig', 'kc.yaml', '--context', 'mgmt'], { files: { 'kc.yaml': 'apiVersion: v1\nkind: Config\n' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('mirror target set (context mgmt)\nstate:   Syncing\nserver:  https://k8s:6443\n');
    const req = w.requests.at(-1)!;
    expect([req.method, JSON.parse(req.body!)]).toEqual(['PUT', { kubeconfig: 'apiVersion: v1\nkind: Config\n', context: 'mgmt' }]);
  });

  it('sim kill POSTs to the machine kill endpoint; a missing machine is the API message', async () => {
    w.intercept = (req) =>
      req.path.endsWith('/machines/m1/kill')
        ? Response.json({ kind: 'Machine' })
        : req.path.endsWith('/kill')
          ? Response.json(
              { kind: 'Status', code: 404, reason: 'NotFound', message: 'machines.clusterless.dev "m2" not found', details: { name: 'm2', kind: 'machines' } },
              { status: 404 },
            )
          : undefined;
    const ok = await w.run(['sim', 'kill', 'm1', '-n', 'team-a']);
    expect(ok).toEqual({ code: 0, stderr: '', stdout: 'machine.clusterless.dev/m1 killed\n' });
    expect(w.requests.at(-1)).toMatchObject({ method: 'POST', path: '/clusterless/v1/sim/namespaces/team-a/machines/m1/kill' });
    const missing = await w.run(['sim', 'kill', 'm2']);
    expect(missing).toMatchObject({ code: 1, stderr: 'error: machines.clusterless.dev "m2" not found\n' });
  });

  it('cost prints the items as a table and the totals below', async () => {
    w.intercept = () =>
      Response.json({
        currency: 'USD',
        items: [
          { namespace: 'default', cluster: 'demo', machines: 6, hourly: 0.62 },
          { namespace: 'default', cluster: 'big', machines: 40, hourly: 4.1 },
        ],
        totalHourly: 4.72,
      });
    const r = await w.run(['cost']);
    expect(r.stdout).toBe(
      [
        'NAMESPACE   CLUSTER   MACHINES   HOURLY',
        'default     demo      6          0.62',
        'default     big       40         4.1',
        'currency:     USD',
        'totalHourly:  4.72',
        '',
      ].join('\n'),
    );
  });
});

describe('up', () => {
  it('starts the embedded host with the flags, serves until SIGTERM, then closes it', async () => {
    const calls: unknown[] = [];
    let closed = false;
    const module = {
      startEmbeddedHost: async (options: Record<string, unknown>) => {
        calls.push({ ...options, log: typeof options['log'] });
        (options['log'] as (l: string) => void)('demo: applying examples/');
        return { url: 'http://127.0.0.1:9999', close: async () => void (closed = true) };
      },
    };
    const running = w.run(
      [
        'up',
        '--port',
        '0',
        '--data-dir',
        '/tmp/x',
        '--provider',
        'aws',
        '--nodes',
        'sim',
        '--kms-key-id',
        'alias/clusterless',
        '--time-scale',
        '20',
        '--demo',
        '--token',
        's3cret',
        '--max-replicas',
        '50',
      ],
      {
        importModule: async (spec) => {
          expect(spec).toBe('../local/embedded-host.js');
          return module;
        },
      },
    );
    while (w.interrupts.size === 0) await new Promise((r) => setImmediate(r));
    for (const h of [...w.interrupts]) h('SIGTERM');
    const r = await running;
    expect(r.code).toBe(0);
    expect(calls).toEqual([
      {
        port: 0,
        dataDir: '/tmp/x',
        provider: 'aws',
        nodes: 'sim',
        kmsKeyId: 'alias/clusterless',
        timeScale: 20,
        token: 's3cret',
        demo: true,
        maxMachineDeploymentReplicas: 50,
        log: 'function',
      },
    ]);
    expect(closed).toBe(true);
    expect(r.stdout).toBe(
      'demo: applying examples/\nclusterless API listening on http://127.0.0.1:9999 (data in /tmp/x, provider aws)\ndashboard: http://127.0.0.1:9999/ (it asks for the token once)\nclusterless: SIGTERM, shutting down\nclusterless: stopped\n',
    );
  });

  it("starts the host with its own defaults when no flag is given: no replica limit of the CLI's making", async () => {
    const calls: Record<string, unknown>[] = [];
    const module = {
      startEmbeddedHost: async (options: Record<string, unknown>) => {
        calls.push({ ...options, log: typeof options['log'] });
        return { url: 'http://127.0.0.1:8080', close: async () => {} };
      },
    };
    const running = w.run(['up'], { importModule: async () => module });
    while (w.interrupts.size === 0) await new Promise((r) => setImmediate(r));
    for (const h of [...w.interrupts]) h('SIGTERM');
    expect((await running).code).toBe(0);
    expect(calls).toEqual([{ port: 8080, dataDir: '.clusterless', provider: 'sim', timeScale: 1, log: 'function' }]);
    const help = await w.run(['up', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(`through the API (default: ${DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS})`);
  });

  it('says in one line that the host is missing from this build', async () => {
    const r = await w.run(['up']);
    expect(r).toMatchObject({ code: 1, stderr: 'error: the embedded host (local/embedded-host.ts) is not part of this build\n' });
  });

  it('shows a missing import inside the host as the error it is', async () => {
    const r = await w.run(['up'], {
      importModule: async () => {
        throw Object.assign(new Error("Cannot find module '/repo/local/sweep.js' imported from /repo/local/embedded-host.ts"), {
          code: 'ERR_MODULE_NOT_FOUND',
        });
      },
    });
    expect(r).toMatchObject({ code: 1, stderr: "error: Cannot find module '/repo/local/sweep.js' imported from /repo/local/embedded-host.ts\n" });
  });

  it.each([
    { argv: ['up', '--port', '70000'], err: /--port must be a port number/ },
    { argv: ['up', '--time-scale', '0'], err: /--time-scale must be a number > 0/ },
    { argv: ['up', '--provider', 'gcp'], err: /argument 'gcp' is invalid/ },
    { argv: ['up', '--max-replicas', '0'], err: /--max-replicas must be a whole number from 1 to 2147483647/ },
    { argv: ['up', '--kms-key-id', 'alias/clusterless'], err: /--kms-key-id is for the kubeadm bootstrap of EC2 machines: give it with --provider aws/ },
  ])('refuses $argv as usage (exit 2)', async ({ argv, err }) => {
    const r = await w.run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(err);
  });
});

describe('global options and exit codes', () => {
  it('sends --token, or CLUSTERLESS_TOKEN, as a bearer token', async () => {
    await w.run(['get', 'clusters', '--token', 'abc']);
    expect(w.requests.at(-1)!.headers['authorization']).toBe('Bearer abc');
    await w.run(['get', 'clusters'], { env: { CLUSTERLESS_TOKEN: 'xyz' } });
    expect(w.requests.at(-1)!.headers['authorization']).toBe('Bearer xyz');
  });

  it('signs requests to an https server with SigV4 when credentials are found', async () => {
    w.intercept = () => Response.json({ items: [] });
    const deps = { credentials: () => async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }) };
    await w.run(['get', 'clusters', '--server', 'https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod'], { deps });
    const req = w.requests.at(-1)!;
    expect(req.path).toBe('/prod/apis/clusterless.dev/v1alpha1/namespaces/default/clusters');
    expect(req.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/ap-southeast-2\/execute-api\/aws4_request, /);
  });

  it('does not sign plain http, nor when a token is given', async () => {
    const deps = { credentials: () => async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }) };
    await w.run(['get', 'clusters'], { deps });
    expect(w.requests.at(-1)!.headers['authorization']).toBeUndefined();
    w.intercept = () => Response.json({ items: [] });
    await w.run(['get', 'clusters', '--server', 'https://api.example.com', '--token', 't'], { deps, env: { AWS_REGION: 'us-east-1' } });
    expect(w.requests.at(-1)!.headers['authorization']).toBe('Bearer t');
  });

  it('without credentials, sends unsigned and says why when API Gateway refuses', async () => {
    w.intercept = () => Response.json({ message: 'Missing Authentication Token' }, { status: 403 });
    const deps = { credentials: () => async () => Promise.reject(new Error('Could not load credentials from any providers')) };
    const r = await w.run(['get', 'clusters', '--server', 'https://abc123.execute-api.us-east-1.amazonaws.com/prod'], { deps });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: Missing Authentication Token (HTTP 403 from GET /prod/apis/clusterless.dev/v1alpha1/namespaces/default/clusters); no AWS credentials were found to sign the request\n',
    );
  });

  it('exits 3 with one line when the server cannot be reached', async () => {
    w.intercept = () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));
    const r = await w.run(['get', 'clusters']);
    expect(r).toEqual({ code: 3, stdout: '', stderr: 'error: cannot reach the clusterless API at http://api.test: ECONNREFUSED\n' });
  });

  it('exits 2 with one error line for an unknown option or command', async () => {
    for (const argv of [['get', 'clusters', '--bogus'], ['frobnicate']]) {
      const r = await w.run(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: unknown (option '--bogus'|command 'frobnicate')\n$/);
    }
  });

  it('documents the exit codes and the environment in --help, and exits 0', async () => {
    const r = await w.run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes:\n  0  success\n  1  the API refused the request, or the operation failed or timed out\n  2  usage error');
    expect(r.stdout).toContain('3  the server could not be reached');
    expect(r.stdout).toContain('NO_COLOR');
    expect(r.stdout).toContain('CLUSTERLESS_SERVER');
  });

  it('refuses a server that is not an http URL (exit 2), but only for commands that need one', async () => {
    for (const server of ['localhost:8080', 'not a url']) {
      const r = await w.run(['get', 'clusters', '--server', server]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: --server must be an http or https URL/);
    }
    expect((await w.run(['generate', 'cluster', 'x', '--kubernetes-version', 'v1.31.2', '--server', 'nonsense'])).code).toBe(0);
  });
});
