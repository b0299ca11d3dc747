import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../../../functions/api/cluster.js';
import type { ClusterResourceSetBinding, StoredClusterResourceSet } from '../../../../functions/api/cluster-resource-set.js';
import { API_VERSION } from '../../../../functions/api/common.js';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import { newBinding, recordAddonResults } from '../../../../functions/core/addons/binding.js';
import { bindingRecords, isOwnBinding, matchingClusterResourceSets, planAddons, type AddonsScope } from '../../../../functions/core/addons/planner.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const cluster = (labels: Record<string, string> = { cni: 'calico' }, extra: Partial<Cluster['metadata']> = {}): Cluster =>
  ({ apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: 'prod', namespace: 'default', uid: 'uid-prod', labels, ...extra }, spec: {} }) as Cluster;
const controlPlane = (initialized = true): ControlPlane =>
  ({
    apiVersion: API_VERSION,
    kind: 'ControlPlane',
    metadata: { name: 'prod-cp', namespace: 'default' },
    spec: {},
    status: { initialized },
  }) as unknown as ControlPlane;
const set = (
  name: string,
  o: { selector?: Record<string, string>; strategy?: 'ApplyOnce' | 'Reconcile'; resources?: [string, string][]; namespace?: string; deleting?: boolean } = {},
): StoredClusterResourceSet => ({
  apiVersion: API_VERSION,
  kind: 'ClusterResourceSet',
  metadata: { name, namespace: o.namespace ?? 'default', ...(o.deleting ? { deletionTimestamp: '2026-03-01T09:00:00Z' } : {}) },
  spec: {
    clusterSelector: o.selector === undefined ? { matchLabels: { cni: 'calico' } } : { matchLabels: o.selector },
    strategy: o.strategy ?? 'ApplyOnce',
    resources: (o.resources ?? [['calico', 'sha256:a']]).map(([n, digest]) => ({ name: n, digest, size: 10 })),
  },
});
const scope = (over: Partial<AddonsScope> = {}): AddonsScope => ({
  cluster: cluster(),
  controlPlane: controlPlane(),
  clusterResourceSets: [set('cni')],
  apiAnswers: true,
  ...over,
});
const applied = (setName: string, results: { name: string; hash: string; applied: boolean }[], base?: ClusterResourceSetBinding) =>
  recordAddonResults(cluster(), base ?? newBinding(cluster()), setName, results, NOW);

describe('which ClusterResourceSets select a cluster', () => {
  it.each([
    { name: 'a matching selector selects', sets: [set('cni')], want: ['cni'] },
    { name: 'an empty selector selects none (as Cluster API)', sets: [set('all', { selector: {} })], want: [] },
    { name: 'a selector of other labels selects none', sets: [set('cilium', { selector: { cni: 'cilium' } })], want: [] },
    { name: 'a set of another namespace selects none', sets: [set('cni', { namespace: 'team-b' })], want: [] },
    { name: 'a set being deleted selects none', sets: [set('cni', { deleting: true })], want: [] },
    { name: 'several sets come in name order', sets: [set('z-csi'), set('a-cni')], want: ['a-cni', 'z-csi'] },
  ])('$name', ({ sets, want }) => {
    expect(matchingClusterResourceSets(cluster(), sets).map((s) => s.metadata.name)).toEqual(want);
  });
});

