/**
 * Adopting an instance that Cluster API's AWS provider (CAPA) launched: it gets clusterless's tags (machine uid,
 * cluster, installation, role), after which the provider's describe finds it and its create adopts it as a launch
 * that already happened. Nothing is launched, stopped or rebooted; only CreateTags is called.
 *
 * Note: an instance id comes from the caller, who could name any instance in the account. Only one that carries
 * CAPA's owned tag for the named Cluster API cluster (cluster-api-provider-aws api/v1beta2/tags.go,
 * NameAWSProviderOwned) and no other machine's or installation's tags is tagged: a stray or foreign instance is
 * never made clusterless's, and so never something a Machine's deletion could terminate.
 */
import { AdoptionRefusedError, CAPA_OWNED, CAPA_ROLE_TAG, capaOwnedTagKey } from '../../api/capi/import-plan.js';
import type { MachineRole } from '../../ports.js';
import type { Ec2QueryClient, Instance } from '../aws/ec2-query/index.js';
import { INSTANCE_NOT_FOUND, errorCode, toProviderError } from '../aws/errors.js';
import { TagKeys, clusterTagValue, kubernetesClusterTagKey, tagValue, toTagList } from '../aws/tags.js';
import { LIVE_STATES } from './instance-tags.js';

export interface CapaInstanceTarget {
  namespace: string;
  clusterName: string;
  machineName: string;
  machineUid: string;
  role: MachineRole;
  instanceId: string;
  /** The Cluster API cluster whose owned tag the instance must carry. */
  capaClusterName: string;
}

export type CapaAdoptionOutcome = { type: 'Tagged' } | { type: 'AlreadyAdopted' };

export class CapaInstanceAdoption {
  constructor(private readonly options: { client: Ec2QueryClient; installationId: string }) {}

  /** Whether the instance already carries this machine's tags (a finished adoption), without changing anything. */
  async isAdopted(target: Omit<CapaInstanceTarget, 'capaClusterName' | 'role' | 'machineName'>): Promise<boolean> {
    const instance = await this.instance(target.instanceId);
    return instance !== undefined && this.ownedByMachine(instance, target);
  }

  async adopt(target: CapaInstanceTarget): Promise<CapaAdoptionOutcome> {
    const instance = await this.instance(target.instanceId);
    if (!instance) throw new AdoptionRefusedError(`instance ${target.instanceId} does not exist`, 'instanceId');
    if (this.ownedByMachine(instance, target)) return { type: 'AlreadyAdopted' };
    if (tagValue(instance.Tags, capaOwnedTagKey(target.capaClusterName)) !== CAPA_OWNED)
      throw new AdoptionRefusedError(
        `instance ${target.instanceId} does not carry Cluster API AWS's tag ${capaOwnedTagKey(target.capaClusterName)}=${CAPA_OWNED}: only instances Cluster API launched for that cluster are adopted`,
        'instanceId',
      );
    for (const key of [TagKeys.machineUid, TagKeys.installation, TagKeys.cluster]) {
      const value = tagValue(instance.Tags, key);
      if (value !== undefined)
        throw new AdoptionRefusedError(
          `instance ${target.instanceId} is already tagged ${key}=${value}: it belongs to another clusterless machine`,
          'instanceId',
        );
    }
    if (!LIVE_STATES.includes(instance.State?.Name ?? ''))
      throw new AdoptionRefusedError(
        `instance ${target.instanceId} is ${instance.State?.Name ?? 'in no state'}: only a live instance is adopted`,
        'instanceId',
      );
    const capaRole = tagValue(instance.Tags, CAPA_ROLE_TAG);
    if (capaRole !== undefined && (capaRole === 'control-plane') !== (target.role === 'control-plane'))
      throw new AdoptionRefusedError(`instance ${target.instanceId} has Cluster API role ${capaRole}, the machine is a ${target.role} machine`, 'instanceId');
    // The tags machineTags gives a launched instance, but Name and the class's additional tags: CAPA's stay.
    // Note: its volumes keep CAPA's tags only; nothing of clusterless's reads a volume's tags.
    const tags = {
      [TagKeys.installation]: this.options.installationId,
      [TagKeys.cluster]: clusterTagValue(target.namespace, target.clusterName),
      [TagKeys.machineUid]: target.machineUid,
      [TagKeys.machineName]: target.machineName,
      [TagKeys.role]: target.role,
      [kubernetesClusterTagKey(target.clusterName)]: 'owned',
    };
    try {
      await this.options.client.createTags({ Resources: [target.instanceId], Tags: toTagList(tags) });
    } catch (e) {
      throw toProviderError(e);
    }
    return { type: 'Tagged' };
  }

  private ownedByMachine(instance: Instance, target: { namespace: string; clusterName: string; machineUid: string }): boolean {
    return (
      tagValue(instance.Tags, TagKeys.machineUid) === target.machineUid &&
      tagValue(instance.Tags, TagKeys.cluster) === clusterTagValue(target.namespace, target.clusterName) &&
      tagValue(instance.Tags, TagKeys.installation) === this.options.installationId
    );
  }

  private async instance(instanceId: string): Promise<Instance | undefined> {
    if (!/^i-[0-9a-f]{8,17}$/.test(instanceId))
      throw new AdoptionRefusedError(`"${instanceId}" is not an instance id such as i-0123456789abcdef0`, 'instanceId');
    try {
      const out = await this.options.client.describeInstances({ InstanceIds: [instanceId] });
      return out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
    } catch (e) {
      if (errorCode(e) === INSTANCE_NOT_FOUND) return undefined;
      throw toProviderError(e);
    }
  }
}
