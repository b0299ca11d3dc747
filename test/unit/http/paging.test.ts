/**
 * Lists come in pages, as kube-apiserver serves them to kubectl and client-go: `limit` and `continue` on every
 * list, `metadata.continue` while more remain, selectors applied while paging, and no response larger than
 * Lambda's 6 MB payload.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { BASE, api, machineDeployment, ns, type Api } from './fixtures.js';

const MDS = ns('default', 'machinedeployments');
const padded = (i: number) => `md-${String(i).padStart(4, '0')}`;
/** Lambda's limit on a synchronous response payload. */
const LAMBDA_PAYLOAD = 6 * 1024 * 1024;

/** The proxy result API Gateway gets from Lambda for this response: what must fit in the payload limit. */
const payloadBytes = (res: { status: number; headers: Record<string, string>; body: string }) =>
  Buffer.byteLength(JSON.stringify({ statusCode: res.status, headers: res.headers, body: res.body, isBase64Encoded: false }));

/** Stores objects directly: the paging, not the create path, is under test (and 1,001 creates stay fast). */
async function seed(a: Api, count: number, make: (i: number) => ApiObject = (i) => machineDeployment(padded(i))): Promise<void> {
  for (let i = 0; i < count; i++) await a.store.create(make(i));
}

/** Follows `continue` from the first page; returns every page's names and the tokens seen. */
async function follow(a: Api, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const res = await a.call('GET', path, undefined, headers, { ...query, ...(token ? { continue: token } : {}) });
    expect(res.status, res.body.slice(0, 300)).toBe(200);
    const body = headers['accept']?.includes('yaml') ? parseYaml(res.body) : res.json;
    pages.push(body.items.map((o: ApiObject) => `${o.metadata.namespace}/${o.metadata.name}`));
    token = body.metadata.continue;
  } while (token && pages.length < 2000);
  return pages;
}

describe('list paging', () => {
  let a: Api;
  beforeEach(() => {
    a = api();
  });

  it('pages a namespaced list with limit and continue, metadata.continue only while more remain', async () => {
    await seed(a, 7);
    await a.store.create(machineDeployment('md-other', 'team-b'));
    const first = await a.call('GET', MDS, undefined, {}, { limit: '3' });
    expect(first.json).toMatchObject({ kind: 'MachineDeploymentList', metadata: { continue: expect.any(String) } });
    expect(first.json.items.map((o: ApiObject) => o.metadata.name)).toEqual([0, 1, 2].map(padded));
    const pages = await follow(a, MDS, { limit: '3' });
    expect(pages).toEqual([[0, 1, 2], [3, 4, 5], [6]].map((p) => p.map((i) => `default/${padded(i)}`)));
    const last = await a.call(
      'GET',
      MDS,
      undefined,
      {},
      { limit: '3', continue: (await a.call('GET', MDS, undefined, {}, { limit: '6' })).json.metadata.continue },
    );
    expect(last.json.metadata).toEqual({});
  });

  it('pages a list across namespaces', async () => {
    await seed(a, 3, (i) => machineDeployment(padded(i), 'team-b'));
    await seed(a, 2);
    expect(await follow(a, `${BASE}/machinedeployments`, { limit: '2' })).toEqual([
      ['default/md-0000', 'default/md-0001'],
      ['team-b/md-0000', 'team-b/md-0001'],
      ['team-b/md-0002'],
    ]);
  });

  it.each<{ name: string; query: Record<string, string> }>([
    { name: 'no limit', query: {} },
    { name: 'limit 0', query: { limit: '0' } },
    { name: 'a negative limit', query: { limit: '-1' } },
  ])('answers a list with $name in pages of 500, as kubectl chunks it', async ({ query }) => {
    await seed(a, 501);
    const res = await a.call('GET', MDS, undefined, {}, query);
    expect(res.json.items).toHaveLength(500);
    expect(res.json.metadata.continue).toEqual(expect.any(String));
    const rest = await a.call('GET', MDS, undefined, {}, { ...query, continue: res.json.metadata.continue });
    expect(rest.json.items.map((o: ApiObject) => o.metadata.name)).toEqual([padded(500)]);
  });

  it('clamps a limit over 1000 to 1000, and the pages still hold everything', async () => {
    await seed(a, 1001);
    const pages = await follow(a, MDS, { limit: '5000' });
    expect(pages.map((p) => p.length)).toEqual([1000, 1]);
  });

  it('applies label and field selectors while paging: pages may hold fewer than the limit, together every match once', async () => {
    await seed(a, 12, (i) => machineDeployment(padded(i), 'default', { labels: { pick: i % 3 === 0 ? 'yes' : 'no' } }));
    const byLabel = await follow(a, MDS, { limit: '2', labelSelector: 'pick=yes' });
    expect(byLabel.flat()).toEqual([0, 3, 6, 9].map((i) => `default/${padded(i)}`));
    expect(byLabel.every((p) => p.length <= 2)).toBe(true);
    const byField = await follow(a, MDS, { limit: '2', fieldSelector: `metadata.name!=${padded(0)}` });
    expect(byField.flat()).toHaveLength(11);
  });

  it('ends a page once it has read enough objects, even with nothing to show yet, and carries on from there', async () => {
    // Prepare: a store that reads at most 10 objects per page, and a selector that matches only the last one.
    a = api(undefined, new MemoryStore({ maxScannedPerPage: 10 }));
    await seed(a, 25, (i) => machineDeployment(padded(i), 'default', { labels: { pick: i === 24 ? 'yes' : 'no' } }));
    // Act
    const pages = await follow(a, MDS, { labelSelector: 'pick=yes' });
    // Assess
    expect(pages).toEqual([[], [], [`default/${padded(24)}`]]);
  });

  it.each<{ name: string; headers: Record<string, string>; query: Record<string, string> }>([
    { name: 'JSON', headers: {}, query: {} },
    { name: 'indented JSON (pretty)', headers: {}, query: { pretty: 'true' } },
    { name: 'YAML', headers: { accept: 'application/yaml' }, query: {} },
  ])("cuts a page short so that no $name response passes Lambda's 6 MB payload, with a continue for the rest", async ({ headers, query }) => {
    // Prepare: 30 objects of about 200 KB of quotes each, which every encoding escapes, some twice.
    const pad = '"\\'.repeat(70_000);
    await seed(a, 30, (i) => ({
      ...machineDeployment(padded(i)),
      metadata: { name: padded(i), namespace: 'default', annotations: { 'example.com/pad': pad } },
    }));
    // Act
    const res = await a.call('GET', MDS, undefined, headers, query);
    // Assess
    expect(res.status).toBe(200);
    expect(payloadBytes(res)).toBeLessThan(LAMBDA_PAYLOAD);
    const body = headers['accept'] ? parseYaml(res.body) : res.json;
    expect(body.items.length).toBeGreaterThan(0);
    expect(body.items.length).toBeLessThan(30);
    expect(body.metadata.continue).toEqual(expect.any(String));
    expect((await follow(a, MDS, query, headers)).flat()).toEqual(Array.from({ length: 30 }, (_, i) => `default/${padded(i)}`));
  });
});
