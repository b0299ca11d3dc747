import type { InstanceFact, NodeCondition, NodeFact } from '../../core/observed.js';
import { NodeReaderUnavailableError, ProviderError, type Clock, type MachineProvider, type NodeReader } from '../../ports.js';
import type { NodeConditionInput } from './sim-cloud.js';

export interface SimulatedNodesOptions {
  /** Any provider: the nodes are derived from its instances (e.g. ec2 on moto, where no kubelet can join). */
  provider: MachineProvider;
  clock: Clock;
  /** Seconds from an instance's launch to its node being Ready. @default 10 */
  readySeconds?: number;
}

/**
 * A NodeReader that invents the nodes of any MachineProvider's instances (`--nodes sim`): a node registers
 * (NotReady) when its instance runs, and is Ready readySeconds after the instance's launchTime. Readiness is
 * derived from launchTime rather than from when this process first saw the instance, so it survives restarts;
 * only an instance without a launchTime falls back to first-seen-running. A stopped or stopping instance's
 * node is Unknown (its kubelet stopped posting), a terminated instance has none.
 *
 * Node conditions set with setNodeCondition (health-check tests) live in this process only.
 */
export class SimulatedNodes implements NodeReader {
  private readonly provider: MachineProvider;
  private readonly clock: Clock;
  private readonly readyMs: number;
  private readonly firstSeenRunning = new Map<string, number>();
  private readonly overrides = new Map<string, NodeCondition[]>();

  constructor(options: SimulatedNodesOptions) {
    this.provider = options.provider;
    this.clock = options.clock;
    this.readyMs = (options.readySeconds ?? 10) * 1000;
  }

  async listNodes(namespace: string, clusterName: string): Promise<NodeFact[]> {
    let instances: InstanceFact[];
    try {
      instances = await this.provider.describe(namespace, clusterName);
    } catch (e) {
      if (e instanceof ProviderError)
        throw new NodeReaderUnavailableError(`cannot list the instances of ${namespace}/${clusterName}: ${e.message}`, { cause: e });
      throw e;
    }
    const now = this.clock.now().getTime();
    return instances.flatMap((i) => {
      const node = this.node(i, now);
      return node ? [node] : [];
    });
  }

  /** Sets a node condition of the node named by providerID, instance id or node name, until cleared. */
  setNodeCondition(target: string, condition: NodeConditionInput): void {
    const at = this.clock.now().toISOString();
    const previous = this.overrides.get(target) ?? [];
    const same = previous.find((c) => c.type === condition.type && c.status === condition.status);
    const next: NodeCondition = {
      type: condition.type,
      status: condition.status,
      lastTransitionTime: same?.lastTransitionTime ?? at,
      ...(condition.reason !== undefined ? { reason: condition.reason } : {}),
      ...(condition.message !== undefined ? { message: condition.message } : {}),
    };
    this.overrides.set(target, [...previous.filter((c) => c.type !== condition.type), next]);
  }

  clearNodeCondition(target: string, type?: string): void {
    const left = type === undefined ? [] : (this.overrides.get(target) ?? []).filter((c) => c.type !== type);
    if (left.length) this.overrides.set(target, left);
    else this.overrides.delete(target);
  }

  private node(i: InstanceFact, now: number): NodeFact | undefined {
    if (i.state === 'pending' || i.state === 'terminated') {
      this.firstSeenRunning.delete(i.instanceId);
      return undefined;
    }
    const name = i.addresses?.find((a) => a.type === 'InternalDNS')?.address ?? i.instanceId;
    const base = { name, uid: `node-${i.instanceId}`, providerID: i.providerID };
    if (i.state !== 'running') {
      // shutting-down, stopping, stopped: the kubelet is gone.
      const since = new Date(now).toISOString();
      return {
        ...base,
        conditions: ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
          type,
          status: 'Unknown' as const,
          lastTransitionTime: since,
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
        })),
      };
    }
    let registeredAt = i.launchTime !== undefined ? Date.parse(i.launchTime) : undefined;
    if (registeredAt === undefined || Number.isNaN(registeredAt)) {
      registeredAt = this.firstSeenRunning.get(i.instanceId) ?? now;
      this.firstSeenRunning.set(i.instanceId, registeredAt);
    }
    const readyAt = registeredAt + this.readyMs;
    const registered = new Date(registeredAt).toISOString();
    const simulated: NodeCondition[] = [
      now >= readyAt
        ? {
            type: 'Ready',
            status: 'True',
            lastTransitionTime: new Date(readyAt).toISOString(),
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status',
          }
        : { type: 'Ready', status: 'False', lastTransitionTime: registered, reason: 'KubeletNotReady', message: 'container runtime network not ready' },
      { type: 'MemoryPressure', status: 'False', lastTransitionTime: registered, reason: 'KubeletHasSufficientMemory' },
      { type: 'DiskPressure', status: 'False', lastTransitionTime: registered, reason: 'KubeletHasNoDiskPressure' },
      { type: 'PIDPressure', status: 'False', lastTransitionTime: registered, reason: 'KubeletHasSufficientPID' },
    ];
    const overrides = [i.providerID, i.instanceId, name].flatMap((k) => this.overrides.get(k) ?? []);
    return {
      ...base,
      conditions: [
        ...simulated.map((c) => overrides.find((o) => o.type === c.type) ?? c),
        ...overrides.filter((o) => !simulated.some((c) => c.type === o.type)),
      ],
    };
  }
}
