/**
 * The provider registry (functions/api/providers): the Cluster's and the MachineClass's provider fields, their CRDs
 * and the rules the planners ask are built from PROVIDERS, so every registered provider is in each of them.
 */
import { describe, expect, it } from 'vitest';
import { customResourceDefinition } from '../../../functions/adapters/kubernetes/crds.js';
import { ClusterKind, type Cluster } from '../../../functions/api/cluster.js';
import { MachineClassKind } from '../../../functions/api/machine-class.js';
import {
  PROVIDERS,
  bootstrapsWithKubeadm,
  classFailureDomains,
  controlPlaneLoadBalancerOf,
  providerFailureDomains,
  providerNameOf,
} from '../../../functions/api/providers/index.js';
import { failureDomainsOf } from '../../../functions/core/cluster/failure-domains.js';
import { managesLoadBalancer } from '../../../functions/core/cluster/infrastructure.js';
import { full, minimal } from './fixtures.js';

type Schema = { properties?: Record<string, Schema> };
const openApi = (def: Parameters<typeof customResourceDefinition>[0]) =>
  (customResourceDefinition(def).spec['versions'] as { schema: { openAPIV3Schema: Schema } }[])[0]!.schema.openAPIV3Schema;

const parseCluster = (manifest: unknown): Cluster => ClusterKind.schema.parse(manifest) as Cluster;

describe('provider registry', () => {
  it.each(PROVIDERS.map((p) => ({ name: p.name })))('$name is a key of Cluster.spec.provider and of MachineClass.spec in the CRDs', ({ name }) => {
    // Prepare / Act
    const cluster = openApi(ClusterKind).properties!['spec']!.properties!['provider']!.properties!;
    const machineClass = openApi(MachineClassKind).properties!['spec']!.properties!;
    // Assess
    expect(Object.keys(cluster)).toContain(name);
    expect(Object.keys(machineClass)).toContain(name);
  });

  it('lists every registered provider, and only those, in the CRDs and in the message of a spec that names none', () => {
    const names = PROVIDERS.map((p) => p.name).sort();
    expect(Object.keys(openApi(ClusterKind).properties!['spec']!.properties!['provider']!.properties!).sort()).toEqual(names);
    expect(Object.keys(openApi(MachineClassKind).properties!['spec']!.properties!).sort()).toEqual(names);
    const r = MachineClassKind.schema.safeParse({ ...minimal.MachineClass(), spec: {} });
    expect(r.success).toBe(false);
    for (const name of names) expect(r.error!.issues[0]!.message).toContain(name);
  });

  it('a Cluster that names no provider is a sim cluster', () => {
    const cluster = parseCluster(minimal.Cluster());
    expect(providerNameOf(cluster.spec.provider)).toBe('sim');
    expect(bootstrapsWithKubeadm(cluster.spec.provider)).toBe(false);
    expect(controlPlaneLoadBalancerOf(cluster.spec.provider)).toBeUndefined();
  });

  it('answers for the aws provider what the planners used to read from spec.provider.aws', () => {
    // Prepare
    const cluster = parseCluster(full.awsCluster());
    // Act / Assess
    expect(providerNameOf(cluster.spec.provider)).toBe('aws');
    expect(providerFailureDomains(cluster.spec.provider)).toEqual(['eu-west-1a', 'eu-west-1b']);
    expect(failureDomainsOf(cluster)).toEqual({ 'eu-west-1a': { controlPlane: true }, 'eu-west-1b': { controlPlane: true } });
    expect(bootstrapsWithKubeadm(cluster.spec.provider)).toBe(true);
    expect(controlPlaneLoadBalancerOf(cluster.spec.provider)).toEqual({
      scheme: 'internet-facing',
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    });
    expect(managesLoadBalancer(cluster)).toBe(true);
  });

  it('a cluster that brings its own target group gets no load balancer made, but its group is named', () => {
    const manifest = full.awsCluster() as { spec: { provider: { aws: { controlPlaneLoadBalancer: unknown } } } };
    manifest.spec.provider.aws.controlPlaneLoadBalancer = { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x/1' };
    const cluster = parseCluster(manifest);
    expect(controlPlaneLoadBalancerOf(cluster.spec.provider)?.targetGroupArn).toBe('arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x/1');
    expect(managesLoadBalancer(cluster)).toBe(false);
  });

  it("reads a class's failure domains from its provider", () => {
    const sim = MachineClassKind.schema.parse({ ...minimal.MachineClass(), spec: { sim: { failureDomains: ['zone-b'] } } });
    expect(classFailureDomains(sim.spec)).toEqual(['zone-b']);
    const aws = MachineClassKind.schema.parse(full.awsMachineClass());
    expect(classFailureDomains(aws.spec)).toEqual(aws.spec.aws!.failureDomains);
  });
});
