/**
 * Every cdk-nag finding the control plane accepts, each on the construct it concerns and with the reason it is
 * right there. Anything not listed fails `cdk synth` (infra/app.ts runs the checks at every synth).
 */
import { Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ControlPlaneStack, HandlerName } from '../control-plane-stack.js';
import { talksToWorkloads } from '../constructs/workload-network.js';

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

const XRAY = 'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) have no resource-level permissions, so they are granted on *';

/** What else each function's role holds on `*`, besides X-Ray: actions without resource-level permissions. */
const LB_DESCRIBE =
  "elasticloadbalancing:DescribeLoadBalancers, DescribeTargetGroups, DescribeListeners and DescribeTags (the cluster's own load balancer, found by name, owned when it carries the installation tag)";
const LB_MANAGE = `${LB_DESCRIBE}, and ec2:DescribeSubnets (the VPC of a new target group)`;

const STAR_ACTIONS: Partial<Record<HandlerName, string>> = {
  reconcile: `ec2:DescribeInstances (the one filtered describe per cluster), ${LB_MANAGE}`,
  provision: `ec2:DescribeInstances (adoption by machine uid) and ec2:DescribeImages (root device of the AMI), ${LB_DESCRIBE}`,
  rollout: `ec2:DescribeInstances (each step reconciles the cluster), ${LB_MANAGE}`,
  remediate: `ec2:DescribeInstances (each step reconciles the cluster), ${LB_MANAGE}`,
  teardown: `ec2:DescribeInstances (each step reconciles the cluster), ${LB_MANAGE}`,
  stream: 'dynamodb:ListStreams, which the event source mapping needs and which has no resource-level permissions',
  'instance-events': "ec2:DescribeTags (the instance's cluster tag)",
  'cluster-transfer': "ec2:DescribeInstances (the instance to adopt, a moving cluster's instances) and ec2:DescribeTags (a moving cluster's volumes)",
};

const VPC_ACCESS =
  "the network-interface actions Lambda needs to attach the function to workloadNetwork (those of AWS's AWSLambdaVPCAccessExecutionRole: the interfaces are Lambda's, their ids unknown)";

const TAGGED_INSTANCES =
  'Instance ids are not known before launch: TerminateInstances on instance/* is limited by the conditions aws:ResourceTag/clusterless.dev/installation = this installation and aws:ResourceTag/clusterless.dev/cluster (only instances this control plane launched)';

