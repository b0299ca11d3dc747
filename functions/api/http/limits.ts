/**
 * Limits an installation puts on what the API accepts, beyond what makes an object valid. A replica count of
 * a million is a valid int32, but a reconcile that tries to launch it would stall the control plane and the
 * account; the API refuses it up front with a 422 naming spec.replicas.
 */
import type { ApiObject, FieldCause } from '../kind.js';
import { cause } from '../kind.js';
import { INT32_MAX } from '../common.js';

export interface ApiLimits {
  /**
   * The most replicas one MachineDeployment may ask for through the API; MachineSets and ControlPlanes are held
   * to it too, since each asks for that many machines at once. Controllers writing through the Store are not
   * held to it (a rollout's surge may go past it for a while).
   * @default 1000
   */
  maxMachineDeploymentReplicas?: number;
}

export const DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS = 1000;

/** The environment variable the HTTP handler reads the limit from (the embedded host takes a flag). */
export const MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV = 'MAX_MACHINE_DEPLOYMENT_REPLICAS';

const REPLICATED_KINDS: ReadonlySet<string> = new Set(['MachineDeployment', 'MachineSet', 'ControlPlane']);

/**
 * Reads a configured limit (an environment variable, a flag): unset or empty is the default; anything but a
 * whole number from 1 to 2147483647 throws, so that a typo stops the host instead of lifting the limit.
 */
export function parseReplicaLimit(text: string | undefined, source: string): number {
  if (text === undefined || text.trim() === '') return DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS;
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > INT32_MAX)
    throw new Error(`${source} must be a whole number from 1 to ${INT32_MAX}, not ${JSON.stringify(text)}`);
  return n;
}

/**
 * The cause to refuse `next` with, if its replicas exceed the limit. An update that does not raise replicas
 * is never refused (Kubernetes calls this ratcheting), so lowering the limit never locks an existing object:
 * its labels can still change and it can still be scaled down.
 */
export function replicaLimitCauses(next: ApiObject, old: ApiObject | undefined, limits: ApiLimits | undefined): FieldCause[] {
  if (!REPLICATED_KINDS.has(next.kind)) return [];
  const max = limits?.maxMachineDeploymentReplicas ?? DEFAULT_MAX_MACHINE_DEPLOYMENT_REPLICAS;
  const replicas = replicasOf(next);
  if (replicas === undefined || replicas <= max) return [];
  const before = old ? replicasOf(old) : undefined;
  if (before !== undefined && replicas <= before) return [];
  return [
    cause.invalid(
      'spec.replicas',
      replicas,
      `must be less than or equal to ${max}, the most replicas this installation allows (${MAX_MACHINE_DEPLOYMENT_REPLICAS_ENV})`,
    ),
  ];
}

function replicasOf(obj: ApiObject): number | undefined {
  const r = (obj.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof r === 'number' ? r : undefined;
}
