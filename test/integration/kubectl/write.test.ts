/**
 * The real kubectl writing through clusterless (the embedded host) and through kube-apiserver serving the
 * project's CRDs, the same commands against both: apply (client- and server-side), diff, create, the server dry
 * runs, replace, patch (merge and JSON), label, annotate, scale and delete. Each test runs a command on both and
 * compares what kubectl says (volatile parts normalised) and what is stored afterwards.
 *
 * kubectl validates as it does by default (`--validate=strict`): it reads each server's OpenAPI v3 and, as both
 * advertise fieldValidation, leaves the check to the server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import {
  MACHINE_CLASS_MANIFEST as MACHINE_CLASS,
  alike,
  fieldOnBoth as fieldOf,
  type KubectlTarget,
  kubectlOk,
  machineDeploymentManifest as md,
  onBoth as onTargets,
  kubectlTarget,
  waitOnBoth,
} from '../../support/kubectl.js';

const VALIDATE = '--validate=strict';

let kube: RunningKube;
let host: EmbeddedHost;
let dir: string;
let targets: [KubectlTarget, KubectlTarget];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clusterless-kubectl-write-'));
  const [k, h] = await Promise.all([
    startKube().then(async (started) => {
      await started.installCrds();
      return started;
    }),
    startEmbeddedHost({ port: 0, dataDir: join(dir, 'data'), sweepSeconds: 3600, log: () => {} }),
  ]);
  kube = k;
  host = h;
  const kubeconfig = join(dir, 'host.kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: host, cluster: {server: "${host.url}"}}]`,
      'users: [{name: local, user: {}}]',
      'contexts: [{name: host, context: {cluster: host, user: local, namespace: default}}]',
      'current-context: host',
      '',
    ].join('\n'),
  );
  targets = [
    kubectlTarget('clusterless', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')]),
    kubectlTarget('kube-apiserver', ['--kubeconfig', kube.adminKubeconfig, '--cache-dir', join(dir, 'kube-cache')]),
  ];
  for (const t of targets) await ok(t, ['create', VALIDATE, '-f', '-'], MACHINE_CLASS);
}, 180_000);

afterAll(async () => {
  await host?.close();
  await kube?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ok = (t: KubectlTarget, args: readonly string[], input?: string) => kubectlOk(t, args, input);
const onBoth = (args: readonly string[], input?: string) => onTargets(targets, args, input);
const fieldOnBoth = (name: string, jsonPath: string) => fieldOf(targets, 'machinedeployment', name, jsonPath);

/** Creates a MachineDeployment on both servers, for a test of its own. */
async function given(name: string, replicas = 2): Promise<void> {
  alike(await onBoth(['create', VALIDATE, '-f', '-'], md(name, replicas)));
}

