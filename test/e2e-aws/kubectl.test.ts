/**
 * kubectl through the kubectl door of the emulated account: the synthesized template's second RestApi (HttpApi
 * kubectlApi) served by e2e/aws/api-gateway.ts, its REQUEST authorizer the real token-authorizer handler with the
 * ACCESS_ENTRIES the template gives it, and the presigned-STS of the emulated account (e2e/aws/sts.ts). The real
 * kubectl runs `node cli/bin.mjs token ...` as its exec credential plugin, with a role's emulated credentials.
 *
 * Behind the door, the in-process http handler over a DynamoDbStore on moto, streamed as its STREAM integration
 * invokes it (InvokeWithResponseStream), its watches read from the watch log the stream function writes (the table's stream polled by e2e/aws/event-sources/stream.ts); beside it, kube-apiserver
 * serving crds/.
 * The kubectl suite of the embedded host (test/integration/kubectl/) runs here through the door, the same commands on
 * both, what kubectl says compared (test/support/kubectl.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { kubectlKubeconfig } from '../../cli/commands/kubectl-kubeconfig.js';
import { API_VERSION } from '../../functions/api/common.js';
import { handleRequest } from '../../functions/api/http/index.js';
import { DynamoDbWatchLog } from '../../functions/adapters/dynamodb/watch-log.js';
import { createHandler } from '../../functions/handlers/http.js';
import type { Store } from '../../functions/ports.js';
import { createStreamHandler } from '../../functions/handlers/stream.js';
import { createAuthorizer, depsFromEnvironment } from '../../functions/handlers/token-authorizer.js';
import { ACCOUNT, type Invoke, type Json, type Principal } from '../../e2e/aws/account.js';
import { type ApiGateway, startApiGateway } from '../../e2e/aws/api-gateway.js';
import { type InvokeWithResponseStream, streamInProcess } from '../../e2e/aws/lambda-runtime.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { type StreamSource, startStreamSource } from '../../e2e/aws/event-sources/stream.js';
import { type PresignedSts, startPresignedSts } from '../../e2e/aws/sts.js';
import { Deployment } from '../../e2e/aws/template.js';
import { generateClusterCertificates, issueCertificate } from '../../functions/adapters/kubeadm/index.js';
import { emulatorDynamoDbClient, newTableStore } from '../support/dynamodb-store-factory.js';
import { enableStream, keepOnlyMappingOf, placeholderPhysicalIds } from '../support/emulated-stack.js';
import { startKube, type RunningKube } from '../support/kube.js';
import {
  MACHINE_CLASS_MANIFEST,
  alike,
  fieldOnBoth,
  type KubectlResult,
  type KubectlTarget,
  kubectlOk,
  LISTED,
  kubectlTarget,
  machineDeploymentManifest as md,
  onBoth as onTargets,
  WATCH_OPEN,
  waitOnBoth,
  withoutAges,
} from '../support/kubectl.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BASE = '/apis/clusterless.dev/v1alpha1';

let dir: string;
let source: StreamSource;
let kube: RunningKube;
let gateway: ApiGateway;
let sts: PresignedSts;
let principals: Record<'writer' | 'stranger', Principal>;
let kubectlApiId: string;
/** The door's store: what the API's routes write, here written without a door command (the status route). */
let doorStore: Store;
/** The CA of the emulated execute-api's serving certificate. */
let caPem: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-door-'));
  // kube-apiserver starts (a few seconds) while the app synthesizes.
  const kubeStarted = startKube().then(async (k) => {
    await k.installCrds();
    await k.kubectlOk(['create', 'namespace', 'team-a']);
    return k;
  });
  const assembly = synthesize(join(dir, 'assembly'), { bundle: false });
  // Of the table stream's consumers, the stream function only: it writes the watch log.
  const streamFn = Object.entries(assembly.template.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('streamhandler'))![0];
  keepOnlyMappingOf(assembly.template, streamFn);
  const deployment = new Deployment(assembly.stackName, assembly.template, assembly.directory);
  const dynamodb = emulatorDynamoDbClient(motoEndpoint());
  const { store, tableName } = await newTableStore(dynamodb);
  doorStore = store;
  const streamArn = await enableStream(dynamodb, tableName);
  deployment.setPhysical(deployment.ofType('AWS::DynamoDB::Table')[0]!, {
    ref: tableName,
    attributes: { Arn: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${tableName}`, StreamArn: streamArn },
  });
  placeholderPhysicalIds(deployment, ACCOUNT);
  // Settled after 1 s rather than 4: the emulated stream delivers within a few hundred milliseconds.
  const log = new DynamoDbWatchLog({ client: dynamodb, tableName, settleMs: 1000, pollMs: 200 });
  const stream = createStreamHandler({ workflows: { start: async () => ({ started: true }) }, watchLog: log });
  source = await startStreamSource({
    deployment,
    endpoint: motoEndpoint(),
    invoke: async (_fn, event) => ({ ok: true, payload: (await stream(event as never)) as unknown as Json }),
    // The stream role's policies are test/e2e-aws/watch.test.ts's concern.
    authorize: async () => {},
    pollMs: 20,
    timeScale: 10,
  });
  expect(source.mappings).toHaveLength(1);
  const functionOf = (prefix: string) => deployment.ofType('AWS::Lambda::Function').find((id) => id.startsWith(prefix))!;
  const http = functionOf('httphandler');
  const authorizerFn = functionOf('tokenauthorizerhandler');
  const kubectlApi = deployment.ofType('AWS::ApiGateway::RestApi').find((id) => id.includes('Kubectl'))!;
  kubectlApiId = String(deployment.resolve({ Ref: kubectlApi }));
  const role = (id: string, key: string): Principal => ({
    name: id,
    arn: `arn:aws:iam::${ACCOUNT}:role/${id}`,
    policies: [],
    credentials: { accessKeyId: key, secretAccessKey: `${id}-secret`, sessionToken: `${id}-session` },
  });
  // The stranger is the http function's own role: a principal of the account STS vouches for, granted nothing.
  principals = {
    writer: role(assembly.callerRoles.TeamAWriter, 'ASIAE2ETEAMAWRITER01'),
    stranger: role(deployment.roleOfFunction(http), 'ASIAE2EHTTPFUNCTION1'),
  };
  sts = await startPresignedSts({ principals: () => Object.values(principals) });

  for (const namespace of ['team-a', 'team-b']) {
    const created = await handleRequest(
      {
        method: 'POST',
        path: `${BASE}/namespaces/${namespace}/clusters`,
        query: {},
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: `${namespace}-prod`, namespace }, spec: {} }),
      },
      { store },
    );
    expect(created.status).toBe(201);
  }
  const environment = (deployment.resolve((deployment.resource(authorizerFn).Properties!['Environment'] as { Variables: Json }).Variables) ?? {}) as Record<
    string,
    string
  >;
  // The one variable the emulated account adds, which the stack never sets: its STS is an http origin.
  const authorize = createAuthorizer(depsFromEnvironment({ ...environment, CLUSTERLESS_TEST_STS_ENDPOINT: sts.endpoint }));
  const serve = createHandler({ store, changes: log });
  const invoke: Invoke = async (fn, event) => {
    try {
      if (fn === authorizerFn) return { ok: true, payload: await authorize(event as never) };
      return { ok: false, errorType: 'Error', errorMessage: `no function ${fn} here` };
    } catch (err) {
      return { ok: false, errorType: (err as Error).name, errorMessage: (err as Error).message };
    }
  };
  // kubectl runs exec plugins for https servers only: the emulated execute-api serves TLS, as the real one does.
  const { ca } = await generateClusterCertificates(new Date(), 'ecdsa-p256');
  caPem = ca.cert;
  const tls = await issueCertificate(
    ca,
    { subject: { commonName: 'execute-api' }, extendedKeyUsages: ['serverAuth'], ipAddresses: ['127.0.0.1'] },
    new Date(),
    3600,
  );
  const invokeWithResponseStream: InvokeWithResponseStream = (fn, event, onChunk, signal) =>
    fn === http ? streamInProcess(serve, event, onChunk, signal) : Promise.resolve({ ok: false, errorType: 'Error', errorMessage: `no function ${fn} here` });
  gateway = await startApiGateway({ deployment, invoke, invokeWithResponseStream, principals: () => [], authorize: async () => {}, restApi: kubectlApi, tls });
  kube = await kubeStarted;
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await sts?.stop();
  await kube?.stop();
  await source?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The real kubectl with a kubeconfig whose user runs `node cli/bin.mjs token`, as `principal`. */
function door(principal: Principal, options: { apiId?: string; namespace?: string } = {}): KubectlTarget {
  const kubeconfig = join(dir, `${principal.name}-${options.apiId ?? 'own'}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    kubectlKubeconfig({
      server: gateway.url,
      certificateAuthority: caPem,
      command: [process.execPath, join(ROOT, 'cli', 'bin.mjs'), 'token', '--server', gateway.url, '--api-id', options.apiId ?? kubectlApiId],
    }),
  );
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    AWS_ACCESS_KEY_ID: principal.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: principal.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: principal.credentials.sessionToken ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_STS: sts.endpoint,
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
  };
  const namespace = options.namespace ? ['-n', options.namespace] : [];
  return kubectlTarget('clusterless', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kubectl-cache'), ...namespace], env);
}

function kubectl(principal: Principal, args: string[], options: { apiId?: string } = {}): Promise<KubectlResult> {
  return door(principal, options).kubectl(args);
}

describe('kubectl through the kubectl door, with clusterless token as its exec plugin', () => {
  it('lists the objects of a namespace the role is granted', async () => {
    // Act
    const run = await kubectl(principals.writer, ['get', '--raw', `${BASE}/namespaces/team-a/clusters`]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const list = JSON.parse(run.stdout) as { kind: string; items: { metadata: { name: string } }[] };
    expect(list.kind).toBe('ClusterList');
    expect(list.items.map((i) => i.metadata.name)).toEqual(['team-a-prod']);
    expect(gateway.errors).toEqual([]);
  }, 60_000);

  it('is refused (403 Status, Forbidden) in a namespace the role is not granted', async () => {
    // Act
    const run = await kubectl(principals.writer, ['get', '--raw', `${BASE}/namespaces/team-b/clusters`]);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Forbidden/);
    expect(run.stdout).not.toContain('team-b-prod');
    expect(gateway.refusals.at(-1)).toMatchObject({ principal: principals.writer.arn, method: 'GET', path: `${BASE}/namespaces/team-b/clusters` });
  }, 60_000);

  it('is refused with the token of a principal that has no grant', async () => {
    // Act
    const run = await kubectl(principals.stranger, ['get', '--raw', `${BASE}/namespaces/team-a/clusters`]);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Forbidden/);
    expect(run.stdout).not.toContain('team-a-prod');
    expect(gateway.refusals.at(-1)).toMatchObject({ principal: principals.stranger.arn });
  }, 60_000);

  it('is refused (401, Unauthorized) with a token signed for another installation’s API', async () => {
    // Act
    const run = await kubectl(principals.writer, ['get', '--raw', `${BASE}/namespaces/team-a/clusters`], { apiId: 'otherapi01' });

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/You must be logged in to the server/);
    expect(run.stdout).not.toContain('team-a-prod');
  }, 60_000);
});

