/**
 * `clusterless move` between two installations: two control planes (the embedded host's runtime, real ASL on the
 * local engine, each behind the real router on its own 127.0.0.1 HTTP server) with the aws provider on one shared
 * moto EC2, two installation ids. The aws provider on moto rather than the simulator: the embedded host's simulated
 * cloud is its data folder's alone (one cloud per host, instances of the default installation), while on moto the
 * two installations share one cloud and own its instances by tag, which is what a move hands over (CreateTags).
 *
 * One cluster moves back and forth; each move is killed at another step (the CLI's request refused before it is
 * sent, or its answer lost after the server acted) and run again, and must end with one owner, every object once,
 * the same instances and a target that runs the cluster (it scales it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { Ec2ClusterHandover } from '../../../functions/adapters/ec2/index.js';
import { SecretStoreCertificateTransfer } from '../../../functions/adapters/kubeadm/index.js';
import { MemorySecretStore } from '../../../functions/adapters/secrets/index.js';
import { secretNames } from '../../../functions/bootstrap/names.js';
import { handleRequest } from '../../../functions/api/http/index.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { isPaused } from '../../../functions/core/cluster/objects.js';
import { MoveAnnotations } from '../../../functions/api/service/move.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Io } from '../../../cli/io.js';
import { runCli } from '../../../cli/program.js';
import { startEmbeddedHost } from '../../../local/embedded-host.js';
import { startHttpServer, type RunningHttpServer } from '../../../local/http-server.js';
import { clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { createMotoNetwork, type MotoNetwork } from '../../support/ec2.js';
import { paginateDescribeInstances } from '../../../functions/adapters/aws/ec2-query/index.js';
import { TagKeys, tagValue } from '../../../functions/adapters/aws/tags.js';

const NS = 'default';
const NAME = 'moving';
const CERTIFICATES = new TextEncoder().encode('{"ca":"the cluster CA and its key"}');
const P = '/apis/clusterless.dev/v1alpha1/namespaces/default';

interface Side {
  name: string;
  installationId: string;
  cp: TestControlPlane;
  http: RunningHttpServer;
  /** The cluster certificates as the bootstrapper keeps them (no bootstrapper runs here: aws machines on moto boot nothing). */
  certificates: SecretStoreCertificateTransfer;
}

let a: Side;
let b: Side;
let network: MotoNetwork;

async function side(name: string, installationId: string): Promise<Side> {
  const cp = await startTestControlPlane({ provider: 'ec2', motoEndpoint: motoEndpoint(), installationId, timeScale: 40 });
  const certificates = new SecretStoreCertificateTransfer(new MemorySecretStore(), secretNames(`clusterless/${installationId}/`));
  const move = { installationId, handovers: { aws: new Ec2ClusterHandover(cp.ec2!.client) }, certificates };
  const http = await startHttpServer({ port: 0, deps: (req) => handleRequest(req, { store: cp.runtime.store, clock: cp.clock, move }) });
  return { name, installationId, cp, http, certificates };
}

beforeAll(async () => {
  a = await side('a', `move-a-${Date.now()}`);
  b = await side('b', `move-b-${Date.now()}`);
  network = await createMotoNetwork(a.cp.ec2!.client);
});

afterAll(async () => {
  for (const s of [a, b]) {
    await s?.http.close();
    await s?.cp.stop();
  }
});

/** A fault: the first request that matches fails, before it is sent or once the server has answered it. */
interface Fault {
  step: string;
  /** Which matching request (1 = the first). @default 1 */
  nth?: number;
  when: 'before' | 'after';
}

async function cli(args: string[], fault?: Fault): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  let seen = 0;
  const faultyFetch: typeof fetch = async (input, init) => {
    const body = typeof init?.body === 'string' ? init.body : '';
    const matches = fault !== undefined && init?.method === 'POST' && body.includes(`"step":"${fault.step}"`) && ++seen === (fault.nth ?? 1);
    if (matches && fault.when === 'before') throw new TypeError('fetch failed (injected: the move was killed before this step)');
    const res = await fetch(input, init);
    if (matches) throw new TypeError('fetch failed (injected: the move was killed after this step)');
    return res;
  };
  const io = {
    stdout: { write: (s: string) => void (stdout += s), isTTY: false },
    stderr: { write: (s: string) => void (stderr += s), isTTY: false },
    env: {},
    fetch: faultyFetch,
    now: () => Date.now(),
    sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)),
    onInterrupt: () => () => {},
  } as unknown as Io;
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

