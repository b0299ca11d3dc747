/**
 * The CDK app (cdk.json: `npx tsx infra/app.ts`): the control plane, and an example fleet on request
 * (`-c fleet=example`), the functions that reach workload clusters in a VPC on request (`-c workloadNetwork=JSON`,
 * ControlPlaneStackProps.workloadNetwork), the machines' subnets and security groups by id on request
 * (`-c machineNetwork=JSON`, ControlPlaneStackProps.machineNetwork), checked by cdk-nag (AwsSolutions and the Clusterless IMDSv2/KMS pack) at every synth.
 * Env-agnostic: `npx cdk synth` needs no AWS credentials.
 */
import { pathToFileURL } from 'node:url';
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleFleetStack } from '../examples/fleet/fleet-stack.js';
import { ControlPlaneStack } from './control-plane-stack.js';
import type { MachineNetworkProps } from './constructs/ec2-permissions.js';
import type { WorkloadNetworkProps } from './constructs/workload-network.js';
import { ClusterlessChecks } from './nag/clusterless-checks.js';

/** `-c stackName=...`: the control plane stack's name (also the prefix of its state machines). */
export const DEFAULT_STACK_NAME = 'Clusterless';

export interface ClusterlessApp {
  app: App;
  controlPlane: ControlPlaneStack;
  fleet?: ExampleFleetStack;
}

export function createApp(props: AppProps = {}): ClusterlessApp {
  const app = new App(props);
  const stackName = String(app.node.tryGetContext('stackName') ?? DEFAULT_STACK_NAME);
  // Context given on the command line is a string; in cdk.json or a test, an object.
  const json = <T>(key: string): T | undefined => {
    const value = app.node.tryGetContext(key) as string | T | undefined;
    return typeof value === 'string' ? (JSON.parse(value) as T) : value;
  };
  const workloadNetwork = json<WorkloadNetworkProps>('workloadNetwork');
  const machineNetwork = json<MachineNetworkProps>('machineNetwork');
  const controlPlane = new ControlPlaneStack(app, stackName, {
    ...(workloadNetwork ? { workloadNetwork } : {}),
    ...(machineNetwork ? { machineNetwork } : {}),
  });
  const fleetContext = app.node.tryGetContext('fleet') as string | undefined;
  let fleet: ExampleFleetStack | undefined;
  if (fleetContext === 'example') fleet = new ExampleFleetStack(app, `${stackName}ExampleFleet`, { controlPlane });
  else if (fleetContext !== undefined) throw new Error(`-c fleet=${fleetContext}: the only fleet this app knows is "example" (examples/fleet)`);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ClusterlessChecks(app));
  return { app, controlPlane, ...(fleet ? { fleet } : {}) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) createApp().app.synth();
