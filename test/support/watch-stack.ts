/**
 * The emulated account as the e2e-aws watch tests use it: the synthesized template's RestApi (e2e/aws/api-gateway.ts,
 * SigV4) in front of the real http handler (streaming, run in process behind InvokeWithResponseStream), the table on
 * moto with its stream, and the template's stream-function mapping (e2e/aws/event-sources/stream.ts, its filter
 * criteria and the stream role's policies evaluated) invoking the real stream handler, which writes the watch log the
 * http handler's watches read. Reconciles the stream handler would start and IAM refusals are recorded, not run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigV4Signer } from '../../cli/sigv4.js';
import { DynamoDbStore, createDynamoDbClient } from '../../functions/adapters/dynamodb/index.js';
import { createTable } from '../../functions/adapters/dynamodb/table.js';
import { DynamoDbWatchLog } from '../../functions/adapters/dynamodb/watch-log.js';
import { createHandler } from '../../functions/handlers/http.js';
import { createStreamHandler } from '../../functions/handlers/stream.js';
import type { Workflows } from '../../functions/ports.js';
import { AccessDeniedError, type AuthorizationRequest, type Json, type Principal } from '../../e2e/aws/account.js';
import { type ApiGateway, startApiGateway } from '../../e2e/aws/api-gateway.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { streamInProcess } from '../../e2e/aws/lambda-runtime.js';
import { startStreamSource, type StreamSource } from '../../e2e/aws/event-sources/stream.js';
import { evaluate } from '../../e2e/aws/iam/evaluate.js';
import { Deployment } from '../../e2e/aws/template.js';
import { emulatorClientConfig, uniqueName } from './aws.js';
import { enableStream, keepOnlyMappingOf, placeholderPhysicalIds } from './emulated-stack.js';

const ACCOUNT = '123456789012';

export interface WatchStack {
  gateway: ApiGateway;
  /** team-a's writer of the template's caller roles, who signs `call`. */
  writer: Principal;
  /** The table as the control plane writes it (never through the API). */
  store: DynamoDbStore;
  /** `{namespace}/{cluster}` of every reconcile the stream handler started. */
  reconciles: string[];
  /** Stream reads the stream role was refused. */
  denied: string[];
  /** A request signed as team-a's writer, through the gateway; the body read whole. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
  stop(): Promise<void>;
}

/** Starts the stack on moto at `motoEndpoint`, its folder and table named after `name`. */
export async function startWatchStack(name: string, motoEndpoint: string): Promise<WatchStack> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const reconciles: string[] = [];
  const denied: string[] = [];
  let source: StreamSource | undefined;
  let gateway: ApiGateway | undefined;
  const stop = async () => {
    await gateway?.stop();
    await source?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const assembly = synthesize(join(dir, 'assembly'), { bundle: false });
    const template = assembly.template;
    const ofType = (type: string) => Object.keys(template.Resources).filter((id) => template.Resources[id]!.Type === type);
    const fn = (prefix: string) => ofType('AWS::Lambda::Function').find((id) => id.startsWith(prefix))!;
    const ids = {
      http: fn('httphandler'),
      stream: fn('streamhandler'),
      table: ofType('AWS::DynamoDB::Table')[0]!,
      api: ofType('AWS::ApiGateway::RestApi').find((id) => !id.includes('Kubectl'))!,
    };
    // The reconcile trigger's mapping only (the stream function's).
    keepOnlyMappingOf(template, ids.stream);
    const deployment = new Deployment(assembly.stackName, template, assembly.directory);

    const dynamodb = createDynamoDbClient(emulatorClientConfig(motoEndpoint));
    const tableName = uniqueName(name);
    await createTable(dynamodb, tableName);
    const streamArn = await enableStream(dynamodb, tableName);
    const tableArn = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${tableName}`;
    deployment.setPhysical(ids.table, { ref: tableName, attributes: { Arn: tableArn, StreamArn: streamArn } });
    placeholderPhysicalIds(deployment, ACCOUNT);

    // The stream function as deployed: its role's policies decide whether the mapping may read the stream.
    const role = deployment.roleOfFunction(ids.stream);
    const streamRole = {
      name: role,
      arn: `arn:aws:iam::${ACCOUNT}:role/${role}`,
      policies: deployment.identityPolicies(role),
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    };
    const authorize = async (who: string, operation: string, requests: AuthorizationRequest[]) => {
      for (const r of requests) {
        if ((await evaluate(streamRole, r)).decision === 'Allowed') continue;
        denied.push(`${who} ${r.action} ${r.resource}`);
        throw new AccessDeniedError(`${who} is not authorized to perform: ${operation}`);
      }
    };
    const workflows: Workflows = {
      start: async (_workflow, _name, input) => {
        reconciles.push(`${String(input['namespace'])}/${String(input['clusterName'])}`);
        return { started: true };
      },
    };
    // Settled after 1 s rather than 4: the emulated stream delivers within a few hundred milliseconds.
    const log = new DynamoDbWatchLog({ client: dynamodb, tableName, settleMs: 1000, pollMs: 200 });
    const stream = createStreamHandler({ workflows, watchLog: log });
    source = await startStreamSource({
      deployment,
      endpoint: motoEndpoint,
      invoke: async (_fn, event) => ({ ok: true, payload: (await stream(event as never)) as unknown as Json }),
      authorize,
      pollMs: 20,
      timeScale: 10,
    });

    const store = new DynamoDbStore({ client: dynamodb, tableName });
    const http = createHandler({ store, changes: log });
    const writer: Principal = {
      name: assembly.callerRoles.TeamAWriter,
      arn: `arn:aws:iam::${ACCOUNT}:role/${assembly.callerRoles.TeamAWriter}`,
      policies: deployment.identityPolicies(assembly.callerRoles.TeamAWriter),
      credentials: { accessKeyId: 'AKIAE2ETEAMAWRITER01', secretAccessKey: 'team-a-writer-secret' },
    };
    const started = await startApiGateway({
      deployment,
      restApi: ids.api,
      invoke: async (id) => ({ ok: false, errorType: 'Error', errorMessage: `${id} is not invoked buffered here` }),
      invokeWithResponseStream: (id, event, onChunk, signal) =>
        id === ids.http ? streamInProcess(http, event, onChunk, signal) : Promise.resolve({ ok: false, errorType: 'Error', errorMessage: id }),
      principals: () => [writer],
      authorize: async (who, operation, requests) => {
        for (const r of requests)
          if ((await evaluate(writer, r)).decision !== 'Allowed') throw new AccessDeniedError(`${who} is not authorized to perform: ${operation}`);
      },
    });
    gateway = started;

    const call = async (method: string, path: string, body?: unknown) => {
      const url = new URL(path.replace(/^\//, ''), started.url);
      const text = body === undefined ? undefined : JSON.stringify(body);
      const sign = createSigV4Signer({ region: 'us-east-1', credentials: writer.credentials });
      const headers = await sign({
        method,
        url,
        headers: text ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {},
        ...(text ? { body: text } : {}),
      });
      const res = await fetch(url, { method, headers, ...(text ? { body: text } : {}) });
      return { status: res.status, text: await res.text() };
    };
    return { gateway: started, writer, store, reconciles, denied, call, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
