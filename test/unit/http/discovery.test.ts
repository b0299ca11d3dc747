/** Discovery and OpenAPI as kube-apiserver serves them for CRDs, through the router. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { AGGREGATED_DISCOVERY_TYPE, SERVER_VERSION, wantsAggregatedDiscovery, type DiscoveredGroupVersion } from '../../../functions/api/http/discovery.js';
import { handleRequest, type RouterDeps } from '../../../functions/api/http/index.js';
import { KINDS } from '../../../functions/api/kinds.js';
import { FakeClock } from '../../support/fake-clock.js';

const EXTRA: DiscoveredGroupVersion = {
  group: 'example.dev',
  version: 'v1',
  resources: [{ name: 'widgets', singularName: 'widget', namespaced: true, kind: 'Widget', verbs: ['get', 'list'], shortNames: ['wd'] }],
};
const deps: RouterDeps = { store: new MemoryStore(), apiGroups: [EXTRA], clock: new FakeClock('2026-01-01T00:00:00Z') };
const get = (path: string, headers: Record<string, string> = {}, query: Record<string, string> = {}) =>
  handleRequest({ method: 'GET', path, headers, query }, deps);
const json = async (path: string, headers: Record<string, string> = {}) => JSON.parse((await get(path, headers)).body);

const KUBECTL_DISCOVERY_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

describe('version and legacy discovery', () => {
  it('/version names the version of package.json, Kubernetes style', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SERVER_VERSION).toBe(version);
    const info = await json('/version');
    expect(info).toMatchObject({ gitVersion: `v${version}`, major: version.split('.')[0], minor: version.split('.')[1] });
    expect(info.platform).toMatch(/^[a-z]+\/[a-z0-9]+$/);
  });

  it('/api has no versions: there is no core group', async () => {
    expect(await json('/api')).toEqual({ kind: 'APIVersions', versions: [], serverAddressByClientCIDRs: [] });
  });

  it('/apis lists clusterless.dev and the groups passed in', async () => {
    const list = await json('/apis');
    expect(list.groups.map((g: { name: string }) => g.name)).toEqual(['clusterless.dev', 'events.k8s.io', 'example.dev']);
    expect((await json('/apis/events.k8s.io')).preferredVersion).toEqual({ groupVersion: 'events.k8s.io/v1', version: 'v1' });
    expect((await json('/apis/events.k8s.io/v1')).resources[0]).toMatchObject({ name: 'events', kind: 'Event', shortNames: ['ev'] });
    expect((await json('/apis/example.dev/v1')).resources[0]).toMatchObject({ name: 'widgets', kind: 'Widget', shortNames: ['wd'] });
  });

  it('a group or version not served is a 404', async () => {
    expect((await get('/apis/apps')).status).toBe(404);
    expect((await get('/apis/clusterless.dev/v1')).status).toBe(404);
  });

  it('the APIResourceList lists status, rollback and, for the scalable kinds, scale as autoscaling/v1 Scale', async () => {
    const list = await json('/apis/clusterless.dev/v1alpha1');
    const names = list.resources.map((r: { name: string }) => r.name);
    for (const k of KINDS) expect(names).toContain(`${k.plural}/status`);
    const scale = list.resources.filter((r: { name: string }) => r.name.endsWith('/scale'));
    expect(scale.map((r: { name: string }) => r.name).sort()).toEqual(['controlplanes/scale', 'machinedeployments/scale', 'machinesets/scale']);
    expect(scale[0]).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    expect(list.resources.find((r: { name: string }) => r.name === 'machinedeployments')).toMatchObject({
      singularName: 'machinedeployment',
      categories: ['clusterless'],
    });
  });
});

describe('aggregated discovery (apidiscovery.k8s.io/v2)', () => {
  it.each([
    { name: 'what kubectl 1.34 sends', accept: KUBECTL_DISCOVERY_ACCEPT, want: true },
    { name: 'v2 with the parameters in another order', accept: 'application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io', want: true },
    {
      name: 'v2beta1 only (kube-apiserver 1.34 no longer serves it)',
      accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
      want: false,
    },
    { name: 'plain JSON', accept: 'application/json', want: false },
    { name: 'plain JSON before v2', accept: `application/json,${AGGREGATED_DISCOVERY_TYPE}`, want: false },
  ])('$name: $want', ({ accept, want }) => {
    expect(wantsAggregatedDiscovery(accept)).toBe(want);
  });

  it('/apis answers an APIGroupDiscoveryList with its media type, each resource with its subresources', async () => {
    const res = await get('/apis', { accept: KUBECTL_DISCOVERY_ACCEPT });
    expect(res.headers['content-type']).toBe(AGGREGATED_DISCOVERY_TYPE);
    expect(res.headers['vary']).toBe('Accept');
    const doc = JSON.parse(res.body);
    expect(doc).toMatchObject({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {} });
    expect(doc.items.map((g: { metadata: { name: string } }) => g.metadata.name)).toEqual(['clusterless.dev', 'events.k8s.io', 'example.dev']);
    const version = doc.items[0].versions[0];
    expect(version).toMatchObject({ version: 'v1alpha1', freshness: 'Current' });
    const md = version.resources.find((r: { resource: string }) => r.resource === 'machinedeployments');
    expect(md).toMatchObject({
      responseKind: { group: 'clusterless.dev', version: 'v1alpha1', kind: 'MachineDeployment' },
      scope: 'Namespaced',
      singularResource: 'machinedeployment',
      shortNames: ['md'],
      categories: ['clusterless'],
    });
    expect(md.subresources).toEqual([
      { subresource: 'status', responseKind: { group: 'clusterless.dev', version: 'v1alpha1', kind: 'MachineDeployment' }, verbs: ['get', 'patch', 'update'] },
      { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
      { subresource: 'rollback', responseKind: { group: 'clusterless.dev', version: 'v1alpha1', kind: 'MachineDeploymentRollback' }, verbs: ['create'] },
    ]);
  });

  it('/api answers an empty APIGroupDiscoveryList', async () => {
    const res = await get('/api', { accept: KUBECTL_DISCOVERY_ACCEPT });
    expect(res.headers['content-type']).toBe(AGGREGATED_DISCOVERY_TYPE);
    expect(JSON.parse(res.body).items).toEqual([]);
  });
});

describe('OpenAPI v3', () => {
  const PATH = '/openapi/v3/apis/clusterless.dev/v1alpha1';
  const index = async () => (await json('/openapi/v3')).paths['apis/clusterless.dev/v1alpha1'].serverRelativeURL as string;

  it('the index names the group version document by its hash; with that hash it is immutable, its ETag the hash', async () => {
    const url = await index();
    const hash = url.split('?hash=')[1]!;
    expect(url).toBe(`${PATH}?hash=${hash}`);
    expect(hash).toMatch(/^[0-9A-F]{128}$/);
    const res = await get(PATH, {}, { hash });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ etag: `"${hash}"`, 'cache-control': 'public, immutable', expires: 'Fri, 01 Jan 2027 00:00:00 GMT' });
  });

  it('another hash is a 301 to the current one; the current ETag is a 304; without a hash it must be revalidated', async () => {
    const url = await index();
    const hash = url.split('?hash=')[1]!;
    const moved = await get(PATH, {}, { hash: 'OLD' });
    expect(moved).toMatchObject({ status: 301, headers: { location: url } });
    expect((await get(PATH, { 'if-none-match': `"${hash}"` })).status).toBe(304);
    expect((await get(PATH)).headers['cache-control']).toBe('no-cache, private');
    expect((await get('/openapi/v3/apis/apps/v1')).status).toBe(404);
  });

  it('each kind and list schema carries its group-version-kind, metadata by reference to ObjectMeta', async () => {
    const doc = JSON.parse((await get(PATH)).body);
    const schemas = doc.components.schemas;
    for (const k of KINDS) {
      const s = schemas[`dev.clusterless.v1alpha1.${k.kind}`];
      expect(s['x-kubernetes-group-version-kind']).toEqual([{ group: 'clusterless.dev', version: 'v1alpha1', kind: k.kind }]);
      expect(s.properties.metadata.allOf).toEqual([{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
      expect(schemas[`dev.clusterless.v1alpha1.${k.kind}List`]['x-kubernetes-group-version-kind'][0].kind).toBe(`${k.kind}List`);
    }
    expect(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference'].required).toEqual(['apiVersion', 'kind', 'name', 'uid']);
    // Every $ref resolves inside the document.
    for (const m of JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(schemas|responses)\/([^"]+)"/g)) expect(doc.components[m[1]!][m[2]!]).toBeDefined();
  });

  it('every PATCH of a kind names its action, its kind and an inline fieldValidation parameter (what kubectl verifies)', async () => {
    const doc = JSON.parse((await get(PATH)).body);
    const item = doc.paths['/apis/clusterless.dev/v1alpha1/namespaces/{namespace}/machinedeployments/{name}'];
    expect(item.patch['x-kubernetes-action']).toBe('patch');
    expect(item.patch['x-kubernetes-group-version-kind']).toEqual({ group: 'clusterless.dev', version: 'v1alpha1', kind: 'MachineDeployment' });
    expect(item.patch.parameters).toContainEqual(expect.objectContaining({ name: 'fieldValidation', in: 'query' }));
    expect(item.get['x-kubernetes-action']).toBe('get');
    expect(doc.paths['/apis/clusterless.dev/v1alpha1/machinedeployments'].get['x-kubernetes-action']).toBe('list');
  });
});
