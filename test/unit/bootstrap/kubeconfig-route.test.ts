/**
 * GET .../clusters/{name}/kubeconfig through the router and `clusterless get kubeconfig` through the CLI, with
 * the bootstrap's kubeconfig source over a memory secret store.
 */
import { X509Certificate } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MemorySecretStore } from '../../../functions/adapters/secrets/index.js';
import { handleRequest } from '../../../functions/api/http/index.js';
import { KubeadmBootstrapper } from '../../../functions/adapters/kubeadm/index.js';
import { kubeconfigSources } from '../../../functions/workflows/bootstrap-hooks.js';
import { FakeClock } from '../../support/fake-clock.js';
import { fakeWorld, type FakeWorld } from '../cli/harness.js';

const PATH = '/apis/clusterless.dev/v1alpha1/namespaces/default/clusters';
const aws = { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }] };

let w: FakeWorld;
let bootstrap: KubeadmBootstrapper;
let kubeconfig: (ns: string, name: string) => Promise<string | undefined>;

beforeEach(async () => {
  w = fakeWorld();
  bootstrap = new KubeadmBootstrapper({ secrets: new MemorySecretStore(), clock: new FakeClock('2026-05-01T00:00:00Z') });
  kubeconfig = kubeconfigSources(bootstrap, w.store).adminKubeconfig;
  w.intercept = async (req) => {
    if (!req.path.endsWith('/kubeconfig')) return undefined;
    const r = await handleRequest(req, { store: w.store, kubeconfig });
    return new Response(r.body, { status: r.status, headers: r.headers });
  };
  await w.create({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'prod', namespace: 'default' }, spec: { controlPlaneEndpoint: { host: 'prod.example.com' }, provider: { aws } } } as never);
  await w.create({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'sim', namespace: 'default' }, spec: {} } as never);
});

describe('GET .../clusters/{name}/kubeconfig', () => {
  it('answers the YAML kubeconfig, not cached, once the cluster has certificates', async () => {
    await bootstrap.ensureCertificates('default', 'prod');
    const r = await handleRequest({ method: 'GET', path: `${PATH}/prod/kubeconfig` }, { store: w.store, kubeconfig });
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({ 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'no-store' });
    expect(parse(r.body).clusters[0].cluster.server).toBe('https://prod.example.com:6443');
  });

  it.each([
    { name: 'a cluster without certificates yet', cluster: 'prod', message: /has no kubeconfig yet/ },
    { name: 'a simulated cluster', cluster: 'sim', message: /has no kubeconfig yet/ },
    { name: 'a cluster that does not exist', cluster: 'gone', message: /not found/ },
  ])('is a 404 Status for $name', async ({ cluster, message }) => {
    const r = await handleRequest({ method: 'GET', path: `${PATH}/${cluster}/kubeconfig` }, { store: w.store, kubeconfig });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'NotFound', message: expect.stringMatching(message) });
  });

  it('is a 404 on a host without the hook (the simulator), and only GET is allowed', async () => {
    await bootstrap.ensureCertificates('default', 'prod');
    expect((await handleRequest({ method: 'GET', path: `${PATH}/prod/kubeconfig` }, { store: w.store })).status).toBe(404);
    const post = await handleRequest({ method: 'POST', path: `${PATH}/prod/kubeconfig`, body: '{}' }, { store: w.store, kubeconfig });
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET');
    expect((await handleRequest({ method: 'GET', path: '/apis/clusterless.dev/v1alpha1/namespaces/default/machines/m/kubeconfig' }, { store: w.store, kubeconfig })).status).toBe(404);
  });
});

describe('clusterless get kubeconfig', () => {
  it('prints the kubeconfig as it is, its client certificate signed by the cluster CA', async () => {
    const certs = await bootstrap.ensureCertificates('default', 'prod');
    const r = await w.run(['get', 'kubeconfig', 'prod']);
    expect(r.code).toBe(0);
    const kc = parse(r.stdout);
    const client = new X509Certificate(Buffer.from(kc.users[0].user['client-certificate-data'], 'base64'));
    expect(client.verify(new X509Certificate(certs.ca.cert).publicKey)).toBe(true);
    expect(w.requests.at(-1)).toMatchObject({ method: 'GET', path: `${PATH}/prod/kubeconfig` });
  });

  it.each([
    { argv: ['get', 'kubeconfig'], error: /needs the name of a cluster/ },
    { argv: ['get', 'kubeconfig', 'prod', '-o', 'json'], error: /printed as YAML only/ },
    { argv: ['get', 'kubeconfig', 'prod', '-A'], error: /takes a cluster name and -n only/ },
  ])('refuses $argv as a usage error (exit 2), sending nothing', async ({ argv, error }) => {
    const before = w.requests.length;
    const r = await w.run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(error);
    expect(w.requests.length).toBe(before);
  });

  it('exits 1 with the reason when the cluster has no kubeconfig yet', async () => {
    const r = await w.run(['get', 'kubeconfig', 'prod', '-n', 'default']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*has no kubeconfig yet/);
  });
});
