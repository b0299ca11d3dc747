/**
 * What one machine provider brings to the API and the planners: the schema of its part of Cluster.spec.provider
 * (`{ <name>: {...} }`) and of MachineClass.spec (`{ <name>: {...} }`), and the domain rules core asks it
 * instead of reading the settings itself. Cluster API keeps these in an InfrastructureCluster and an
 * InfrastructureMachineTemplate per provider (e.g. CAPA's AWSCluster, AWSMachineTemplate); here they are one
 * field of the Cluster and of the MachineClass, so that `spec: {}` is a whole simulated cluster.
 */
import type { z } from 'zod';
import type { FieldCause, PrinterColumn } from '../kind.js';

/** The control-plane load balancer a cluster's provider settings ask for. */
export interface ControlPlaneLoadBalancer {
  scheme: 'internet-facing' | 'internal';
  /** Where its nodes go: the cluster's subnets, one per zone. */
  subnetIds: string[];
  /** A target group the cluster brings; without it clusterless makes the load balancer and its target group. */
  targetGroupArn?: string;
}

export interface ProviderDefinition<Name extends string = string, ClusterSchema extends z.ZodType = z.ZodType, ClassSchema extends z.ZodType = z.ZodType> {
  /** The key under Cluster.spec.provider and MachineClass.spec. */
  readonly name: Name;
  /** Cluster.spec.provider.<name>. */
  readonly clusterSchema: ClusterSchema;
  /** MachineClass.spec.<name>. */
  readonly machineClassSchema: ClassSchema;
  /** The cluster's failure domains (zones), in the order its settings list them. */
  failureDomains(settings: z.output<ClusterSchema>): string[];
  /** The zones a MachineClass restricts its machines to; empty means no restriction. */
  classFailureDomains(settings: z.output<ClassSchema>): string[];
  /** What an update of the cluster's settings may not change (paths under spec.provider.<name>). */
  validateUpdate(oldSettings: z.output<ClusterSchema>, newSettings: z.output<ClusterSchema>): FieldCause[];
  /** Whether clusterless bootstraps the machines with kubeadm (certificates, bootstrap secrets, join tokens). */
  readonly kubeadmBootstrap: boolean;
  /** The control-plane load balancer the settings ask for; undefined when they ask for none. */
  controlPlaneLoadBalancer(settings: z.output<ClusterSchema>): ControlPlaneLoadBalancer | undefined;
  /** The MachineClass columns `clusterless get machineclasses` (and kubectl, through the CRD) shows for it. */
  readonly machineClassPrinterColumns: readonly PrinterColumn[];
}

export function defineProvider<Name extends string, ClusterSchema extends z.ZodType, ClassSchema extends z.ZodType>(
  def: ProviderDefinition<Name, ClusterSchema, ClassSchema>,
): ProviderDefinition<Name, ClusterSchema, ClassSchema> {
  return def;
}