const VALIDATE = '--validate=strict';
const WATCHED = '{.type} {.object.metadata.name} {.object.spec.replicas}{"\\n"}';
const OBJECTS = `
apiVersion: clusterless.dev/v1alpha1
kind: MachineDeployment
metadata: {name: md1, labels: {tier: web, suite: read}}
spec: {clusterName: c1, replicas: 3, template: {spec: {version: v1.31.2, machineClassRef: {name: small}}}}
---
apiVersion: clusterless.dev/v1alpha1
kind: MachineDeployment
metadata: {name: md2, labels: {tier: db, suite: read}}
spec: {clusterName: c2, replicas: 1, template: {spec: {version: v1.31.2, machineClassRef: {name: small}}}}
---
apiVersion: clusterless.dev/v1alpha1
kind: MachineDeployment
metadata: {name: md3, labels: {tier: web, suite: read}}
spec: {clusterName: c2, replicas: 2, template: {spec: {version: v1.32.0, machineClassRef: {name: small}}}}
`;

// Concurrent, as each test has objects of its own and most of a door command's time is kubectl and its exec plugin
// (node) starting; a generous bound per test for a busy machine.
describe.concurrent('kubectl through the kubectl door answers as against kube-apiserver serving the CRDs', { timeout: 120_000 }, () => {
  /** The door as team-a's writer, and kube-apiserver's admin, both in namespace team-a. */
  let targets: [KubectlTarget, KubectlTarget];
  const ok = (t: KubectlTarget, args: readonly string[], input?: string) => kubectlOk(t, args, input);
  /**
   * Both answers to a read, in parallel (nothing changes), ages and versions normalised; a table's padding too, as an
   * age's width (`59s`, `2m1s`) moves the columns after it and the objects here were made seconds apart.
   */
  const read = async (args: readonly string[]) => {
    const answers = await Promise.all(targets.map((t) => ok(t, args)));
    const [ours, kube] = answers.map((a) => withoutAges(a).replace(/(?<=\S) {2,}/g, '  '));
    return { ours: ours!, kube: kube! };
  };
  // The door and kube-apiserver share nothing: each command runs on both at once.
  const onBoth = (t: typeof targets, args: readonly string[], input?: string) => onTargets(t, args, input, { together: true });
  const given = async (name: string, replicas = 2) => alike(await onBoth(targets, ['create', VALIDATE, '-f', '-'], md(name, replicas)));
  /** What the door stores (defaults, finalizers), created the same in kube-apiserver. */
  const copiedToKube = async (what: string) => {
    const stored = JSON.parse(await ok(targets[0], ['get', what, '-o', 'json'])) as { items?: unknown[] };
    const items = (stored.items ?? [stored]) as { metadata: Record<string, unknown> }[];
    for (const item of items) for (const volatile of ['uid', 'resourceVersion', 'creationTimestamp', 'generation']) delete item.metadata[volatile];
    await ok(targets[1], ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  };
  const field = (name: string, jsonPath: string) => fieldOnBoth(targets, 'machinedeployment', name, jsonPath);

  beforeAll(async () => {
    targets = [
      door(principals.writer, { namespace: 'team-a' }),
      kubectlTarget('kube-apiserver', ['--kubeconfig', kube.adminKubeconfig, '--cache-dir', join(dir, 'kube-cache'), '-n', 'team-a']),
    ];
    await ok(targets[0], ['create', VALIDATE, '-f', '-'], `${MACHINE_CLASS_MANIFEST}---${OBJECTS}`);
    await copiedToKube('machineclasses,machinedeployments');
  }, 60_000);

  afterAll(() => {
    // What API Gateway would log as an execution error (a missing permission, a malformed function response): none.
    expect(gateway.errors).toEqual([]);
  });

  // First, so that their waits overlap the other tests. The door streams a watch (functions/handlers/http.ts): kubectl sees
  // the change as it happens, as with kube-apiserver. Each runs from the version kubectl read first.
  // The change arrives on the watch that was open when it was made: one watch request (a buffered door answered the
  // watch when it ended, so kubectl logged its status only then, and saw the change on a second watch).
  it('get NAME -w prints the same events for a change, which arrives on the watch open when it was made', async () => {
    await given('watched');
    const watches = (err: string) => err.match(new RegExp(WATCH_OPEN.source, 'g'))?.length ?? 0;
    const seen = await Promise.all(
      targets.map(async (t) => {
        const w = t.start(['get', 'machinedeployment', 'watched', '-w', '--output-watch-events', '-o', `jsonpath=${WATCHED}`, '-v=6']);
        let requests = 0;
        try {
          await w.until((_, err) => watches(err) > 0, `${t.name}: the watch open`, 60_000);
          await ok(t, ['patch', 'machinedeployment', 'watched', '--type', 'merge', '-p', '{"spec":{"replicas":5}}']);
          await w.until((out, err) => ((requests = watches(err)), out.includes('MODIFIED watched 5')), `${t.name}: the MODIFIED event`, 60_000);
        } finally {
          await w.stop();
        }
        return { printed: w.stdout(), requests };
      }),
    );
    expect(seen[1]).toEqual({ printed: 'ADDED watched 2\nMODIFIED watched 5\n', requests: 1 });
    expect(seen[0]).toEqual(seen[1]);
  });

  it("wait --for=jsonpath='{.spec.replicas}'=5 ends when a scale makes it true", async () => {
    await given('awaited');
    const scale = (t: KubectlTarget) => ok(t, ['scale', 'machinedeployment', 'awaited', '--replicas=5']);
    const waited = alike(await waitOnBoth(targets, ['machinedeployment/awaited', '--for=jsonpath={.spec.replicas}=5'], scale, { ready: LISTED, seconds: 60 }));
    expect(waited).toEqual({ code: 0, stdout: 'machinedeployment.clusterless.dev/awaited condition met\n', stderr: '' });
  });

  it('wait --for=condition=Ready ends when a status write through the status route makes it true', async () => {
    await given('conditioned');
    const ready = { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Tested', lastTransitionTime: '2026-01-01T00:00:00Z' }] } };
    const markReady = async (t: KubectlTarget) => {
      if (t !== targets[0]) return ok(t, ['patch', 'machinedeployment', 'conditioned', '--subresource=status', '--type=merge', '-p', JSON.stringify(ready)]);
      // The door's writer is granted no status writes: the controller's write, through the API's status route.
      const patched = await handleRequest(
        {
          method: 'PATCH',
          path: `${BASE}/namespaces/team-a/machinedeployments/conditioned/status`,
          query: {},
          headers: { 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify(ready),
        },
        { store: doorStore },
      );
      expect(patched.status, patched.body).toBe(200);
    };
    const waited = alike(await waitOnBoth(targets, ['machinedeployment/conditioned', '--for=condition=Ready'], markReady, { ready: LISTED, seconds: 60 }));
    expect(waited).toEqual({ code: 0, stdout: 'machinedeployment.clusterless.dev/conditioned condition met\n', stderr: '' });
  });

  // A MachineClass: no finalizer, so the delete removes it (a MachineDeployment's waits for a controller).
  it('wait --for=delete ends when the object is gone', async () => {
    alike(await onBoth(targets, ['create', VALIDATE, '-f', '-'], MACHINE_CLASS_MANIFEST.replace('name: small', 'name: awaited-delete')));
    const remove = (t: KubectlTarget) => ok(t, ['delete', 'machineclass', 'awaited-delete', '--wait=false']);
    const waited = alike(await waitOnBoth(targets, ['machineclass/awaited-delete', '--for=delete'], remove, { ready: LISTED, seconds: 60 }));
    expect(waited).toEqual({ code: 0, stdout: 'machineclass.clusterless.dev/awaited-delete condition met\n', stderr: '' });
  });

  it('version names the server version of package.json', async () => {
    const out = JSON.parse(await ok(targets[0], ['version', '-o', 'json'])) as { serverVersion: { gitVersion: string } };
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(out.serverVersion.gitVersion).toBe(`v${version}`);
  });

  // The other tests make MachineDeployments of their own at the same time: lists select the seeded ones (suite=read).
  it.each([
    { args: ['api-resources', '--api-group=clusterless.dev'], shows: /^machinedeployments\s+md\s/m },
    { args: ['explain', 'machinedeployment.spec'], shows: /^FIELDS:$/m },
    { args: ['get', 'md', '-l', 'suite=read', '-o', 'wide'], shows: /^md1\s+c1\s.*v1\.31\.2$/m },
    { args: ['get', 'md', 'md1', '-o', 'yaml'], shows: /^ {2}replicas: 3$/m },
    { args: ['get', 'md', '-l', 'suite=read', '-o', 'jsonpath={.items[*].metadata.name} {.items[0].spec.replicas}'], shows: /^md1 md2 md3 3$/ },
    { args: ['get', 'md', '-l', 'tier=web', '-o', 'name'], shows: /^machinedeployment.clusterless.dev\/md1\nmachinedeployment.clusterless.dev\/md3\n$/ },
    { args: ['get', 'md', '--field-selector', 'metadata.name!=md2,spec.clusterName=c2', '-o', 'name'], shows: /^machinedeployment.clusterless.dev\/md3\n$/ },
    { args: ['get', 'md', '-l', 'suite=read', '--chunk-size=1'], shows: /^NAME[^\n]*\nmd1\s[^\n]*\nmd2\s[^\n]*\nmd3\s[^\n]*\n$/ },
  ])('kubectl $args prints the same', async ({ args, shows }) => {
    const out = await read(args);
    expect(out.ours).toBe(out.kube);
    expect(out.ours).toMatch(shows);
  });

  it('create, then create again (AlreadyExists)', async () => {
    expect((await given('created')).stdout).toBe('machinedeployment.clusterless.dev/created created\n');
    const again = await given('created');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('Error from server (AlreadyExists): error when creating "STDIN": machinedeployments.clusterless.dev "created" already exists\n');
  });

  it('apply with validation creates, configures, finds nothing to change; an invalid manifest is refused naming the field', async () => {
    const apply = async (replicas: number) => alike(await onBoth(targets, ['apply', VALIDATE, '-f', '-'], md('applied', replicas)));
    expect((await apply(2)).stdout).toBe('machinedeployment.clusterless.dev/applied created\n');
    expect((await apply(3)).stdout).toBe('machinedeployment.clusterless.dev/applied configured\n');
    expect((await apply(3)).stdout).toBe('machinedeployment.clusterless.dev/applied unchanged\n');
    const [ours, theirs] = await onBoth(targets, ['apply', VALIDATE, '-f', '-'], md('applied', -1));
    expect([ours.code, theirs.code]).toEqual([1, 1]);
    for (const r of [ours, theirs]) expect(r.stderr).toMatch(/The MachineDeployment "applied" is invalid: [\s\S]*spec\.replicas: Invalid value: -1/);
    expect(await field('applied', '{.spec.replicas}')).toEqual(['3', '3']);
  });

  it('apply --server-side creates and updates', async () => {
    for (const replicas of [2, 4])
      expect(alike(await onBoth(targets, ['apply', '--server-side', VALIDATE, '-f', '-'], md('ssa', replicas))).stdout).toBe(
        'machinedeployment.clusterless.dev/ssa serverside-applied\n',
      );
    expect(await field('ssa', '{.spec.replicas}')).toEqual(['4', '4']);
  });

  it('diff exits 1 with the change as a diff, and writes nothing', async () => {
    await given('diffed');
    const [ours, theirs] = await onBoth(targets, ['diff', '-f', '-'], md('diffed', 5));
    expect([ours.code, theirs.code]).toEqual([1, 1]);
    for (const r of [ours, theirs]) {
      expect(r.stdout).toMatch(/^-  replicas: 2$/m);
      expect(r.stdout).toMatch(/^\+  replicas: 5$/m);
    }
    expect(await field('diffed', '{.spec.replicas}')).toEqual(['2', '2']);
  });

  it('replace, patch (merge and JSON), label, annotate and scale', async () => {
    await given('changed');
    expect(alike(await onBoth(targets, ['replace', VALIDATE, '-f', '-'], md('changed', 6))).stdout).toBe(
      'machinedeployment.clusterless.dev/changed replaced\n',
    );
    const merge = ['patch', 'machinedeployment', 'changed', '--type', 'merge', '-p', '{"spec":{"replicas":4}}'];
    expect(alike(await onBoth(targets, merge)).stdout).toBe('machinedeployment.clusterless.dev/changed patched\n');
    expect(alike(await onBoth(targets, merge)).stdout).toBe('machinedeployment.clusterless.dev/changed patched (no change)\n');
    const json = JSON.stringify([
      { op: 'test', path: '/spec/replicas', value: 4 },
      { op: 'replace', path: '/spec/replicas', value: 3 },
    ]);
    expect(alike(await onBoth(targets, ['patch', 'machinedeployment', 'changed', '--type', 'json', '-p', json])).stdout).toBe(
      'machinedeployment.clusterless.dev/changed patched\n',
    );
    expect(alike(await onBoth(targets, ['label', 'machinedeployment', 'changed', 'team=a'])).stdout).toBe(
      'machinedeployment.clusterless.dev/changed labeled\n',
    );
    expect(alike(await onBoth(targets, ['annotate', 'machinedeployment', 'changed', 'note=x'])).stdout).toBe(
      'machinedeployment.clusterless.dev/changed annotated\n',
    );
    expect(alike(await onBoth(targets, ['scale', 'machinedeployment', 'changed', '--replicas=5', '--current-replicas=3'])).stdout).toBe(
      'machinedeployment.clusterless.dev/changed scaled\n',
    );
    expect(await field('changed', '{.spec.replicas} {.metadata.labels.team} {.metadata.annotations.note}')).toEqual(['5 a x', '5 a x']);
  });

  it('delete: an object without a finalizer is gone; one with the finalizer clusterless adds waits for its controller', async () => {
    alike(await onBoth(targets, ['create', VALIDATE, '-f', '-'], MACHINE_CLASS_MANIFEST.replace('name: small', 'name: deleted')));
    expect(alike(await onBoth(targets, ['delete', 'machineclass', 'deleted'])).stdout).toBe(
      'machineclass.clusterless.dev "deleted" deleted from team-a namespace\n',
    );
    const gone = alike(await onBoth(targets, ['get', 'machineclass', 'deleted']));
    expect(gone.stderr).toBe('Error from server (NotFound): machineclasses.clusterless.dev "deleted" not found\n');
    // A MachineDeployment comes to kube-apiserver with the finalizer clusterless gave it: neither has a controller here.
    await ok(targets[0], ['create', VALIDATE, '-f', '-'], md('doomed'));
    await copiedToKube('machinedeployment/doomed');
    expect(alike(await onBoth(targets, ['delete', 'machinedeployment', 'doomed', '--wait=false'])).stdout).toBe(
      'machinedeployment.clusterless.dev "doomed" deleted from team-a namespace\n',
    );
    const [ours, theirs] = await field('doomed', '{.metadata.deletionTimestamp}');
    expect(ours).not.toBe('');
    expect(theirs).not.toBe('');
  });
});
