/** The fleet-upgrade task function and state machine: least privilege (the object table only; its own executions). */
import { UNAVAILABLE_OFFERINGS_PARTITION } from '../../functions/adapters/dynamodb/unavailable-offerings.js';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterlessApp } from '../../infra/app.js';
import { actionsOf, controlPlaneTemplate, logicalId, statementsOfRole } from './support.js';

let app: ClusterlessApp;
let template: Template;

beforeAll(() => {
  ({ app, template } = controlPlaneTemplate());
});

const roleStatements = (role: unknown) => statementsOfRole(template, logicalId(app.controlPlane, role));

describe('fleet-upgrade', () => {
  it('its task may read and write the object table and nothing else (no EC2, secrets, load balancers, payloads or Step Functions)', () => {
    const statements = roleStatements(app.controlPlane.functions['fleet-upgrade'].role);
    const actions = statements.filter((s) => s.Effect === 'Allow').flatMap(actionsOf);
    const services = new Set(actions.map((a) => a.split(':')[0]));
    // kms: the table's encryption key (grantStore); logs: its own log group.
    expect([...services].sort()).toEqual(['dynamodb', 'kms', 'logs', 'xray']);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    // Its only Deny: the offerings launches found without capacity, which only provision writes.
    const denied = statements.filter((s) => s.Effect === 'Deny');
    expect(denied.flatMap(actionsOf).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem']);
    expect(JSON.stringify(denied.map((s) => s.Condition))).toContain(UNAVAILABLE_OFFERINGS_PARTITION);
  });

  it('the stream function may start it (a FleetUpgrade created), as it starts reconcile-cluster', () => {
    const starts = roleStatements(app.controlPlane.functions.stream.role).filter((s) => actionsOf(s).includes('states:StartExecution'));
    const text = JSON.stringify(starts.map((s) => s.Resource));
    expect(text).toContain(app.controlPlane.getLogicalId(app.controlPlane.workflows.stateMachines['fleet-upgrade'].node.defaultChild as never));
  });

  it("its state machine may describe and stop only its own executions (the Distributed Map's items)", () => {
    const statements = roleStatements(app.controlPlane.workflows.stateMachines['fleet-upgrade'].role).filter((s) =>
      actionsOf(s).some((a) => a === 'states:DescribeExecution' || a === 'states:StopExecution'),
    );
    expect(statements).toHaveLength(1);
    expect(JSON.stringify(statements[0]!.Resource)).toContain(`:execution:${app.controlPlane.workflows.stateMachineNames['fleet-upgrade']}/*`);
  });
});
