/**
 * Least privilege: what each role may do, and under which conditions. EC2 is scoped by the clusterless tags
 * (launch only with them, terminate only what carries them), IMDSv2 is forced, and no action is a wildcard.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterlessApp } from '../../infra/app.js';
import type { HandlerName } from '../../infra/control-plane-stack.js';
import { UNAVAILABLE_OFFERINGS_PARTITION } from '../../functions/adapters/dynamodb/unavailable-offerings.js';
import { STACK_UUID, arns, decide, identityPolicyOf, resolve } from './iam-eval.js';
import { actionsOf, controlPlaneTemplate, logicalId, resourcesOf, statementsOfRole, type Resources } from './support.js';

let app: ClusterlessApp;
let template: Template;
let resources: Resources;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
  resources = template.toJSON()['Resources'] as Resources;
});

/** A statement's resources as deployed (the installation id resolved). */
const deployed = (s: { Resource: unknown }) => JSON.stringify(resolve(s.Resource, resources));
const SECRETS = `:secret:clusterless/${STACK_UUID}/`;

const statements = (name: HandlerName) => statementsOfRole(template, logicalId(app.controlPlane, app.controlPlane.functions[name].role));
const allowing = (name: HandlerName, action: string) => statements(name).filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));
const onResource = (fragment: string) => (s: { Resource: unknown }) => JSON.stringify(s.Resource).includes(fragment);
const ec2Actions = (name: HandlerName) =>
  new Set(
    statements(name)
      .flatMap(actionsOf)
      .filter((a) => a.startsWith('ec2:')),
  );

const deployedCondition = (s: { Condition?: unknown }) => resolve(s.Condition, resources);
const INSTALLATION = { 'aws:RequestTag/clusterless.dev/installation': STACK_UUID };
const TAGGED = {
  StringEquals: { 'aws:ResourceTag/clusterless.dev/installation': STACK_UUID },
  StringLike: { 'aws:ResourceTag/clusterless.dev/cluster': '?*/?*' },
};