const moveArgs = (from: Side, to: Side) => ['--server', from.http.url, 'move', NAME, '--to', to.http.url];

/** The cluster's instances in the cloud, any installation, with the installation each is tagged with. */
async function instances(): Promise<Map<string, { installation: string | undefined; state: string | undefined; machineUid: string | undefined }>> {
  const out = new Map<string, { installation: string | undefined; state: string | undefined; machineUid: string | undefined }>();
  const filters = [{ Name: `tag:${TagKeys.cluster}`, Values: [`${NS}/${NAME}`] }];
  for await (const page of paginateDescribeInstances(a.cp.ec2!.client, { Filters: filters }))
    for (const r of page.Reservations ?? [])
      for (const i of r.Instances ?? [])
        out.set(i.InstanceId!, {
          installation: tagValue(i.Tags, TagKeys.installation),
          state: i.State?.Name,
          machineUid: tagValue(i.Tags, TagKeys.machineUid),
        });
  return out;
}

/** The installation tags of the cluster's volumes (tagged at launch with the instance's tags). */
async function volumeInstallations(): Promise<string[]> {
  const client = a.cp.ec2!.client;
  const ofCluster = await client.describeTags({
    Filters: [
      { Name: 'resource-type', Values: ['volume'] },
      { Name: 'key', Values: [TagKeys.cluster] },
      { Name: 'value', Values: [`${NS}/${NAME}`] },
    ],
  });
  const ids = new Set((ofCluster.Tags ?? []).map((t) => t.ResourceId));
  const installations = await client.describeTags({
    Filters: [
      { Name: 'resource-type', Values: ['volume'] },
      { Name: 'key', Values: [TagKeys.installation] },
    ],
  });
  return (installations.Tags ?? []).filter((t) => ids.has(t.ResourceId)).map((t) => t.Value!);
}

const objectsOf = (s: Side) => s.cp.store.listCluster(NS, NAME).then((os) => os.filter((o) => o.kind !== 'Event'));
const paused = (c: ApiObject | undefined) => c !== undefined && isPaused(c as Cluster);

/** One owner: at most one side runs the cluster, and all its instances carry that side's tag. */
async function expectOneOwner(): Promise<void> {
  const clusters = [await a.cp.store.get('Cluster', NS, NAME), await b.cp.store.get('Cluster', NS, NAME)];
  const running = [a, b].filter((_, i) => clusters[i] && !paused(clusters[i]));
  expect(running.length).toBeLessThanOrEqual(1);
  const live = [...(await instances()).values()].filter((i) => i.state !== 'terminated');
  const tags = new Set(live.map((i) => i.installation));
  if (running[0]) expect([...tags]).toEqual([running[0].installationId]);
  for (const t of tags) expect([a.installationId, b.installationId]).toContain(t);
}

/** Every machine Running with a node, and the deployment's replicas ready: the owner runs the cluster. */
async function settled(s: Side, replicas: number): Promise<Machine[]> {
  return s.cp.waitFor(
    `${s.name} runs ${NAME} with ${replicas} workers`,
    async () => {
      const md = await s.cp.store.get<MachineDeployment>('MachineDeployment', NS, `${NAME}-md`);
      const machines = (await objectsOf(s)).filter((o) => o.kind === 'Machine') as Machine[];
      const ready = md?.status?.readyReplicas === replicas && (md.status.observedGeneration ?? 0) >= (md.metadata.generation ?? 1);
      return ready && machines.length === replicas + 1 && machines.every((m) => m.status?.phase === 'Running') && machines;
    },
    90_000,
  );
}

