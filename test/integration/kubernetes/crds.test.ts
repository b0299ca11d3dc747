/**
 * crds/ on a real kube-apiserver: every CRD is accepted (structural schema, subresources, printer columns)
 * and established, and every object the API accepts survives the round trip through the CRD schema:
 * nothing pruned, nothing defaulted differently, nothing refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesMirror } from '../../../functions/adapters/kubernetes/index.js';
import { KINDS } from '../../../functions/api/kinds.js';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { startKube, type RunningKube } from '../../support/kube.js';
import { full, minimal, KIND_NAMES } from '../../unit/api/fixtures.js';
import { apiCreate } from './fixtures.js';

let kube: RunningKube;

beforeAll(async () => {
  kube = await startKube();
  await kube.installCrds();
});

afterAll(async () => {
  await kube?.stop();
});

interface Crd {
  metadata: { name: string };
  spec: { names: { shortNames?: string[] }; versions: { name: string; subresources?: Record<string, unknown> }[] };
  status: { conditions: { type: string; status: string; reason: string; message: string }[] };
}

describe('CRDs on a real kube-apiserver', () => {
  it.each(KINDS.map((k) => ({ kind: k.kind, plural: k.plural, scale: !!k.scale })))(
    '$kind: accepted, names accepted and established',
    async ({ plural, scale }) => {
      const crd = JSON.parse(await kube.kubectlOk(['get', 'crd', `${plural}.clusterless.dev`, '-o', 'json'])) as Crd;
      const conditions = Object.fromEntries(crd.status.conditions.map((c) => [c.type, c.status]));
      expect(conditions).toMatchObject({ NamesAccepted: 'True', Established: 'True' });
      // The API server drops what it does not understand: the subresources must have survived.
      expect(Object.keys(crd.spec.versions[0]!.subresources ?? {}).sort()).toEqual(scale ? ['scale', 'status'] : ['status']);
    },
  );

  it('explains the kinds from the schema descriptions (kubectl explain)', async () => {
    const out = await kube.kubectlOk(['explain', 'machinedeployment.spec.clusterName']);
    expect(out).toContain('Name of the Cluster this object belongs to.');
  });

  const store = new MemoryStore();
  const manifests = [
    ...KIND_NAMES.map((k) => ({ name: `minimal ${k}`, manifest: minimal[k]() })),
    ...Object.entries(full).map(([name, make]) => ({ name: `full ${name}`, manifest: make() })),
  ];
  it.each(manifests)('$name round-trips through the CRD schema unchanged', async ({ manifest }) => {
    // Prepare: the object as the API stores it, defaults filled
    const { status: _status, ...body } = manifest as Record<string, unknown>;
    const obj = await apiCreate(store, body);
    // Act
    await new KubernetesMirror({ kubeconfig: kube.mirrorKubeconfig }).apply(obj);
    // Assess
    const there = JSON.parse(
      await kube.kubectlOk(['get', `${obj.kind.toLowerCase()}.clusterless.dev`, obj.metadata.name, '-n', obj.metadata.namespace, '-o', 'json']),
    ) as {
      spec: unknown;
      metadata: { labels?: unknown };
    };
    expect(there.spec).toEqual(obj.spec);
    expect(there.metadata.labels).toEqual(obj.metadata.labels);
  });
});
