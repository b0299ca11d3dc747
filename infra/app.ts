/**
 * The CDK app (cdk.json: `npx tsx infra/app.ts`): the control plane, and an example fleet on request
 * (`-c fleet=example`), the functions that reach workload clusters in a VPC on request (`-c workloadNetwork=JSON`,
 * ControlPlaneStackProps.workloadNetwork), the machines' subnets and security groups by id on request
 * (`-c machineNetwork=JSON`, ControlPlaneStackProps.machineNetwork), the mirror into a management cluster on request
 * (`-c mirror=true` or `-c mirror=JSON`, ControlPlaneStackProps.mirror: mirrorOptionsFromContext), checked by cdk-nag (AwsSolutions and the Clusterless IMDSv2/KMS pack) at every synth.
 * Env-agnostic: `npx cdk synth` needs no AWS credentials.
 */
import { pathToFileURL } from 'node:url';
import { App, Duration, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleFleetStack } from '../examples/fleet/fleet-stack.js';
import { ControlPlaneStack } from './control-plane-stack.js';
import type { MachineNetworkProps } from './constructs/ec2-permissions.js';
import type { MirrorOptions } from './constructs/mirror.js';
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
  const mirror = mirrorOptionsFromContext(app.node.tryGetContext('mirror'));
  const controlPlane = new ControlPlaneStack(app, stackName, {
    ...(workloadNetwork ? { workloadNetwork } : {}),
    ...(machineNetwork ? { machineNetwork } : {}),
    ...(mirror ? { mirror } : {}),
  });
  const fleetContext = app.node.tryGetContext('fleet') as string | undefined;
  let fleet: ExampleFleetStack | undefined;
  if (fleetContext === 'example') fleet = new ExampleFleetStack(app, `${stackName}ExampleFleet`, { controlPlane });
  else if (fleetContext !== undefined) throw new Error(`-c fleet=${fleetContext}: the only fleet this app knows is "example" (examples/fleet)`);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ClusterlessChecks(app));
  return { app, controlPlane, ...(fleet ? { fleet } : {}) };
}

/** A Secrets Manager name's characters (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,256}$/;

/**
 * ControlPlaneStackProps.mirror from `-c mirror=...`: `true` for the defaults, or JSON of MirrorOptions
 * (`{"kubeconfigSecretName":"mirror/mgmt","syncInterval":"PT5M"}`, the interval an ISO 8601 duration of whole
 * minutes, as Scheduler's rate() counts them); undefined when the key is absent or `false`. A bad value throws an
 * error naming the field, before anything is synthesized.
 */
export function mirrorOptionsFromContext(value: unknown): MirrorOptions | undefined {
  if (value === undefined || value === false || value === 'false') return undefined;
  if (value === true || value === 'true') return {};
  const bad = (why: string): never => {
    throw new Error(`-c mirror=${typeof value === 'string' ? value : JSON.stringify(value)}: ${why}`);
  };
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      bad('expected true or a JSON object such as {"kubeconfigSecretName":"mirror/kubeconfig","syncInterval":"PT1M"}');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return bad('expected true or a JSON object');
  const { kubeconfigSecretName, syncInterval, ...unknown } = parsed as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length > 0) bad(`unknown field ${extra[0]} (the fields are kubeconfigSecretName and syncInterval)`);
  const options: { kubeconfigSecretName?: string; syncInterval?: Duration } = {};
  if (kubeconfigSecretName !== undefined) {
    if (typeof kubeconfigSecretName !== 'string' || !SECRET_NAME.test(kubeconfigSecretName))
      bad('kubeconfigSecretName: a secret name relative to clusterless/<installation id>/ (1 to 256 letters, digits and /_+=.@-)');
    options.kubeconfigSecretName = kubeconfigSecretName as string;
  }
  if (syncInterval !== undefined) {
    let interval: Duration | undefined;
    let seconds = 0;
    try {
      interval = Duration.parse(String(syncInterval));
      seconds = interval.toSeconds();
    } catch {
      interval = undefined;
    }
    if (typeof syncInterval !== 'string' || !interval || seconds < 60 || seconds % 60 !== 0)
      bad('syncInterval: an ISO 8601 duration of whole minutes, at least PT1M (Scheduler runs rate() in minutes)');
    options.syncInterval = interval;
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) createApp().app.synth();
