/**
 * What the workflow tasks need, built once per Lambda container (handlers/tasks) or once per embedded host
 * (local/). The tasks know only these ports, never which host runs them.
 */
import type { Clock, MachineBootstrapper, MachineProvider, ManagedLoadBalancers, NodeDrainer, NodeReader, Store, TargetGroupRegistrations, Timer } from '../ports.js';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export interface WorkflowDeps {
  store: Store;
  provider: MachineProvider;
  nodes: NodeReader;
  drainer: NodeDrainer;
  clock: Clock;
  timer: Timer;
  log: Logger;
  /**
   * Who takes a cluster's lease for one reconcile: a fresh id on every call (invocationHolder), so that two
   * reconciles of one cluster in one process contend for the lease as two Lambdas do.
   */
  holder: () => string;
  /** How often the stepping workflows look again while waiting (seconds, before time-scaling). */
  pollSeconds?: number;
  /**
   * The kubeadm bootstrap of aws machines (certificates, bootstrap secrets, join tokens). Optional: without
   * it (the simulator, tests of other things) machines launch with no user data, as before.
   */
  bootstrap?: MachineBootstrapper;
  /**
   * Registers control-plane instances into a cluster's target group (ELBv2), the one clusterless made or the one
   * the cluster names. Optional: without it no instance is registered anywhere.
   */
  targetGroups?: TargetGroupRegistrations;
  /**
   * The control-plane load balancers clusterless makes for aws clusters that name no target group
   * (controlPlaneLoadBalancer without targetGroupArn). Optional: without it such clusters wait for one.
   */
  managedLoadBalancers?: ManagedLoadBalancers;
}

/**
 * Lease holders, one per call: `{prefix}/1`, `{prefix}/2`, ... The prefix names the process (a Lambda
 * container, a host), the counter the invocation. A holder shared by a whole process would renew the lease
 * for a second reconcile of the same cluster instead of refusing it (base-store's acquireLease renews for the
 * same holder), and the two would plan over each other.
 */
export function invocationHolder(prefix: string): () => string {
  let invocation = 0;
  return () => `${prefix}/${++invocation}`;
}

/** A timer for hosts whose clock is the wall clock, sped up by `timeScale` (the embedded host's --time-scale). */
export function scaledTimer(timeScale = 1, realNow: () => number = Date.now): Timer {
  return { wakeAt: (seconds) => new Date(realNow() + (Math.max(0, seconds) * 1000) / timeScale).toISOString() };
}