export function acknowledgeControlPlaneFindings(stack: ControlPlaneStack): void {
  // The addon payloads bucket (infra/constructs/addon-payloads.ts).
  acknowledge(
    stack.addonPayloads.bucket,
    'AwsSolutions-S1',
    'Payloads are written only by the API function (each write is in its log and in CloudTrail as the PutObject of that role) and named by their content digest; server access logs would add a second bucket to keep for no reader.',
  );
  const payloadObjects = `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(stack.addonPayloads.bucket.node.defaultChild as CfnElement)}.Arn>/payloads/sha256/*]`;
  for (const name of ['http', 'cluster-transfer', 'reconcile', 'rollout', 'remediate', 'teardown'] as const)
    acknowledge(
      stack.functions[name].role,
      payloadObjects,
      'Payload keys are content digests not known at deploy time: the statement covers the payloads/sha256/ prefix of the addon payloads bucket only, GetObject (and PutObject for the API) and nothing else.',
    );
  for (const [name, fn] of Object.entries(stack.functions) as [HandlerName, (typeof stack.functions)[HandlerName]][]) {
    const star = [STAR_ACTIONS[name], stack.workloadNetwork && talksToWorkloads(name) ? VPC_ACCESS : undefined].filter((x) => x !== undefined);
    acknowledge(fn.role, 'AwsSolutions-IAM5[Resource::*]', star.length ? `${XRAY}; so do ${star.join(', and ')}.` : `${XRAY}.`);
    acknowledge(
      fn.function,
      'AwsSolutions-L1',
      'DESIGN section 2 pins nodejs22.x, the Node.js line the whole test suite runs on (the node@22 devDependency); ControlPlaneStackProps.runtime moves every function at once.',
    );
  }

  const instanceArn = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]';
  for (const name of ['reconcile', 'rollout', 'remediate', 'teardown'] as const) acknowledge(stack.functions[name].role, instanceArn, `${TAGGED_INSTANCES}.`);

  const provision = stack.functions.provision.role;
  acknowledge(
    provision,
    instanceArn,
    'RunInstances creates the instance, so its id cannot be named: the statement requires aws:RequestTag/clusterless.dev/installation = this installation, the cluster and machine-uid tags and ec2:MetadataHttpTokens = required; CreateTags on instance/* requires ec2:CreateAction = RunInstances and the installation tag.',
  );
  acknowledge(
    provision,
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:volume/*]',
    'The root volume is created by RunInstances, so its id cannot be named: the statement requires the installation, cluster and machine-uid tags in the request; CreateTags requires ec2:CreateAction = RunInstances and the installation tag.',
  );
  for (const [resource, what] of [
    [
      'subnet',
      'the subnets are chosen per cluster at run time (Cluster.spec.provider.aws.subnets); only those tagged clusterless.dev/installation with this installation id (aws:ResourceTag condition), unless the machineNetwork prop names them',
    ],
    [
      'security-group',
      'the security groups are chosen per cluster at run time (Cluster.spec.provider.aws.securityGroupIds); only those tagged clusterless.dev/installation with this installation id (aws:ResourceTag condition), unless the machineNetwork prop names them',
    ],
    ['network-interface', 'RunInstances creates the primary network interface'],
    ['key-pair', 'the SSH key pair is chosen per cluster at run time (Cluster.spec.provider.aws.sshKeyName)'],
    ['spot-instances-request', 'RunInstances creates the spot request of a spot MachineClass'],
  ] as const)
    acknowledge(
      provision,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:${resource}/*]`,
      `ec2:RunInstances only (no other action on it): ${what}; what launches is bounded by the installation tag, cluster tag and IMDSv2 conditions on the instance.`,
    );
  for (const resource of ['image', 'snapshot'])
    acknowledge(
      provision,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::${resource}/*]`,
      `ec2:RunInstances only: the AMI (and its ${resource === 'image' ? 'snapshots' : 'root snapshot'}) is named by each MachineClass and usually belongs to another account (Canonical, Amazon).`,
    );
  acknowledge(
    provision,
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>::parameter/aws/service/*]',
    "ssm:GetParameter only, of the public parameters AWS and vendors publish under /aws/service/ (e.g. Canonical's Ubuntu AMI ids), which a MachineClass names by imageSsmParameter; none of the account's own parameters.",
  );
  // cdk-nag names a finding by the resource as written, the installation id's intrinsic functions included.
  const prefix = `clusterless/${JSON.stringify(stack.resolve(stack.installationId))}/`;
  const secrets = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*]`;
  const secretsReason =
    "CreateSecret and TagResource only: bootstrap secrets are made at run time, one per machine or cluster, so only their name prefix clusterless/<installation id>/ is known; CreateSecret also requires secretsmanager:KmsKeyArn = the secrets key, whose key policy refuses other secrets; TagResource allows the clusterless tag keys only (aws:TagKeys), this installation's id and instance ARNs of this account.";
  acknowledge(provision, secrets, secretsReason);
  acknowledge(
    provision,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*/*/machines/*]`,
    "PutSecretValue and DeleteSecret of machines' bootstrap secrets only (made at run time, one per machine, so named by pattern; never the clusters' certificates): the provision step writes a machine's bootstrap data and deletes it when the launch fails.",
  );
  const deleteReason =
    "DeleteSecret only: the reconciling steps delete what is left of a machine's bootstrap secret and a cluster's certificates at its end; both are made at run time under the installation prefix clusterless/<installation id>/.";
  for (const name of ['reconcile', 'rollout', 'remediate', 'teardown'] as const) acknowledge(stack.functions[name].role, secrets, deleteReason);
  const certificatesReason =
    "GetSecretValue only, of the clusters' certificates (made at run time per cluster, so named by pattern; the bare name as well as the name with Secrets Manager's suffix, as they are read before they exist)";
  const certificateReaders: [HandlerName, string][] = [
    ['kubeconfig', 'the kubeconfig route signs an admin certificate with the cluster CA'],
    ['sweep', 'the sweep lists the nodes of clusters with a MachineHealthCheck through a short-lived kubeconfig signed with the cluster CA'],
    ['provision', "the provision step makes a cluster's certificates once and reads them for every machine after"],
    ...(['reconcile', 'rollout', 'remediate', 'teardown'] as const).map((n): [HandlerName, string] => [
      n,
      'the reconciling steps reach the workload API through a short-lived kubeconfig signed with the cluster CA',
    ]),
  ];
  for (const [name, why] of certificateReaders)
    for (const pattern of ['*/*/certificates', '*/*/certificates-??????'])
      acknowledge(
        stack.functions[name].role,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}${pattern}]`,
        `${certificatesReason}: ${why}.`,
      );
  // The cluster transfer function (infra/constructs/cluster-transfer.ts, BootstrapSecrets.grantCreateCertificates).
  const transfer = stack.functions['cluster-transfer'].role;
  for (const pattern of ['*/*/certificates', '*/*/certificates-??????'])
    acknowledge(
      transfer,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}${pattern}]`,
      "CreateSecret (only with the secrets key), TagResource (only the installation, cluster and cluster-uid keys, this installation's id) and GetSecretValue of the clusters' certificates only: `clusterless import` and `clusterless move` store the CAs of a cluster they bring in and read them to move one out; the secrets are named per cluster at run time, so by pattern.",
    );
  acknowledge(
    transfer,
    instanceArn,
    "CreateTags only, in two shapes: adoption (the instance must carry Cluster API AWS's role tag and no clusterless installation or machine tag; only clusterless's keys and kubernetes.io/cluster/*, with this installation's id) and hand-over (the instance must carry this installation's tag and a cluster tag; only the installation key). Instance ids come from the imported or moving cluster at run time.",
  );
  acknowledge(
    transfer,
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:volume/*]',
    "CreateTags only, of volumes carrying this installation's tag and a cluster tag, writing the installation key only: a moving cluster's volumes change installation; their ids are known at run time only.",
  );
  const targetGroups = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:<AWS::Region>:<AWS::AccountId>:targetgroup/*/*]';
  const targetReason =
    "Target groups are the user's, named per cluster at run time (controlPlaneLoadBalancer.targetGroupArn): RegisterTargets/DeregisterTargets only, and only on target groups carrying this installation's clusterless.dev/installation tag and a clusterless.dev/cluster tag (aws:ResourceTag conditions).";
  for (const name of ['provision', 'reconcile', 'rollout', 'remediate', 'teardown'] as const)
    acknowledge(stack.functions[name].role, targetGroups, targetReason);
  const managed = (resource: string) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:<AWS::Region>:<AWS::AccountId>:${resource}]`;
  const managedReason =
    "The control-plane load balancers clusterless makes are created at run time, one per cluster, under names derived from the cluster (clusterless-<hash>): creating requires this installation's clusterless.dev/installation tag and a clusterless.dev/cluster tag in the request, tagging is allowed only while creating (elasticloadbalancing:CreateAction), and adding a listener or deleting requires both tags on the resource.";
  for (const name of ['reconcile', 'rollout', 'remediate', 'teardown'] as const)
    for (const resource of ['loadbalancer/net/clusterless-*/*', 'targetgroup/clusterless-*/*', 'listener/net/clusterless-*/*/*'])
      acknowledge(stack.functions[name].role, managed(resource), managedReason);

  acknowledge(
    stack.functions.reconcile.role,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${stack.requeueSchedules.group.scheduleGroupName}/*]`,
    "Requeue schedules are made at run time, one per cluster, under names hashed from the installation and the cluster (functions/adapters/scheduler): CreateSchedule, GetSchedule and UpdateSchedule on the schedules of the stack's own requeue group only.",
  );

  for (const role of stack.nodeRoles.roles) {
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      "ecr:GetAuthorizationToken (a node logs in to ECR to pull images) has no resource-level permissions, so it is granted on *; the pulls themselves are limited to this account's repositories in this region.",
    );
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*]',
      "ecr:BatchGetImage, GetDownloadUrlForLayer and BatchCheckLayerAvailability only (pulls, as AmazonEC2ContainerRegistryReadOnly allows, without its describes), of this account's repositories in this region: the images a cluster runs are not known to the stack.",
    );
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*/*/machines/*]`,
      "GetSecretValue and DeleteSecret of machines' bootstrap secrets only (made at run time, one per machine, so named by pattern; never the clusters' certificates), and only of the secret tagged with the calling instance's own ARN (aws:ResourceTag/clusterless.dev/instance-arn = ${ec2:SourceInstanceARN}).",
    );
  }

  for (const machine of Object.values(stack.workflows.stateMachines))
    acknowledge(
      machine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Step Functions log delivery (logs:CreateLogDelivery, logs:GetLogDelivery, logs:UpdateLogDelivery, logs:DeleteLogDelivery, logs:ListLogDeliveries, logs:PutResourcePolicy, logs:DescribeResourcePolicies, logs:DescribeLogGroups) and X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords, xray:GetSamplingRules, xray:GetSamplingTargets) have no resource-level permissions.',
    );

  // fleet-upgrade's Distributed Map (infra/constructs/control-plane-workflows.ts).
  acknowledge(
    stack.workflows.stateMachines['fleet-upgrade'].role,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stack.workflows.stateMachineNames['fleet-upgrade']}/*]`,
    "A Distributed Map describes and stops the child executions it starts, whose names Step Functions makes at run time: the statement covers this state machine's own executions only.",
  );

  const api = stack.httpApi.api;
  acknowledge(
    api,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    "API Gateway's account-level CloudWatch role (needed for stage execution logs) is assumable by apigateway.amazonaws.com only, and this is the managed policy AWS documents for it.",
  );
  acknowledge(
    api,
    'AwsSolutions-COG4',
    'Every method authorizes with AWS_IAM (SigV4), as `clusterless --server` signs: platform teams and pipelines call the API with their IAM identities; there is no end-user pool.',
  );
  acknowledge(
    api,
    'AwsSolutions-APIG3',
    'No WAF web ACL by default (it costs per ACL and per request): every method requires SigV4 (AWS_IAM) and the stage is throttled; associate a web ACL with the stage to filter further.',
  );

  const kubectlApi = stack.httpApi.kubectlApi;
  if (kubectlApi) {
    acknowledge(
      kubectlApi,
      'AwsSolutions-COG4',
      'Every method of the kubectl door authorizes with a Lambda REQUEST authorizer that has STS vouch for an EKS-style token (a presigned GetCallerIdentity signed by the caller’s IAM identity, `clusterless token`) and answers the policy of its access entries: the same IAM identities as the SigV4 door, no end-user pool.',
    );
    acknowledge(
      kubectlApi,
      'AwsSolutions-APIG3',
      'No WAF web ACL by default (it costs per ACL and per request): every method requires a token STS vouches for, and the stage is throttled; associate a web ACL with the stage to filter further.',
    );
  }

  for (const [queue, of] of [
    [stack.streamTrigger.deadLetterQueue, 'the table stream event source mapping (on-failure destination)'],
    [stack.sweepSchedule.deadLetterQueue, 'the sweep schedule (Scheduler DLQ) and the sweep function (asynchronous on-failure destination)'],
    [
      stack.instanceEventsRule.deadLetterQueue,
      'the EC2 state-change rule target (EventBridge DLQ) and the instance-events function (asynchronous on-failure destination)',
    ],
  ] as const)
    acknowledge(
      queue.queue,
      'AwsSolutions-SQS3',
      `This queue is itself the dead-letter queue of ${of}, which cdk-nag cannot see; a dead-letter queue of it would only move the messages, and its alarm fires at the first one.`,
    );

  acknowledge(
    stack,
    'AwsSolutions-IAM5[Resource::<sweephandlerFunctionD41D6D0E.Arn>:*]',
    'The Scheduler target role (made by aws-scheduler-targets LambdaInvoke) may invoke the sweep function and its versions; the schedule invokes the unqualified function only.',
  );
  acknowledge(
    stack.fleetProvider,
    'AwsSolutions-IAM5[Resource::<fleetresourcehandlerFunction8D24B8ED.Arn>:*]',
    'The custom resource Provider framework may invoke the fleet handler and its versions (as aws-cdk-lib grants it); it invokes the unqualified function only.',
  );
}
