/**
 * The emulated AWS account that `npm run e2e:aws` deploys the cloud assembly into: the facts every part of it
 * shares (account, region, partition), and the contracts between the parts.
 *
 *   assembly.ts       synthesizes the app (the cloud assembly `cdk synth` writes) and reads its template and bundles
 *   template.ts       the control plane template, its intrinsic functions resolved for this deployment
 *   deploy.ts         creates the template's resources on moto_server and gives each one its physical id
 *   gateway.ts        AWS_ENDPOINT_URL of every function: evaluates IAM on each call (iam/), then forwards it to moto
 *                     or to the emulated Step Functions
 *   lambda-runtime.ts runs each function's esbuild bundle in a worker thread with the template's environment
 *   step-functions.ts the template's state machines on the local ASL engine, behind the Step Functions API
 *   event-sources/    the table's stream, the EC2 state-change rule, the Scheduler schedules, API Gateway
 *   workload.ts       a real kube-apiserver per cluster, serving with the cluster's CA, and the nodes of its instances
 *   scenario.ts       the seed scenario; run.ts prints its summary as the last line
 */

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const PARTITION = 'aws';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: Json;
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

/** An identity policy with where it comes from in the template, so a deny can name what would have to change. */
export interface NamedPolicy {
  /** e.g. `provisionhandlerRoleDefaultPolicy1A2B3C4D` (the AWS::IAM::Policy's logical id) or `{role}/inline/{name}`. */
  name: string;
  policy: PolicyDocument;
}

/**
 * Who makes a call: a Lambda function's execution role, a service's role (Scheduler, Step Functions), or an API
 * caller. Each holds its own emulated credentials, so the gateway knows the principal from the SigV4 access key.
 */
export interface Principal {
  /** The role's logical id in the template (a caller of the API: the name the scenario gives it). */
  name: string;
  /** arn:aws:iam::{account}:role/{role name}. */
  arn: string;
  policies: NamedPolicy[];
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** One authorization AWS makes for a call: a call can need several (RunInstances: the instance, its subnet, PassRole...). */
export interface AuthorizationRequest {
  /** `service:Action`, e.g. `dynamodb:PutItem`. */
  action: string;
  resource: string;
  /** Condition keys the request carries: aws:RequestTag/k, aws:TagKeys, ec2:ResourceTag/k, kms:ViaService, iam:PassedToService... */
  context: Record<string, string | string[]>;
}

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** What the gateway recorded of one authorization. */
export interface CallRecord {
  principal: string;
  /** The API operation called, e.g. `ec2:RunInstances`; the authorization's action can differ (iam:PassRole). */
  operation: string;
  request: AuthorizationRequest;
  decision: Decision;
  /** For a deny: the policies of the principal (by name) that were evaluated, so the message names what to change. */
  evaluated?: string[];
}

/** A function's answer as Lambda gives it: its result, or the error Step Functions and event sources see. */
export type InvokeResult = { ok: true; payload: unknown } | { ok: false; errorType: string; errorMessage: string };

/** Invokes a Lambda function of the template by its logical id (what event sources and the engine call). */
export type Invoke = (functionLogicalId: string, event: unknown) => Promise<InvokeResult>;

/**
 * Evaluates authorizations a service makes on a principal's behalf without an SDK call through the gateway (an event
 * source mapping reading the stream with its function's role, Scheduler starting a target with its role): recorded as
 * the gateway records calls; a deny throws AccessDeniedError. `principalName` is the role's logical id.
 */
export type Authorize = (principalName: string, operation: string, requests: AuthorizationRequest[]) => Promise<void>;

export class AccessDeniedError extends Error {
  override name = 'AccessDeniedError';
}

/** Starts an execution of a state machine of the template (the emulated Step Functions' StartExecution). */
export type StartExecution = (stateMachineArn: string, input: string, name?: string) => Promise<{ executionArn: string }>;