describe('kubectl writes, against clusterless and kube-apiserver alike', () => {
  it('create, then create again (AlreadyExists)', async () => {
    expect(alike(await onBoth(['create', VALIDATE, '-f', '-'], md('created'))).stdout).toBe('machinedeployment.clusterless.dev/created created\n');
    const again = alike(await onBoth(['create', VALIDATE, '-f', '-'], md('created')));
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('Error from server (AlreadyExists): error when creating "STDIN": machinedeployments.clusterless.dev "created" already exists\n');
  });

  it('create --dry-run=server answers "created (server dry run)" and creates nothing', async () => {
    const dry = alike(await onBoth(['create', VALIDATE, '--dry-run=server', '-f', '-'], md('dry-created')));
    expect(dry.stdout).toBe('machinedeployment.clusterless.dev/dry-created created (server dry run)\n');
    const get = alike(await onBoth(['get', 'machinedeployment', 'dry-created']));
    expect(get.code).toBe(1);
    expect(get.stderr).toBe('Error from server (NotFound): machinedeployments.clusterless.dev "dry-created" not found\n');
  });

  it('create --dry-run=server of an invalid object is refused as the real create is', async () => {
    const [ours, theirs] = await onBoth(['create', VALIDATE, '--dry-run=server', '-f', '-'], md('dry-invalid', -1));
    expect([ours.code, theirs.code]).toEqual([1, 1]);
    for (const r of [ours, theirs]) expect(r.stderr).toMatch(/^The MachineDeployment "dry-invalid" is invalid: [\s\S]*spec\.replicas: Invalid value: -1/);
  });

  it('apply (client-side) creates, configures and finds nothing to change; an invalid manifest is refused naming the field', async () => {
    expect(alike(await onBoth(['apply', VALIDATE, '-f', '-'], md('applied'))).stdout).toBe('machinedeployment.clusterless.dev/applied created\n');
    expect(alike(await onBoth(['apply', VALIDATE, '-f', '-'], md('applied', 3))).stdout).toBe('machinedeployment.clusterless.dev/applied configured\n');
    expect(alike(await onBoth(['apply', VALIDATE, '-f', '-'], md('applied', 3))).stdout).toBe('machinedeployment.clusterless.dev/applied unchanged\n');
    expect(await fieldOnBoth('applied', '{.spec.replicas}')).toEqual(['3', '3']);
    const [ours, theirs] = await onBoth(['apply', VALIDATE, '-f', '-'], md('applied', -1));
    expect([ours.code, theirs.code]).toEqual([1, 1]);
    for (const r of [ours, theirs]) expect(r.stderr).toMatch(/The MachineDeployment "applied" is invalid: [\s\S]*spec\.replicas: Invalid value: -1/);
    expect(await fieldOnBoth('applied', '{.spec.replicas}')).toEqual(['3', '3']);
  });

  it('apply --server-side creates and updates', async () => {
    expect(alike(await onBoth(['apply', '--server-side', VALIDATE, '-f', '-'], md('ssa'))).stdout).toBe(
      'machinedeployment.clusterless.dev/ssa serverside-applied\n',
    );
    expect(alike(await onBoth(['apply', '--server-side', VALIDATE, '-f', '-'], md('ssa', 4))).stdout).toBe(
      'machinedeployment.clusterless.dev/ssa serverside-applied\n',
    );
    expect(await fieldOnBoth('ssa', '{.spec.replicas}')).toEqual(['4', '4']);
  });

  it.each([
    { name: 'diff', args: ['diff', '-f', '-'] },
    // --force-conflicts: kube-apiserver's managed fields give spec.replicas to kubectl-create, which made the object;
    // clusterless records no managers, so it has no conflict to force.
    { name: 'diff --server-side', args: ['diff', '--server-side', '--force-conflicts', '-f', '-'] },
  ])('$name exits 1 with the change as a diff, and writes nothing', async ({ args }) => {
    const object = `diffed-${args.length}`;
    await given(object);
    const [before] = await fieldOnBoth(object, '{.metadata.resourceVersion}');
    const [ours, theirs] = await onBoth(args, md(object, 5));
    expect([ours.code, theirs.code]).toEqual([1, 1]);
    for (const r of [ours, theirs]) {
      expect(r.stdout).toMatch(/^-  replicas: 2$/m);
      expect(r.stdout).toMatch(/^\+  replicas: 5$/m);
      expect(r.stdout).toMatch(/^-  generation: 1$/m);
      expect(r.stdout).toMatch(/^\+  generation: 2$/m);
    }
    expect(await fieldOnBoth(object, '{.spec.replicas}')).toEqual(['2', '2']);
    expect((await fieldOnBoth(object, '{.metadata.resourceVersion}'))[0]).toBe(before);
  });

  it('apply, patch and replace with --dry-run=server answer the change and write nothing', async () => {
    await given('dry-updated');
    const [before] = await fieldOnBoth('dry-updated', '{.metadata.resourceVersion}');
    expect(alike(await onBoth(['apply', VALIDATE, '--dry-run=server', '-f', '-'], md('dry-updated', 7))).stdout).toBe(
      'machinedeployment.clusterless.dev/dry-updated configured (server dry run)\n',
    );
    expect(
      alike(await onBoth(['patch', 'machinedeployment', 'dry-updated', '--dry-run=server', '--type', 'merge', '-p', '{"spec":{"replicas":7}}'])).stdout,
    ).toBe('machinedeployment.clusterless.dev/dry-updated patched\n'); // kubectl's words: patch names no dry run
    expect(alike(await onBoth(['replace', VALIDATE, '--dry-run=server', '-f', '-'], md('dry-updated', 7))).stdout).toBe(
      'machinedeployment.clusterless.dev/dry-updated replaced (server dry run)\n',
    );
    expect(await fieldOnBoth('dry-updated', '{.spec.replicas}')).toEqual(['2', '2']);
    expect((await fieldOnBoth('dry-updated', '{.metadata.resourceVersion}'))[0]).toBe(before);
  });

  it('replace', async () => {
    await given('replaced');
    expect(alike(await onBoth(['replace', VALIDATE, '-f', '-'], md('replaced', 6))).stdout).toBe('machinedeployment.clusterless.dev/replaced replaced\n');
    expect(await fieldOnBoth('replaced', '{.spec.replicas}')).toEqual(['6', '6']);
  });

  it('patch --type merge, and again with no change', async () => {
    await given('merged');
    const patch = ['patch', 'machinedeployment', 'merged', '--type', 'merge', '-p', '{"spec":{"replicas":4}}'];
    expect(alike(await onBoth(patch)).stdout).toBe('machinedeployment.clusterless.dev/merged patched\n');
    expect(alike(await onBoth(patch)).stdout).toBe('machinedeployment.clusterless.dev/merged patched (no change)\n');
    expect(await fieldOnBoth('merged', '{.spec.replicas}')).toEqual(['4', '4']);
  });

  it('patch --type json, with an escaped pointer; a failed test op is refused and changes nothing', async () => {
    await given('json');
    const patch = JSON.stringify([
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/metadata/labels', value: {} },
      { op: 'add', path: '/metadata/labels/example.com~1team', value: 'a' },
    ]);
    expect(alike(await onBoth(['patch', 'machinedeployment', 'json', '--type', 'json', '-p', patch])).stdout).toBe(
      'machinedeployment.clusterless.dev/json patched\n',
    );
    expect(await fieldOnBoth('json', '{.spec.replicas} {.metadata.labels.example\\.com/team}')).toEqual(['3 a', '3 a']);

    const failing = JSON.stringify([
      { op: 'replace', path: '/spec/replicas', value: 8 },
      { op: 'test', path: '/spec/replicas', value: 2 },
    ]);
    const [ours, theirs] = await onBoth(['patch', 'machinedeployment', 'json', '--type', 'json', '-p', failing]);
    expect([ours.code, theirs.code]).toEqual([1, 1]);
    // Both answer 422 with kube-apiserver's words; clusterless adds a cause naming the operation, which kubectl prints.
    expect(theirs.stderr).toBe('The request is invalid: the server rejected our request due to an error in our request\n');
    expect(ours.stderr).toBe('The request is invalid: [1] /spec/replicas: testing value /spec/replicas failed: test failed\n');
    expect(await fieldOnBoth('json', '{.spec.replicas}')).toEqual(['3', '3']);
  });

  it('patch --type strategic is refused with 415 naming the supported types', async () => {
    await given('strategic');
    const [ours, theirs] = await onBoth(['patch', 'machinedeployment', 'strategic', '--type', 'strategic', '-p', '{"spec":{"replicas":3}}']);
    expect([ours.code, theirs.code]).toEqual([1, 1]);
    for (const r of [ours, theirs]) expect(r.stderr).toMatch(/UnsupportedMediaType|unknown format/);
    expect(ours.stderr).toContain('application/json-patch+json, application/merge-patch+json');
    expect(await fieldOnBoth('strategic', '{.spec.replicas}')).toEqual(['2', '2']);
  });

  it('label and annotate, and again with the same value', async () => {
    await given('labelled');
    expect(alike(await onBoth(['label', 'machinedeployment', 'labelled', 'team=a'])).stdout).toBe('machinedeployment.clusterless.dev/labelled labeled\n');
    expect(alike(await onBoth(['label', 'machinedeployment', 'labelled', 'team=a', '--overwrite'])).stdout).toBe(
      'machinedeployment.clusterless.dev/labelled not labeled\n',
    );
    expect(alike(await onBoth(['annotate', 'machinedeployment', 'labelled', 'note=x'])).stdout).toBe('machinedeployment.clusterless.dev/labelled annotated\n');
    expect(await fieldOnBoth('labelled', '{.metadata.labels.team} {.metadata.annotations.note}')).toEqual(['a x', 'a x']);
  });

  it('scale --replicas=N sets spec.replicas through the scale subresource; a --current-replicas that does not hold is refused', async () => {
    await given('scaled');
    expect(alike(await onBoth(['scale', 'machinedeployment', 'scaled', '--replicas=5'])).stdout).toBe('machinedeployment.clusterless.dev/scaled scaled\n');
    expect(await fieldOnBoth('scaled', '{.spec.replicas}')).toEqual(['5', '5']);
    const mismatch = alike(await onBoth(['scale', 'machinedeployment', 'scaled', '--replicas=1', '--current-replicas=9']));
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toBe('error: Expected replicas to be 9, was 5\n');
    expect(await fieldOnBoth('scaled', '{.spec.replicas}')).toEqual(['5', '5']);
    // A --current-replicas that holds: kubectl finds the scale subresource in discovery and scales.
    expect(alike(await onBoth(['scale', 'machinedeployment', 'scaled', '--replicas=2', '--current-replicas=5'])).code).toBe(0);
    expect(await fieldOnBoth('scaled', '{.spec.replicas}')).toEqual(['2', '2']);
  });

  it('the Scale reads alike: spec.replicas and status.replicas', async () => {
    await given('scale-read', 3);
    const path = '/apis/clusterless.dev/v1alpha1/namespaces/default/machinedeployments/scale-read/scale';
    const scales = [];
    for (const t of targets) {
      const s = JSON.parse(await ok(t, ['get', '--raw', path]));
      scales.push({ apiVersion: s.apiVersion, kind: s.kind, name: s.metadata.name, spec: s.spec, status: s.status });
    }
    expect(scales[0]).toEqual(scales[1]);
    expect(scales[0]).toEqual({ apiVersion: 'autoscaling/v1', kind: 'Scale', name: 'scale-read', spec: { replicas: 3 }, status: { replicas: 0 } });
  });

  it('delete --dry-run=server answers "deleted (server dry run)" and the object is still there', async () => {
    await given('kept');
    const dry = alike(await onBoth(['delete', 'machinedeployment', 'kept', '--dry-run=server']));
    expect(dry.stdout).toBe('machinedeployment.clusterless.dev "kept" deleted from default namespace (server dry run)\n');
    expect(await fieldOnBoth('kept', '{.metadata.name}|{.metadata.deletionTimestamp}')).toEqual(['kept|', 'kept|']);
  });
});