describe('RunInstances (provision)', () => {
  it('launches instances only with the installation, cluster and machine-uid tags in the request and IMDSv2 required', () => {
    const [instance] = allowing('provision', 'ec2:RunInstances').filter(onResource(':instance/*'));
    expect(deployedCondition(instance!)).toEqual({
      StringLike: { 'aws:RequestTag/clusterless.dev/cluster': '?*/?*' },
      Null: { 'aws:RequestTag/clusterless.dev/machine-uid': 'false' },
      StringEquals: { ...INSTALLATION, 'ec2:MetadataHttpTokens': 'required' },
    });
  });

  it('creates volumes only with the installation, cluster and machine-uid tags in the request', () => {
    const [volume] = allowing('provision', 'ec2:RunInstances').filter(onResource(':volume/*'));
    expect(deployedCondition(volume!)).toEqual({
      StringEquals: INSTALLATION,
      StringLike: { 'aws:RequestTag/clusterless.dev/cluster': '?*/?*' },
      Null: { 'aws:RequestTag/clusterless.dev/machine-uid': 'false' },
    });
  });

  it('is allowed without conditions only on the other resources a launch touches (not instances, volumes, subnets or security groups)', () => {
    const bare = allowing('provision', 'ec2:RunInstances').filter((s) => !s.Condition);
    expect(bare).toHaveLength(1);
    const resources = JSON.stringify(bare[0]!.Resource);
    for (const r of ['network-interface', 'key-pair', 'spot-instances-request', 'image', 'snapshot']) expect(resources).toContain(`:${r}/*`);
    expect(resources).not.toMatch(/:(instance|volume|subnet|security-group)\/\*/);
  });

  it("tags only as part of RunInstances, with this installation's tag", () => {
    const tagging = allowing('provision', 'ec2:CreateTags');
    expect(tagging).toHaveLength(1);
    expect(deployedCondition(tagging[0]!)).toEqual({ StringEquals: { 'ec2:CreateAction': 'RunInstances', ...INSTALLATION } });
  });

  it("may create EC2 Spot's service-linked role, which an account's first Spot launch makes, and no other role", async () => {
    const policy = identityPolicyOf(template, logicalId(app.controlPlane, app.controlPlane.functions.provision.role));
    const spot = arns.role('aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot');
    const create = (resource: string, service: string) =>
      decide(policy, { action: 'iam:CreateServiceLinkedRole', resource, context: { 'iam:AWSServiceName': service } });
    expect(await create(spot, 'spot.amazonaws.com')).toBe('Allowed');
    expect(await create(spot, 'spotfleet.amazonaws.com')).not.toBe('Allowed');
    expect(
      await create(
        arns.role('aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing'),
        'elasticloadbalancing.amazonaws.com',
      ),
    ).not.toBe('Allowed');
    expect(await create(arns.role('aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling'), 'autoscaling.amazonaws.com')).not.toBe('Allowed');
  });

  it('passes only the node roles, and only to EC2', () => {
    const pass = allowing('provision', 'iam:PassRole');
    expect(pass).toHaveLength(1);
    expect(pass[0]!.Resource).toEqual(app.controlPlane.nodeRoles.roles.map((r) => ({ 'Fn::GetAtt': [logicalId(app.controlPlane, r), 'Arn'] })));
    expect(pass[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
  });
});

describe('TerminateInstances', () => {
  it.each(['reconcile', 'rollout', 'remediate', 'teardown'] as HandlerName[])('%s terminates only instances tagged by this installation', (name) => {
    const terminate = allowing(name, 'ec2:TerminateInstances');
    expect(terminate).toHaveLength(1);
    expect(deployedCondition(terminate[0]!)).toEqual(TAGGED);
  });

  it('is granted to no function that does not reconcile', () => {
    for (const name of ['provision', 'http', 'kubeconfig', 'cluster-transfer', 'stream', 'sweep', 'instance-events', 'fleet-resource'] as HandlerName[])
      expect(allowing(name, 'ec2:TerminateInstances'), name).toEqual([]);
  });

  it('StopInstances is granted to nobody (no code stops an instance)', () => {
    const all = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(
      (p) => (p.Properties['PolicyDocument'] as { Statement: { Action: string | string[] }[] }).Statement,
    );
    expect(all.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))).not.toContain('ec2:StopInstances');
  });
});