describe('clusterless move (two installations on one moto EC2)', () => {
  let replicas = 2;
  let before: Map<string, string> = new Map();

  beforeAll(async () => {
    const manifests = clusterManifests({ name: NAME, network, controlPlaneReplicas: 1, workers: replicas, strategy: { type: 'RollingUpdate' } });
    await a.cp.apply(manifests.map((m) => m.object));
    const machines = await settled(a, replicas);
    const cluster = (await a.cp.store.get('Cluster', NS, NAME))!;
    await a.certificates.create(NS, NAME, cluster.metadata.uid!, CERTIFICATES);
    before = new Map(machines.map((m) => [m.metadata.uid!, m.status!.infrastructure!.instanceId!]));
  });

  // Each row is one move, the opposite way of the row before: killed at a step, then run again to the end.
  it.each([
    { from: 'a', to: 'b', fault: { step: 'Pause', when: 'after' } },
    { from: 'b', to: 'a', fault: { step: 'Import', nth: 3, when: 'before' } },
    { from: 'a', to: 'b', fault: { step: 'HandOver', when: 'before' } },
    { from: 'b', to: 'a', fault: { step: 'HandOver', when: 'after' } },
    { from: 'a', to: 'b', fault: { step: 'Resume', when: 'after' } },
    { from: 'b', to: 'a', fault: { step: 'Forget', when: 'before' } },
    { from: 'a', to: 'b', fault: { step: 'Forget', when: 'after' } },
  ] as const)('moves $from to $to, killed $fault.when $fault.step, re-run: one owner, nothing duplicated, no machine replaced', async ({ from, to, fault }) => {
    // Prepare
    const [source, target] = from === 'a' ? [a, b] : [b, a];
    const sourceObjects = new Map((await objectsOf(source)).map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.uid]));

    // Act: the move dies at the fault
    const killed = await cli(moveArgs(source, target), fault);

    // Assess: it failed, and left one owner and every instance as it was
    expect(killed.code, killed.stderr).toBe(3);
    await expectOneOwner();
    expect(new Set([...(await instances()).keys()])).toEqual(new Set([...before.values()]));

    // Act: the same command again
    const rerun = await cli(moveArgs(source, target));

    // Assess: moved; the source forgot everything, the target holds every object once, with its uid
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain(`cluster.clusterless.dev/${NAME} moved to ${target.http.url}`);
    expect(await objectsOf(source)).toEqual([]);
    const moved = await objectsOf(target);
    expect(new Map(moved.map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.uid]))).toEqual(sourceObjects);
    const cluster = moved.find((o) => o.kind === 'Cluster')!;
    expect(paused(cluster)).toBe(false);
    expect(cluster.metadata.annotations?.[MoveAnnotations.movingIn]).toBeUndefined();
    const tagged = await instances();
    for (const id of before.values()) expect(tagged.get(id)).toMatchObject({ installation: target.installationId, state: 'running' });
    expect(await target.certificates.read(NS, NAME)).toEqual(CERTIFICATES);
    const volumes = await volumeInstallations();
    expect(volumes.length).toBeGreaterThanOrEqual(before.size);
    expect(new Set(volumes)).toEqual(new Set([target.installationId]));
    await expectOneOwner();

    // Act: the target runs the cluster (a scale-up it must launch)
    replicas++;
    await target.cp.service.mergePatch({ kind: 'MachineDeployment', namespace: NS, name: `${NAME}-md` }, { spec: { replicas } });
    const machines = await settled(target, replicas);

    // Assess: the machines that moved kept their instances, and the new one is the target's
    for (const [uid, id] of before) expect(machines.find((m) => m.metadata.uid === uid)?.status?.infrastructure?.instanceId).toBe(id);
    before = new Map(machines.map((m) => [m.metadata.uid!, m.status!.infrastructure!.instanceId!]));
    expect(new Set([...(await instances()).keys()])).toEqual(new Set([...before.values()]));
    for (const id of before.values()) expect((await instances()).get(id)?.installation).toBe(target.installationId);
  });
});

