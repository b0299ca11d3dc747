/**
 * The embedded host holds writes to the installation's replica limit (`clusterless up --max-replicas`), as the
 * AWS stack does through MAX_MACHINE_DEPLOYMENT_REPLICAS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import { startEmbeddedHost, type EmbeddedHost } from '../../../local/embedded-host.js';
import { machineDeployment, ns } from '../../unit/http/fixtures.js';

let host: EmbeddedHost;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'clusterless-limits-'));
  host = await startEmbeddedHost({ port: 0, dataDir, maxMachineDeploymentReplicas: 5, sweepSeconds: 3600 });
});

afterAll(async () => {
  await host?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const post = (body: unknown) =>
  fetch(host.url + ns('default', 'machinedeployments'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the embedded host given a replica limit of 5 (maxMachineDeploymentReplicas, what up --max-replicas 5 passes)', () => {
  it('refuses a MachineDeployment of 6 replicas with 422 naming spec.replicas, and takes one of 5', async () => {
    const md = machineDeployment() as MachineDeployment;
    const over = await post({ ...md, metadata: { ...md.metadata, name: 'over' }, spec: { ...md.spec, replicas: 6 } });
    expect(over.status).toBe(422);
    expect(((await over.json()) as { details: { causes: unknown[] } }).details.causes).toEqual([expect.objectContaining({ field: 'spec.replicas' })]);
    const within = await post({ ...md, metadata: { ...md.metadata, name: 'within' }, spec: { ...md.spec, replicas: 5 } });
    expect(within.status).toBe(201);
    const list = (await (await fetch(host.url + ns('default', 'machinedeployments'))).json()) as { items: { metadata: { name: string } }[] };
    expect(list.items.map((i) => i.metadata.name)).toEqual(['within']);
  });
});