describe('planAddons', () => {
  it('applies every resource of a matching set once the API answers, in the set order', () => {
    const plan = planAddons(
      scope({
        clusterResourceSets: [
          set('cni', {
            resources: [
              ['ns', 'sha256:1'],
              ['calico', 'sha256:2'],
            ],
          }),
        ],
      }),
    );
    expect(plan.actions).toEqual([
      {
        type: 'ApplyClusterResourceSet',
        cluster: { kind: 'Cluster', namespace: 'default', name: 'prod', uid: 'uid-prod' },
        clusterResourceSet: 'cni',
        resources: [
          { name: 'ns', hash: 'sha256:1' },
          { name: 'calico', hash: 'sha256:2' },
        ],
      },
    ]);
  });

  it.each([
    { name: 'the control plane is not initialized', over: { controlPlane: controlPlane(false) } },
    { name: 'there is no control plane', over: { controlPlane: undefined } },
    { name: 'the API did not answer in this observation', over: { apiAnswers: false } },
  ])('applies nothing while $name', ({ over }) => {
    const plan = planAddons({ ...scope(), ...over } as AddonsScope);
    expect(plan.actions).toEqual([]);
    expect(plan.notes.join()).toContain('wait for its API');
  });

  it('applies nothing to a cluster no set selects', () => {
    expect(planAddons(scope({ cluster: cluster({ cni: 'cilium' }) })).actions).toEqual([]);
  });

  it('ApplyOnce: a resource applied once is not applied again, even after its content changed', () => {
    const binding = applied('cni', [{ name: 'calico', hash: 'sha256:a', applied: true }]);
    const changed = set('cni', { resources: [['calico', 'sha256:b']] });
    expect(planAddons(scope({ binding, clusterResourceSets: [changed] })).actions).toEqual([]);
  });

  it('Reconcile: a resource is applied again when its hash changes, and not while it stays', () => {
    const binding = applied('cni', [{ name: 'calico', hash: 'sha256:a', applied: true }]);
    const same = set('cni', { strategy: 'Reconcile', resources: [['calico', 'sha256:a']] });
    expect(planAddons(scope({ binding, clusterResourceSets: [same] })).actions).toEqual([]);
    const changed = set('cni', { strategy: 'Reconcile', resources: [['calico', 'sha256:b']] });
    expect(planAddons(scope({ binding, clusterResourceSets: [changed] })).actions).toMatchObject([{ resources: [{ name: 'calico', hash: 'sha256:b' }] }]);
  });

  it('a resource added to an ApplyOnce set is applied, the applied ones are not', () => {
    const binding = applied('cni', [{ name: 'calico', hash: 'sha256:a', applied: true }]);
    const grown = set('cni', {
      resources: [
        ['calico', 'sha256:a'],
        ['extra', 'sha256:e'],
      ],
    });
    expect(planAddons(scope({ binding, clusterResourceSets: [grown] })).actions).toMatchObject([{ resources: [{ name: 'extra' }] }]);
  });

  it('a failed resource is due again on the next reconcile (retried), ApplyOnce included', () => {
    const binding = applied('cni', [{ name: 'calico', hash: 'sha256:a', applied: false }]);
    expect(planAddons(scope({ binding })).actions).toMatchObject([{ resources: [{ name: 'calico', hash: 'sha256:a' }] }]);
  });

  it('a binding left by an earlier cluster of the same name (another uid) counts nothing as applied', () => {
    const binding = applied('cni', [{ name: 'calico', hash: 'sha256:a', applied: true }]);
    const reborn = cluster({ cni: 'calico' }, { uid: 'uid-new' });
    expect(planAddons(scope({ cluster: reborn, binding })).actions).toHaveLength(1);
  });

  it("deletes the cluster's binding when the cluster is being deleted, and applies nothing", () => {
    const binding = { ...applied('cni', []), metadata: { ...newBinding(cluster()).metadata, uid: 'b' } };
    const plan = planAddons(scope({ cluster: cluster({ cni: 'calico' }, { deletionTimestamp: '2026-03-01T09:00:00Z' }), binding }));
    expect(plan.actions).toEqual([]);
    expect(plan.writes).toEqual([
      { type: 'Delete', ref: { kind: 'ClusterResourceSetBinding', namespace: 'default', name: 'prod', uid: 'b' }, reason: expect.any(String) },
    ]);
  });
});

