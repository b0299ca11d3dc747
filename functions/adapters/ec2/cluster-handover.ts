/**
 * The EC2 side of a move (functions/api/service/move.ts): a cluster's instances and their volumes change
 * installation by their installation tag, the one tag every describe, adoption and termination of the provider
 * checks. Only resources carrying the source installation's tag and the cluster's tag are touched; nothing is
 * launched or terminated. One CreateTags per resource set is atomic per resource, and both installations keep
 * the cluster paused while it runs, so a crash halfway leaves each resource with exactly one owner and a re-run
 * re-tags the rest.
 */
import { paginateDescribeInstances, type Ec2QueryClient, type Filter } from '../aws/ec2-query/index.js';
import { TagKeys, clusterTagValue, tagValue } from '../aws/tags.js';
import type { ClusterHandover } from '../../api/service/move.js';
import { LIVE_STATES, tagFilter } from './instance-tags.js';

/** CreateTags takes up to 1000 resources; smaller batches keep a throttled retry cheap. */
const BATCH = 200;

export class Ec2ClusterHandover implements ClusterHandover {
  constructor(private readonly client: Ec2QueryClient) {}

  async handOver(namespace: string, clusterName: string, from: string, to: string): Promise<string[]> {
    const instances = await this.owned(namespace, clusterName, from);
    const volumes = await this.volumesOf(namespace, clusterName, from);
    // Volumes first: the source's forget checks for instances still its own, so a crash between the two calls
    // leaves instances behind that hold the forget back until a re-run has re-tagged everything.
    const resources = [...volumes, ...instances];
    for (let i = 0; i < resources.length; i += BATCH)
      await this.client.send('CreateTags', { Resources: resources.slice(i, i + BATCH), Tags: [{ Key: TagKeys.installation, Value: to }] });
    return resources;
  }

  async owned(namespace: string, clusterName: string, installationId: string): Promise<string[]> {
    const filters: Filter[] = [
      tagFilter(TagKeys.cluster, clusterTagValue(namespace, clusterName)),
      tagFilter(TagKeys.installation, installationId),
      { Name: 'instance-state-name', Values: [...LIVE_STATES, 'shutting-down'] },
    ];
    const ids: string[] = [];
    // Every instance the provider launches carries a machine uid; one without it is not the cluster's.
    for await (const page of paginateDescribeInstances(this.client, { Filters: filters }))
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) if (i.InstanceId && tagValue(i.Tags, TagKeys.machineUid)) ids.push(i.InstanceId);
    return ids.sort();
  }

  /** The cluster's volumes with the installation's tag: two tag reads, as DescribeTags filters one key at a time. */
  private async volumesOf(namespace: string, clusterName: string, installationId: string): Promise<string[]> {
    const ofInstallation = await this.taggedVolumes(TagKeys.installation, installationId);
    if (ofInstallation.length === 0) return [];
    const ofCluster = new Set(await this.taggedVolumes(TagKeys.cluster, clusterTagValue(namespace, clusterName)));
    return ofInstallation.filter((v) => ofCluster.has(v)).sort();
  }

  private async taggedVolumes(key: string, value: string): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const filters: Filter[] = [
        { Name: 'resource-type', Values: ['volume'] },
        { Name: 'key', Values: [key] },
        { Name: 'value', Values: [value] },
      ];
      const out = await this.client.describeTags({ Filters: filters, ...(token ? { NextToken: token } : {}) });
      for (const t of out.Tags ?? []) if (t.ResourceId) ids.push(t.ResourceId);
      token = out.NextToken;
    } while (token);
    return ids;
  }
}