describe('kubectl wait, against clusterless and kube-apiserver alike', () => {
  it("wait --for=jsonpath='{.spec.replicas}'=5 ends when a scale makes it true", async () => {
    await given('awaited-replicas');
    const waited = alike(
      await waitOnBoth(targets, ['machinedeployment/awaited-replicas', '--for=jsonpath={.spec.replicas}=5'], (t) =>
        ok(t, ['scale', 'machinedeployment', 'awaited-replicas', '--replicas=5']),
      ),
    );
    expect(waited).toEqual({ code: 0, stdout: 'machinedeployment.clusterless.dev/awaited-replicas condition met\n', stderr: '' });
  });

  it('wait --for=condition=Ready ends when the condition is written through /status', async () => {
    await given('awaited-ready');
    const ready = JSON.stringify({
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Tested', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
    });
    const waited = alike(
      await waitOnBoth(targets, ['machinedeployment/awaited-ready', '--for=condition=Ready'], async (t) => {
        if (t === targets[1]) return ok(t, ['patch', 'machinedeployment', 'awaited-ready', '--subresource=status', '--type=merge', '-p', ready]);
        // The embedded host takes status writes from its controllers only, with the controller token (which kubectl
        // does not send over plain http).
        const res = await fetch(`${host.url}/apis/clusterless.dev/v1alpha1/namespaces/default/machinedeployments/awaited-ready/status`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${host.controllerToken}`, 'content-type': 'application/merge-patch+json' },
          body: ready,
        });
        expect(res.status).toBe(200);
      }),
    );
    expect(waited).toEqual({ code: 0, stdout: 'machinedeployment.clusterless.dev/awaited-ready condition met\n', stderr: '' });
  });

  // A MachineClass: it has no finalizer, so a delete removes it at once (a MachineDeployment's waits for its controller).
  it('wait --for=delete ends when the object is gone', async () => {
    const machineClass = MACHINE_CLASS.replace('name: small', 'name: awaited-delete');
    alike(await onBoth(['create', VALIDATE, '-f', '-'], machineClass));
    const waited = alike(
      await waitOnBoth(targets, ['machineclass/awaited-delete', '--for=delete'], (t) => ok(t, ['delete', 'machineclass', 'awaited-delete', '--wait=false'])),
    );
    expect(waited).toEqual({ code: 0, stdout: 'machineclass.clusterless.dev/awaited-delete condition met\n', stderr: '' });
  });
});