describe('each function gets only what its code calls', () => {
  it.each([
    ['reconcile', ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:TerminateInstances']],
    ['rollout', ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:TerminateInstances']],
    ['remediate', ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:TerminateInstances']],
    ['teardown', ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:TerminateInstances']],
    ['provision', ['ec2:CreateTags', 'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:RunInstances']],
    ['instance-events', ['ec2:DescribeTags']],
    // Adoption and a move's hand-over (test/infra/cluster-transfer.test.ts: each CreateTags conditioned on tags).
    ['cluster-transfer', ['ec2:CreateTags', 'ec2:DescribeInstances', 'ec2:DescribeTags']],
    ['http', []],
    ['kubeconfig', []],
    ['stream', []],
    ['sweep', []],
    ['fleet-resource', []],
  ] as [HandlerName, string[]][])('%s: EC2 %j', (name, expected) => {
    expect([...ec2Actions(name)].sort()).toEqual(expected);
  });

  it.each(['http', 'cluster-transfer', 'reconcile', 'provision', 'rollout', 'remediate', 'teardown', 'fleet-resource'] as HandlerName[])(
    '%s reads and writes single items and queries the table and its kind index, nothing more',
    (name) => {
      // The tasks' UpdateItem of usage records is a statement of its own (below).
      const table = statements(name).filter((s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a.startsWith('dynamodb:') && a !== 'dynamodb:UpdateItem'));
      expect(table).toHaveLength(1);
      expect(actionsOf(table[0]!).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
      expect(JSON.stringify(table[0]!.Resource)).toContain('/index/kind-index');
    },
  );

  it('only provision reads SSM parameters, and only the public ones under /aws/service/ (imageSsmParameter)', () => {
    const names = Object.keys(app.controlPlane.functions) as HandlerName[];
    const readers = names.filter((n) => statements(n).some((st) => actionsOf(st).some((a) => a.startsWith('ssm:'))));
    expect(readers).toEqual(['provision']);
    const [ssm, ...more] = statements('provision').filter((st) => actionsOf(st).some((a) => a.startsWith('ssm:')));
    expect(more).toEqual([]);
    expect(actionsOf(ssm!)).toEqual(['ssm:GetParameter']);
    expect(JSON.stringify(ssm!.Resource)).toMatch(/:ssm:",\{"Ref":"AWS::Region"\},"::parameter\/aws\/service\/\*"/);
  });

  it('the stream function puts watch log items only: never an object, a claim or a lease', async () => {
    // Prepare
    const table = statements('stream').filter((st) => actionsOf(st).some((a) => /^dynamodb:(PutItem|DeleteItem|UpdateItem|BatchWriteItem)$/.test(a)));
    const policy = identityPolicyOf(template, logicalId(app.controlPlane, app.controlPlane.functions.stream.role));
    const tableArn = String((resolve(table[0]!.Resource, resources) as string[] | string).toString());
    const put = (pk: string) => decide(policy, { action: 'dynamodb:PutItem', resource: tableArn, context: { 'dynamodb:LeadingKeys': [pk] } });

    // Assess
    expect(table.flatMap(actionsOf)).toEqual(['dynamodb:PutItem']);
    expect(await put('watch#Machine')).toBe('Allowed');
    expect(await put('default#prod')).not.toBe('Allowed');
    expect(await put('default/Cluster/prod')).not.toBe('Allowed');
  });

  it('only provision writes the offerings launches found without capacity; every other writer of the table is denied them', async () => {
    // Prepare: every function that may put items of the table.
    const names = (Object.keys(app.controlPlane.functions) as HandlerName[]).filter((n) =>
      statements(n).some((st) => st.Effect === 'Allow' && actionsOf(st).includes('dynamodb:PutItem')),
    );
    const tableArn = String(resolve({ 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.objectTable.table), 'Arn'] }, resources));
    const write = async (name: HandlerName, action: string, pk: string) =>
      decide(identityPolicyOf(template, logicalId(app.controlPlane, app.controlPlane.functions[name].role)), {
        action,
        resource: tableArn,
        context: { 'dynamodb:LeadingKeys': [pk] },
      });
    // Act
    const offerings = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await write(n, 'dynamodb:PutItem', UNAVAILABLE_OFFERINGS_PARTITION)])));
    const removals = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await write(n, 'dynamodb:DeleteItem', UNAVAILABLE_OFFERINGS_PARTITION)])));
    // Assess: provision alone (the stream function may put watch log items only); the deny leaves every other
    // partition as it was (a Machine's, here).
    expect(names).toEqual(expect.arrayContaining(['provision', 'http', 'reconcile', 'rollout', 'instance-events', 'cluster-transfer', 'stream']));
    expect(Object.entries(offerings).filter(([, d]) => d === 'Allowed')).toEqual([['provision', 'Allowed']]);
    expect(Object.entries(removals).filter(([, d]) => d === 'Allowed')).toEqual([['provision', 'Allowed']]);
    for (const n of names.filter((x) => x !== 'stream')) {
      if (n !== 'provision') expect(offerings[n], n).toBe('ExplicitlyDenied');
      expect(await write(n, 'dynamodb:PutItem', 'default#prod'), n).toBe('Allowed');
    }
  });

  it.each(['reconcile', 'provision', 'rollout', 'remediate', 'teardown'] as const)(
    '%s updates items only in the usage partitions: never an object, a claim, a lease or the watch log',
    async (name) => {
      // Prepare
      const policy = identityPolicyOf(template, logicalId(app.controlPlane, app.controlPlane.functions[name].role));
      const [update, ...more] = allowing(name, 'dynamodb:UpdateItem');
      const tableArn = String(resolve(update!.Resource, resources));
      const add = (pk: string) => decide(policy, { action: 'dynamodb:UpdateItem', resource: tableArn, context: { 'dynamodb:LeadingKeys': [pk] } });

      // Assess
      expect(more).toEqual([]);
      expect(actionsOf(update!)).toEqual(['dynamodb:UpdateItem']);
      expect(await add('usage/2026-12')).toBe('Allowed');
      for (const pk of ['default#prod', 'default/Cluster/prod', 'watch#Machine', 'default']) expect(await add(pk), pk).not.toBe('Allowed');
    },
  );

  it('no function but the tasks of a cluster may update items: the http function reads the usage records, never writes them', () => {
    const updaters = (Object.keys(app.controlPlane.functions) as HandlerName[]).filter((n) => allowing(n, 'dynamodb:UpdateItem').length > 0).sort();
    expect(updaters).toEqual(['provision', 'reconcile', 'remediate', 'rollout', 'teardown']);
  });

  it('the sweep only reads the table', () => {
    const table = statements('sweep').filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(table.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('instance-events gets and puts single items of the table (a spot notice on one Machine): no query, no index, no delete', () => {
    const table = statements('instance-events').filter((s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(table.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(JSON.stringify(table.map((s) => s.Resource))).not.toContain('/index/');
  });

  it.each(['sweep', 'instance-events'] as HandlerName[])('%s may start reconcile-cluster and no other state machine', (name) => {
    const start = statements(name).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    expect(start).toHaveLength(1);
    expect(start[0]!.Resource).toEqual({ Ref: logicalId(app.controlPlane, app.controlPlane.workflows.stateMachines['reconcile-cluster']) });
  });

  it('stream may start reconcile-cluster and fleet-upgrade (a FleetUpgrade created) and no other state machine', () => {
    const start = statements('stream').filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    const resources = start.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
    const ref = (m: 'reconcile-cluster' | 'fleet-upgrade') => ({ Ref: logicalId(app.controlPlane, app.controlPlane.workflows.stateMachines[m]) });
    expect(resources).toHaveLength(2);
    expect(resources).toEqual(expect.arrayContaining([ref('reconcile-cluster'), ref('fleet-upgrade')]));
  });

  it('uses the table key only through DynamoDB', () => {
    for (const name of ['http', 'reconcile', 'sweep', 'fleet-resource'] as HandlerName[]) {
      const key = statements(name).filter((s) => JSON.stringify(s.Resource).includes(logicalId(app.controlPlane, app.controlPlane.objectTable.key)));
      expect(key.length, name).toBe(1);
      expect(JSON.stringify(key[0]!.Condition), name).toContain('dynamodb.');
    }
  });

  it("provision creates secrets only under this installation's clusterless/<id>/ and only with the secrets key", () => {
    const create = allowing('provision', 'secretsmanager:CreateSecret');
    expect(create).toHaveLength(1);
    expect(deployed(create[0]!)).toContain(`${SECRETS}*`);
    expect(create[0]!.Condition).toEqual({
      StringEquals: { 'secretsmanager:KmsKeyArn': { 'Fn::GetAtt': [logicalId(app.controlPlane, app.controlPlane.secrets.key), 'Arn'] } },
    });
    for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'])
      expect(deployed(allowing('provision', action)[0]!)).toContain(`${SECRETS}*`);
  });

  // The kubeadm bootstrap: what each function's bootstrap code calls (functions/bootstrap, adapters/secrets).
  it.each([
    [
      'provision',
      [
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:TagResource',
      ],
    ],
    ['reconcile', ['secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue']],
    ['rollout', ['secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue']],
    ['remediate', ['secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue']],
    ['teardown', ['secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue']],
    ['http', []],
    ['kubeconfig', ['secretsmanager:GetSecretValue']],
    ['cluster-transfer', ['secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:TagResource']],
    ['stream', []],
    ['sweep', ['secretsmanager:GetSecretValue']],
    ['instance-events', []],
    ['fleet-resource', []],
  ] as [HandlerName, string[]][])('%s: Secrets Manager %j', (name, expected) => {
    expect(
      [
        ...new Set(
          statements(name)
            .flatMap(actionsOf)
            .filter((a) => a.startsWith('secretsmanager:')),
        ),
      ].sort(),
    ).toEqual(expected);
  });

  it("the reconciling steps delete secrets under this installation's prefix (only provision writes them; it and the cluster transfer function create them)", () => {
    for (const name of ['reconcile', 'rollout', 'remediate', 'teardown'] as HandlerName[]) {
      const deletes = allowing(name, 'secretsmanager:DeleteSecret');
      expect(deletes, name).toHaveLength(1);
      expect(deployed(deletes[0]!), name).toContain(`${SECRETS}*`);
    }
  });

  it.each(['kubeconfig', 'cluster-transfer', 'sweep', 'provision', 'reconcile', 'rollout', 'remediate', 'teardown'] as HandlerName[])(
    "%s may read the clusters' certificates only, not machines' bootstrap secrets",
    (name) => {
      const read = allowing(name, 'secretsmanager:GetSecretValue');
      expect(read).toHaveLength(1);
      expect(JSON.parse(deployed(read[0]!))).toEqual([
        expect.stringMatching(new RegExp(`${SECRETS}\\*/\\*/certificates$`)),
        expect.stringMatching(new RegExp(`${SECRETS}\\*/\\*/certificates-\\?{6}$`)),
      ]);
    },
  );

  it('no function describes a secret or encrypts with the secrets key directly (no code does)', () => {
    const secretsKey = logicalId(app.controlPlane, app.controlPlane.secrets.key);
    for (const name of Object.keys(app.controlPlane.functions) as HandlerName[]) {
      expect(allowing(name, 'secretsmanager:DescribeSecret'), name).toEqual([]);
      expect(
        allowing(name, 'kms:Encrypt').filter((s) => JSON.stringify(s.Resource).includes(secretsKey)),
        name,
      ).toEqual([]);
    }
  });

  it.each(['provision', 'reconcile', 'rollout', 'remediate', 'teardown', 'kubeconfig', 'cluster-transfer', 'sweep'] as HandlerName[])(
    '%s decrypts with the secrets key only through Secrets Manager',
    (name) => {
      const decrypt = allowing(name, 'kms:Decrypt').filter((s) =>
        JSON.stringify(s.Resource).includes(logicalId(app.controlPlane, app.controlPlane.secrets.key)),
      );
      expect(decrypt.length).toBeGreaterThan(0);
      for (const s of decrypt) expect(JSON.stringify(s.Condition)).toContain('secretsmanager.');
    },
  );

  it.each([
    ['provision', ['elasticloadbalancing:RegisterTargets']],
    ['reconcile', ['elasticloadbalancing:DeregisterTargets']],
    ['rollout', ['elasticloadbalancing:DeregisterTargets']],
    ['remediate', ['elasticloadbalancing:DeregisterTargets']],
    ['teardown', ['elasticloadbalancing:DeregisterTargets']],
    ['http', []],
    ['stream', []],
    ['sweep', []],
    ['instance-events', []],
    ['fleet-resource', []],
  ] as [HandlerName, string[]][])('%s: target groups %j, only those tagged with this installation and a cluster', (name, expected) => {
    const lb = statements(name).filter((s) => actionsOf(s).some((a) => a.endsWith('Targets')));
    expect(lb.flatMap(actionsOf).sort()).toEqual(expected);
    for (const s of lb) {
      expect(JSON.stringify(s.Resource)).toContain(':targetgroup/*/*');
      expect(deployedCondition(s)).toEqual(TAGGED);
    }
  });
});

describe('the requeue schedules (EventBridge Scheduler)', () => {
  const schedules = () => app.controlPlane.requeueSchedules;
  const scheduleArn = (group: string, name = 'requeue-0123456789abcdef0123456789abcdef01234567') =>
    `arn:aws:scheduler:us-east-1:123456789012:schedule/${group}/${name}`;
  const policyOf = (role: unknown) => identityPolicyOf(template, logicalId(app.controlPlane, role));

  it.each(['scheduler:CreateSchedule', 'scheduler:GetSchedule', 'scheduler:UpdateSchedule'])('reconcile may %s in the requeue group only', async (action) => {
    const policy = policyOf(app.controlPlane.functions.reconcile.role);
    expect(await decide(policy, { action, resource: scheduleArn(schedules().group.scheduleGroupName) })).toBe('Allowed');
    expect(await decide(policy, { action, resource: scheduleArn('default') })).not.toBe('Allowed');
  });

  it('reconcile may not delete or list schedules (they delete themselves after they ran)', async () => {
    const policy = policyOf(app.controlPlane.functions.reconcile.role);
    expect(await decide(policy, { action: 'scheduler:DeleteSchedule', resource: scheduleArn(schedules().group.scheduleGroupName) })).not.toBe('Allowed');
    expect(
      await decide(policy, { action: 'scheduler:CreateScheduleGroup', resource: 'arn:aws:scheduler:us-east-1:123456789012:schedule-group/other' }),
    ).not.toBe('Allowed');
  });

  it('reconcile passes the Scheduler role, and only to Scheduler', async () => {
    const policy = policyOf(app.controlPlane.functions.reconcile.role);
    const role = resolve({ 'Fn::GetAtt': [logicalId(app.controlPlane, schedules().role), 'Arn'] }, resources) as string;
    const pass = (resource: string, service: string) => decide(policy, { action: 'iam:PassRole', resource, context: { 'iam:PassedToService': service } });
    expect(await pass(role, 'scheduler.amazonaws.com')).toBe('Allowed');
    expect(await pass(role, 'states.amazonaws.com')).not.toBe('Allowed');
    expect(await pass(arns.role('some-admin-role'), 'scheduler.amazonaws.com')).not.toBe('Allowed');
  });

  it('no other function may touch schedules or pass the Scheduler role', () => {
    for (const name of (Object.keys(app.controlPlane.functions) as HandlerName[]).filter((n) => n !== 'reconcile')) {
      expect(
        statements(name)
          .flatMap(actionsOf)
          .filter((a) => a.startsWith('scheduler:')),
        name,
      ).toEqual([]);
      expect(
        statements(name).filter(
          (s) => actionsOf(s).includes('iam:PassRole') && JSON.stringify(s.Resource).includes(logicalId(app.controlPlane, schedules().role)),
        ),
        name,
      ).toEqual([]);
    }
  });

  it('the Scheduler role may start reconcile-cluster and no other state machine', async () => {
    const policy = policyOf(schedules().role);
    const machine = (name: string) =>
      `arn:aws:states:us-east-1:123456789012:stateMachine:${app.controlPlane.workflows.stateMachineNames[name as 'reconcile-cluster']}`;
    expect(await decide(policy, { action: 'states:StartExecution', resource: machine('reconcile-cluster') })).toBe('Allowed');
    for (const other of ['provision-machine', 'rolling-upgrade', 'remediate', 'delete-cluster'])
      expect(await decide(policy, { action: 'states:StartExecution', resource: machine(other) }), other).not.toBe('Allowed');
    expect(await decide(policy, { action: 'lambda:InvokeFunction', resource: `arn:aws:lambda:us-east-1:123456789012:function:x` })).not.toBe('Allowed');
  });
});

describe('the control-plane load balancers clusterless makes', () => {
  const lbActions = (name: HandlerName) =>
    statements(name).filter((st) => actionsOf(st).some((a) => a.startsWith('elasticloadbalancing:') && !a.endsWith('Targets')));

  it.each(['reconcile', 'rollout', 'remediate', 'teardown'] as HandlerName[])(
    '%s creates them only named clusterless-* and tagged with this installation, tags only while creating, deletes only tagged ones',
    (name) => {
      const byAction = (action: string) => lbActions(name).filter((st) => actionsOf(st).includes(action));
      for (const action of ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup']) {
        const [st] = byAction(action);
        expect(JSON.stringify(st!.Resource), action).not.toContain('"*"');
        expect(JSON.stringify(st!.Resource)).toMatch(/clusterless-\*/);
        expect(deployedCondition(st!)).toEqual({ StringEquals: INSTALLATION, StringLike: { 'aws:RequestTag/clusterless.dev/cluster': '?*/?*' } });
      }
      expect(byAction('elasticloadbalancing:AddTags')[0]!.Condition).toEqual({
        StringEquals: { 'elasticloadbalancing:CreateAction': ['CreateLoadBalancer', 'CreateTargetGroup', 'CreateListener'] },
      });
      for (const action of ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:DeleteTargetGroup'])
        expect(deployedCondition(byAction(action)[0]!), action).toEqual(TAGGED);
      const slr = statements(name).filter((st) => actionsOf(st).includes('iam:CreateServiceLinkedRole'));
      expect(slr).toHaveLength(1);
      expect(JSON.stringify(slr[0]!.Resource)).toContain(':role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing');
      expect(slr[0]!.Condition).toEqual({ StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } });
    },
  );

  it('provision only describes them (to find the target group); no other function touches them', () => {
    expect(
      lbActions('provision')
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('elasticloadbalancing:'))
        .sort(),
    ).toEqual([
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeTags',
      'elasticloadbalancing:DescribeTargetGroups',
    ]);
    for (const name of ['http', 'stream', 'sweep', 'instance-events', 'fleet-resource'] as HandlerName[]) expect(lbActions(name), name).toEqual([]);
  });
});

describe('wildcards', () => {
  const identityStatements = () => [
    ...Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(
      (p) => (p.Properties['PolicyDocument'] as { Statement: { Action: string | string[] }[] }).Statement,
    ),
    ...Object.values(resourcesOf(template, 'AWS::IAM::Role')).flatMap((r) =>
      ((r.Properties['Policies'] ?? []) as { PolicyDocument: { Statement: { Action: string | string[] }[] } }[]).flatMap((p) => p.PolicyDocument.Statement),
    ),
  ];

  it('no IAM policy has a wildcard action', () => {
    const actions = identityStatements().flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.length).toBeGreaterThan(50);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('the services the key policies trust get named actions, not wildcards', () => {
    const statements = Object.values(resourcesOf(template, 'AWS::KMS::Key')).flatMap(
      (k) => (k.Properties['KeyPolicy'] as { Statement: { Principal: unknown; Action: string | string[] }[] }).Statement,
    );
    // The account root's kms:* is the default key policy that keeps the key manageable by IAM.
    const others = statements.filter((s) => !JSON.stringify(s.Principal).includes(':root'));
    expect(others.length).toBeGreaterThan(0);
    expect(others.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).filter((a) => a.includes('*'))).toEqual([]);
  });

  it('only actions without resource-level permissions are granted on *', () => {
    const onStar = identityStatements()
      .filter((s) => (s as { Resource?: unknown }).Resource === '*')
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    const allowed =
      /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|ecr:GetAuthorizationToken|ec2:Describe(Instances|Images|Tags|Subnets)|elasticloadbalancing:Describe(LoadBalancers|TargetGroups|Listeners|Tags)|dynamodb:ListStreams|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;
    expect(onStar.filter((a) => !allowed.test(a))).toEqual([]);
  });
});