describe('the move subresource refuses', () => {
  it('a forget of a cluster that was not handed over, and leaves it whole', async () => {
    // Prepare: a cluster of its own on b, paused for a move but not handed over
    const name = 'not-handed-over';
    await b.cp.apply(clusterManifests({ name, network, controlPlaneReplicas: 1, workers: 0 }).map((m) => m.object));
    await b.cp.waitFor('its control-plane machine has a node', async () =>
      (await b.cp.store.listCluster(NS, name)).some((o) => o.kind === 'Machine' && (o as Machine).status?.nodeRef),
    );
    const url = `${b.http.url}${P}/clusters/${name}/move`;
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ step: 'Pause', to: a.installationId })).status).toBe(200);
    const objects = await b.cp.store.listCluster(NS, name);

    // Act
    const res = await post({ step: 'Forget' });

    // Assess
    expect(res.status).toBe(409);
    expect(((await res.json()) as { message: string }).message).toContain('has not been handed over');
    expect((await b.cp.store.listCluster(NS, name)).map((o) => o.metadata.uid)).toEqual(objects.map((o) => o.metadata.uid));
  });

  it('a resume while the instances are still the source’s, and keeps the cluster paused', async () => {
    // Prepare: objects imported into a but no hand-over (the cluster above, still b's)
    const name = 'not-handed-over';
    const exported = (await (await fetch(`${b.http.url}${P}/clusters/${name}/move`)).json()) as { objects: ApiObject[] };
    const post = (body: unknown) =>
      fetch(`${a.http.url}${P}/clusters/${name}/move`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const object of exported.objects) expect([200, 201]).toContain((await post({ step: 'Import', from: b.installationId, object })).status);

    // Act
    const res = await post({ step: 'Resume' });

    // Assess
    expect(res.status).toBe(409);
    expect(((await res.json()) as { message: string }).message).toContain('are not this installation');
    expect(paused(await a.cp.store.get('Cluster', NS, name))).toBe(true);
  });

  it('a move onto a server where a cluster of that name already runs, moving nothing', async () => {
    // Prepare: the cluster of the tests above is b's now; a has one of the same name of its own
    const name = 'not-handed-over';
    const before = (await b.cp.store.listCluster(NS, name)).map((o) => o.metadata.uid);
    const aCluster = (await a.cp.store.get('Cluster', NS, name))!;
    await a.cp.service.mergePatch({ kind: 'Cluster', namespace: NS, name }, { metadata: { annotations: { [MoveAnnotations.movingIn]: null } } });

    // Act
    const res = await cli(['--server', b.http.url, 'move', name, '--to', a.http.url]);

    // Assess
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('already runs on');
    expect((await b.cp.store.listCluster(NS, name)).map((o) => o.metadata.uid)).toEqual(before);
    expect((await a.cp.store.get('Cluster', NS, name))!.metadata.uid).toBe(aCluster.metadata.uid);
  });

  it('an import naming no uid, with a 422 naming the field', async () => {
    const res = await fetch(`${a.http.url}${P}/clusters/other/move`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        step: 'Import',
        from: b.installationId,
        object: { apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'other', namespace: NS }, spec: {} },
      }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { details: { causes: { field: string }[] } }).details.causes[0]!.field).toBe('metadata.uid');
    expect(await a.cp.store.get('Cluster', NS, 'other')).toBeUndefined();
  });
});

describe('the embedded host', () => {
  it('serves the move subresource: its installation id, and a refusal of a sim cluster, whose cloud is its data folder’s alone', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'clusterless-move-host-'));
    const host = await startEmbeddedHost({ port: 0, dataDir: dir, sweepSeconds: 3600 });
    try {
      const [mc, c] = clusterManifests({ name: 'sim-one', controlPlaneReplicas: 1, workers: 0 });
      for (const m of [mc!, c!])
        expect(
          (await fetch(`${host.url}${P}/${m.plural}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(m.object) }))
            .status,
        ).toBe(201);

      // Act
      const info = await fetch(`${host.url}${P}/clusters/sim-one/move`);
      const step = (headers: Record<string, string>) =>
        fetch(`${host.url}${P}/clusters/sim-one/move`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ step: 'Pause', to: a.installationId }),
        });
      // A move writes status: without the controller token it is refused as a status write is.
      const unprivileged = await step({});
      const pause = await step({ authorization: `Bearer ${host.controllerToken}` });

      // Assess
      expect(await info.json()).toEqual({ installationId: host.installationId, objects: [] });
      expect(unprivileged.status).toBe(403);
      expect(pause.status).toBe(422);
      expect(((await pause.json()) as { details: { causes: { field: string }[] } }).details.causes[0]!.field).toBe('spec.provider');
      expect(paused(await host.runtime.store.get('Cluster', NS, 'sim-one'))).toBe(false);
    } finally {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