describe('recordAddonResults', () => {
  it('records each result with its hash and time, and ResourcesApplied True when all are applied', () => {
    const b = applied('cni', [{ name: 'calico', hash: 'sha256:a', applied: true }]);
    expect(b.status?.bindings).toEqual([
      { clusterResourceSetName: 'cni', resources: [{ name: 'calico', hash: 'sha256:a', applied: true, lastAppliedTime: '2026-03-01T10:00:00Z' }] },
    ]);
    expect(b.status?.conditions).toMatchObject([{ type: 'ResourcesApplied', status: 'True', reason: 'Applied' }]);
  });

  it('records a failure as ResourcesApplied False with the message, and the resource not applied', () => {
    const b = recordAddonResults(
      cluster(),
      newBinding(cluster()),
      'cni',
      [{ name: 'calico', hash: 'sha256:a', applied: false, reason: 'ApplyFailed', message: 'document 2 (DaemonSet kube-system/calico-node): 422: invalid' }],
      NOW,
    );
    expect(b.status?.bindings?.[0]?.resources[0]).toMatchObject({ name: 'calico', applied: false });
    expect(b.status?.conditions).toMatchObject([
      { type: 'ResourcesApplied', status: 'False', reason: 'ApplyFailed', message: 'cni/calico: document 2 (DaemonSet kube-system/calico-node): 422: invalid' },
    ]);
  });

  it('a retry that fails as before changes nothing (no write, so no reconcile loop)', () => {
    const fail = { name: 'calico', hash: 'sha256:a', applied: false, reason: 'ApplyFailed' as const, message: 'refused' };
    const first = recordAddonResults(cluster(), newBinding(cluster()), 'cni', [fail], NOW);
    const again = recordAddonResults(cluster(), first, 'cni', [fail], new Date(NOW.getTime() + 60_000));
    expect(again.status).toEqual(first.status);
  });

  it('keeps the records of other sets and resources', () => {
    const a = applied('cni', [{ name: 'calico', hash: 'sha256:a', applied: true }]);
    const b = recordAddonResults(cluster(), a, 'csi', [{ name: 'ebs', hash: 'sha256:e', applied: true }], NOW);
    expect(b.status?.bindings?.map((x) => x.clusterResourceSetName)).toEqual(['cni', 'csi']);
  });
});

describe('whose binding it is, and what it records', () => {
  const owned = (ref: { kind?: string; name?: string; uid?: string } | undefined): ClusterResourceSetBinding => {
    const b = newBinding(cluster());
    b.metadata.ownerReferences = ref ? [{ apiVersion: API_VERSION, kind: ref.kind ?? 'Cluster', name: ref.name ?? 'prod', uid: ref.uid ?? 'uid-prod' }] : [];
    return b;
  };

  it.each([
    { name: 'owned by this cluster (name and uid)', ref: {}, own: true },
    { name: 'owned by an earlier cluster of the same name (another uid)', ref: { uid: 'uid-earlier' }, own: false },
    { name: 'owned by something else of that name and uid', ref: { kind: 'ControlPlane' }, own: false },
    { name: 'owned by another cluster', ref: { name: 'staging' }, own: false },
    { name: 'owned by nothing', ref: undefined, own: false },
  ])('a binding $name is the cluster’s: $own', ({ ref, own }) => {
    expect(isOwnBinding(cluster(), owned(ref))).toBe(own);
  });

  it("reads the records of the set asked for only, and none of a binding that is not the cluster's", () => {
    // Prepare
    const binding = applied('cni', [{ name: 'calico', hash: 'sha256:a', applied: true }]);
    // Act, Assess
    expect(bindingRecords(cluster(), binding, 'cni')).toEqual([expect.objectContaining({ name: 'calico', hash: 'sha256:a', applied: true })]);
    expect(bindingRecords(cluster(), binding, 'csi')).toEqual([]);
    expect(bindingRecords(cluster({}, { uid: 'uid-other' }), binding, 'cni')).toEqual([]);
    expect(bindingRecords(cluster(), undefined, 'cni')).toEqual([]);
  });

  it('a deleting cluster deletes its binding, and writes nothing when it has none', () => {
    // Prepare
    const deleting = cluster({ cni: 'calico' }, { deletionTimestamp: '2026-03-01T09:00:00Z' });
    // Act
    const withBinding = planAddons(scope({ cluster: deleting, binding: applied('cni', [{ name: 'calico', hash: 'sha256:a', applied: true }]) }));
    const without = planAddons(scope({ cluster: deleting }));
    // Assess
    expect(withBinding.writes).toEqual([
      { type: 'Delete', ref: expect.objectContaining({ kind: 'ClusterResourceSetBinding', name: 'prod' }), reason: 'its Cluster is being deleted' },
    ]);
    expect(without.writes).toEqual([]);
    expect(without.actions).toEqual([]);
  });
});
