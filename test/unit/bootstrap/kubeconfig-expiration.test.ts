/**
 * How long a downloaded admin kubeconfig lasts: an hour by default, `?expirationSeconds=` up to a day (the
 * router's KUBECONFIG_EXPIRATION), `clusterless get kubeconfig NAME --expiration 2h`. Anything else is a 400
 * Status naming expirationSeconds, and nothing is issued.
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

const PATH = '/apis/clusterless.dev/v1alpha1/namespaces/default/clusters/prod/kubeconfig';
const NOW = '2026-05-01T00:00:00Z';
const aws = { region: 'us-east-1', subnets: [{ id: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }] };

let w: FakeWorld;
let issued: { namespace: string; cluster: string; expirationSeconds: number }[];
let kubeconfig: (ns: string, name: string, expirationSeconds: number) => Promise<string | undefined>;

/** The client certificate's notAfter, in seconds after NOW. */
function lifetimeSeconds(text: string): number {
  const kc = parse(text) as { users: { user: { 'client-certificate-data': string } }[] };
  const cert = new X509Certificate(Buffer.from(kc.users[0]!.user['client-certificate-data'], 'base64'));
  return (new Date(cert.validTo).getTime() - new Date(NOW).getTime()) / 1000;
}

beforeEach(async () => {
  w = fakeWorld();
  const bootstrap = new KubeadmBootstrapper({ secrets: new MemorySecretStore(), clock: new FakeClock(NOW) });
  const source = kubeconfigSources(bootstrap, w.store).adminKubeconfig;
  issued = [];
  kubeconfig = async (namespace, cluster, expirationSeconds) => {
    issued.push({ namespace, cluster, expirationSeconds });
    return source(namespace, cluster, expirationSeconds);
  };
  w.intercept = async (req) => {
    if (!req.path.endsWith('/kubeconfig')) return undefined;
    const r = await handleRequest(req, { store: w.store, kubeconfig });
    return new Response(r.body, { status: r.status, headers: r.headers });
  };
  await w.create({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'prod', namespace: 'default' }, spec: { controlPlaneEndpoint: { host: 'prod.example.com' }, provider: { aws } } } as never);
  await bootstrap.ensureCertificates('default', 'prod');
});

const get = (query?: Record<string, string>) => handleRequest({ method: 'GET', path: PATH, ...(query ? { query } : {}) }, { store: w.store, kubeconfig });

describe('GET .../clusters/{name}/kubeconfig?expirationSeconds=', () => {
  it('issues a kubeconfig that lasts an hour when not asked otherwise', async () => {
    const r = await get();
    expect(r.status).toBe(200);
    expect(lifetimeSeconds(r.body)).toBe(3600);
  });

  it.each([600, 7200, 86_400])('issues one that lasts %i seconds when asked', async (seconds) => {
    const r = await get({ expirationSeconds: String(seconds) });
    expect(r.status).toBe(200);
    expect(lifetimeSeconds(r.body)).toBe(seconds);
  });

  it.each(['86401', '599', '0', '-60', '1e4', '3600.5', 'an hour', '', '99999999999'])('refuses %j with a 400 Status naming expirationSeconds, and issues nothing', async (value) => {
    const r = await get({ expirationSeconds: value });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400, details: { causes: [{ field: 'expirationSeconds' }] } });
    expect(issued).toEqual([]);
  });
});

describe('clusterless get kubeconfig --expiration', () => {
  it('asks for the duration in seconds and prints a kubeconfig that lasts that long', async () => {
    const r = await w.run(['get', 'kubeconfig', 'prod', '--expiration', '2h']);
    expect(r.code).toBe(0);
    expect(w.requests.at(-1)).toMatchObject({ method: 'GET', path: PATH, query: { expirationSeconds: '7200' } });
    expect(lifetimeSeconds(r.stdout)).toBe(7200);
  });

  it('sends no expirationSeconds without --expiration (the server decides: an hour)', async () => {
    const r = await w.run(['get', 'kubeconfig', 'prod']);
    expect(r.code).toBe(0);
    expect(w.requests.at(-1)!.query).toEqual({});
    expect(lifetimeSeconds(r.stdout)).toBe(3600);
  });

  it("exits 1 with the server's reason beyond the maximum", async () => {
    const r = await w.run(['get', 'kubeconfig', 'prod', '--expiration', '25h']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/expirationSeconds/);
    expect(issued).toEqual([]);
  });

  it.each([
    { argv: ['get', 'kubeconfig', 'prod', '--expiration', 'soon'], error: /invalid duration for --expiration/ },
    { argv: ['get', 'kubeconfig', 'prod', '--expiration', '1500ms'], error: /whole number of seconds/ },
    { argv: ['get', 'machines', '--expiration', '2h'], error: /--expiration.*kubeconfig/ },
  ])('refuses $argv as a usage error (exit 2), sending nothing', async ({ argv, error }) => {
    const before = w.requests.length;
    const r = await w.run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(error);
    expect(w.requests.length).toBe(before);
  });
});
