/**
 * The cost per cluster on a deployed installation, through the emulated account: the provision task function's bundle,
 * run by the emulated Lambda runtime under its role (every SDK call authorized by the IAM gateway against the role's
 * policies before it reaches moto), adds each invocation's cost to its cluster's usage record; the http function's
 * bundle answers GET /clusterless/v1/namespaces/{namespace}/cost behind the SigV4 door, where IAM lets a caller read
 * its own namespaces' cost only.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../support/moto-endpoint.js';
import { createSigV4Signer } from '../../cli/sigv4.js';
import type { DynamoDbStore } from '../../functions/adapters/dynamodb/index.js';
import { API_VERSION } from '../../functions/api/common.js';
import { usagePeriod } from '../../functions/metering/index.js';
import { ACCOUNT, REGION, type Principal } from '../../e2e/aws/account.js';
import { type ApiGateway, startApiGateway } from '../../e2e/aws/api-gateway.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { AwsGateway } from '../../e2e/aws/gateway.js';
import { denyMessage } from '../../e2e/aws/iam/report.js';
import { LambdaRuntime } from '../../e2e/aws/lambda-runtime.js';
import { Deployment } from '../../e2e/aws/template.js';
import { emulatorDynamoDbClient, newTableStore } from '../support/dynamodb-store-factory.js';
import { placeholderPhysicalIds } from '../support/emulated-stack.js';

const endpoint = () => motoEndpoint();

let dir: string;
let deployment: Deployment;
let gateway: AwsGateway;
let runtime: LambdaRuntime;
let api: ApiGateway;
let store: DynamoDbStore;
let provisionFn: string;
let functionRoles: Set<string>;
let callers: Record<'teamAReader' | 'teamBWriter', Principal>;

/** A signed GET of the deployed API as a caller. */
async function get(who: Principal, path: string): Promise<{ status: number; json: any }> {
  const sign = createSigV4Signer({ region: REGION, credentials: who.credentials });
  const url = new URL(path.replace(/^\//, ''), api.url);
  const res = await fetch(url, { headers: await sign({ method: 'GET', url, headers: {} }) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cost-'));
  const assembly = synthesize(join(dir, 'assembly'));
  const functionOf = (prefix: string) => Object.keys(assembly.bundles).find((id) => id.toLowerCase().startsWith(prefix))!;
  const fns = { http: functionOf('httphandler'), provision: functionOf('provision') };
  provisionFn = fns.provision;
  deployment = new Deployment(assembly.stackName, assembly.template, assembly.directory, randomUUID());
  const dynamodb = emulatorDynamoDbClient(endpoint());
  const table = await newTableStore(dynamodb);
  store = table.store;
  deployment.setPhysical(deployment.ofType('AWS::DynamoDB::Table')[0]!, {
    ref: table.tableName,
    attributes: {
      Arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table.tableName}`,
      StreamArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table.tableName}/stream/none`,
    },
  });
  placeholderPhysicalIds(deployment, ACCOUNT);

  const principal = (role: string, key: string): Principal => ({
    name: role,
    arn: String(deployment.physicalOf(role).attributes['Arn']),
    policies: deployment.identityPolicies(role),
    credentials: { accessKeyId: key, secretAccessKey: `${role}-secret`, sessionToken: `${role}-session` },
  });
  const roles = { http: deployment.roleOfFunction(fns.http), provision: deployment.roleOfFunction(fns.provision) };
  functionRoles = new Set(Object.values(roles));
  const functionPrincipals = new Map([
    [roles.http, principal(roles.http, 'ASIAE2EHTTPFUNCTION7')],
    [roles.provision, principal(roles.provision, 'ASIAE2EPROVISIONFN07')],
  ]);
  callers = {
    teamAReader: principal(assembly.callerRoles.TeamAReader, 'ASIAE2ETEAMAREADER07'),
    teamBWriter: principal(assembly.callerRoles.TeamBWriter, 'ASIAE2ETEAMBWRITER07'),
  };
  gateway = await AwsGateway.start({ backend: endpoint(), deployment, admin: { accessKeyId: 'test', secretAccessKey: 'test' } });
  for (const p of [...functionPrincipals.values(), ...Object.values(callers)]) gateway.register(p);
  runtime = new LambdaRuntime({
    deployment,
    bundles: { [fns.http]: assembly.bundles[fns.http]!, [fns.provision]: assembly.bundles[fns.provision]! },
    endpoint: gateway.endpoint,
    principals: functionPrincipals,
    logDir: join(dir, 'logs'),
  });
  api = await startApiGateway({
    deployment,
    invoke: runtime.invoke,
    invokeWithResponseStream: runtime.invokeWithResponseStream,
    principals: () => Object.values(callers),
    authorize: gateway.authorize,
  });
  for (const namespace of ['team-a', 'team-b'])
    await store.create({ apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: `${namespace}-prod`, namespace }, spec: {} } as never);
}, 240_000);

afterAll(async () => {
  await api?.stop();
  await runtime?.stop();
  await gateway?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cost per cluster on AWS', () => {
  it("counts each provision invocation in its cluster's usage record, with the function's own role", async () => {
    // Act: two checks of team-a's cluster, one of team-b's (machines already gone: each step reads and ends).
    for (const [namespace, n] of [
      ['team-a', 2],
      ['team-b', 1],
    ] as const)
      for (let i = 0; i < n; i++) {
        const r = await runtime.invoke(provisionFn, {
          step: 'checkInstance',
          namespace,
          clusterName: `${namespace}-prod`,
          machineName: 'gone',
          machineUid: randomUUID(),
        });
        expect(r.ok, JSON.stringify(r)).toBe(true);
      }

    // Assess: the records, written by UpdateItem under the provision role (IAM allowed it: no deny of a function).
    const records = await store.listUsage(usagePeriod(new Date()));
    expect(records.map((r) => [r.namespace, r.clusterName, r.counters['lambdaRequests']])).toEqual([
      ['team-a', 'team-a-prod', 2],
      ['team-b', 'team-b-prod', 1],
    ]);
    expect(
      gateway
        .denies()
        .filter((d) => functionRoles.has(d.principal))
        .map(denyMessage),
    ).toEqual([]);
  });

  it("answers a namespace's cost to a caller granted it: its clusters' rows only", async () => {
    const a = await get(callers.teamAReader, '/clusterless/v1/namespaces/team-a/cost');
    expect(a.status, JSON.stringify(a.json)).toBe(200);
    expect(a.json.clusters.map((c: { clusterName: string }) => c.clusterName)).toEqual(['team-a-prod']);
    expect(a.json.clusters[0].usage.lambdaRequests).toBe(2);
    expect(a.json.clusters[0].totalCost).toBeGreaterThan(0);
    expect(a.json.lambdaInvocations).toBe(2);

    const b = await get(callers.teamBWriter, '/clusterless/v1/namespaces/team-b/cost');
    expect(b.json.clusters.map((c: { clusterName: string }) => c.clusterName)).toEqual(['team-b-prod']);
  });

  it("refuses another namespace's cost, and every cluster's, to a caller without a grant for them (403, the function not invoked)", async () => {
    for (const path of ['/clusterless/v1/namespaces/team-b/cost', '/clusterless/v1/cost']) {
      const r = await get(callers.teamAReader, path);
      expect(r.status, path).toBe(403);
      expect(JSON.stringify(r.json)).not.toContain('team-b-prod');
    }
  });
});
