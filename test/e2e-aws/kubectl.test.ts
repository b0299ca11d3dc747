/**
 * kubectl through the kubectl door of the emulated account: the synthesized template's second RestApi (HttpApi
 * kubectlApi) served by e2e/aws/api-gateway.ts, its REQUEST authorizer the real token-authorizer handler with the
 * ACCESS_ENTRIES the template gives it, and the presigned-STS of the emulated account (e2e/aws/sts.ts). The real
 * kubectl runs `node cli/bin.mjs token ...` as its exec credential plugin, with a role's emulated credentials.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlKubeconfig } from '../../cli/commands/token.js';
import { MemoryStore } from '../../functions/adapters/memory/index.js';
import { API_VERSION } from '../../functions/api/common.js';
import { handleRequest } from '../../functions/api/http/index.js';
import { createHandler } from '../../functions/handlers/http.js';
import { createAuthorizer, depsFromEnvironment } from '../../functions/handlers/token-authorizer.js';
import { ACCOUNT, type Invoke, type Json, type Principal } from '../../e2e/aws/account.js';
import { type ApiGateway, startApiGateway } from '../../e2e/aws/api-gateway.js';
import { synthesize } from '../../e2e/aws/assembly.js';
import { type PresignedSts, startPresignedSts } from '../../e2e/aws/sts.js';
import { Deployment } from '../../e2e/aws/template.js';
import { generateClusterCertificates, issueCertificate } from '../../functions/adapters/kubeadm/index.js';
import { kubeBinaries } from '../support/kube.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BASE = '/apis/clusterless.dev/v1alpha1';

let dir: string;
let gateway: ApiGateway;
let sts: PresignedSts;
let principals: Record<'writer' | 'stranger', Principal>;
let kubectlApiId: string;
/** The CA of the emulated execute-api's serving certificate. */
let caPem: string;

/** Every resource a physical id: roles their ARNs, functions theirs, the RestApis an id of API Gateway's shape. */
function deploy(deployment: Deployment): void {
  for (const id of Object.keys(deployment.template.Resources)) {
    const type = deployment.resource(id).Type;
    if (type === 'AWS::IAM::Role') deployment.setPhysical(id, { ref: id, attributes: { Arn: `arn:aws:iam::${ACCOUNT}:role/${id}` } });
    else if (type === 'AWS::Lambda::Function')
      deployment.setPhysical(id, { ref: id, attributes: { Arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${id}` } });
    else if (type === 'AWS::ApiGateway::RestApi')
      deployment.setPhysical(id, {
        ref: id
          .toLowerCase()
          .replace(/[^a-z0-9]/g, '')
          .slice(-10),
        attributes: { RootResourceId: 'r00t' },
      });
    else if (type === 'AWS::ApiGateway::Stage') deployment.setPhysical(id, { ref: String(deployment.resource(id).Properties?.['StageName']), attributes: {} });
    else deployment.setPhysical(id, { ref: id, attributes: { Arn: `arn:aws:unknown:us-east-1:${ACCOUNT}:${id}` } });
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-door-'));
  const assembly = synthesize(join(dir, 'assembly'), { bundle: false });
  const deployment = new Deployment(assembly.stackName, assembly.template, assembly.directory);
  deploy(deployment);
  const functionOf = (prefix: string) => deployment.ofType('AWS::Lambda::Function').find((id) => id.startsWith(prefix))!;
  const http = functionOf('httphandler');
  const authorizerFn = functionOf('tokenauthorizerhandler');
  const kubectlApi = deployment.ofType('AWS::ApiGateway::RestApi').find((id) => id.includes('Kubectl'))!;
  kubectlApiId = String(deployment.resolve({ Ref: kubectlApi }));
  const role = (id: string, key: string): Principal => ({
    name: id,
    arn: `arn:aws:iam::${ACCOUNT}:role/${id}`,
    policies: [],
    credentials: { accessKeyId: key, secretAccessKey: `${id}-secret`, sessionToken: `${id}-session` },
  });
  // The stranger is the http function's own role: a principal of the account STS vouches for, granted nothing.
  principals = {
    writer: role(assembly.callerRoles.TeamAWriter, 'ASIAE2ETEAMAWRITER01'),
    stranger: role(deployment.roleOfFunction(http), 'ASIAE2EHTTPFUNCTION1'),
  };
  sts = await startPresignedSts({ principals: () => Object.values(principals) });

  const store = new MemoryStore();
  for (const namespace of ['team-a', 'team-b']) {
    const created = await handleRequest(
      {
        method: 'POST',
        path: `${BASE}/namespaces/${namespace}/clusters`,
        query: {},
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: `${namespace}-prod`, namespace }, spec: {} }),
      },
      { store },
    );
    expect(created.status).toBe(201);
  }
  const environment = (deployment.resolve((deployment.resource(authorizerFn).Properties!['Environment'] as { Variables: Json }).Variables) ?? {}) as Record<
    string,
    string
  >;
  // The one variable the emulated account adds, which the stack never sets: its STS is an http origin.
  const authorize = createAuthorizer(depsFromEnvironment({ ...environment, CLUSTERLESS_TEST_STS_ENDPOINT: sts.endpoint }));
  const serve = createHandler({ store });
  const invoke: Invoke = async (fn, event) => {
    try {
      if (fn === authorizerFn) return { ok: true, payload: await authorize(event as never) };
      if (fn === http) return { ok: true, payload: await serve(event as never) };
      return { ok: false, errorType: 'Error', errorMessage: `no function ${fn} here` };
    } catch (err) {
      return { ok: false, errorType: (err as Error).name, errorMessage: (err as Error).message };
    }
  };
  // kubectl runs exec plugins for https servers only: the emulated execute-api serves TLS, as the real one does.
  const { ca } = await generateClusterCertificates(new Date(), 'ecdsa-p256');
  caPem = ca.cert;
  const tls = await issueCertificate(
    ca,
    { subject: { commonName: 'execute-api' }, extendedKeyUsages: ['serverAuth'], ipAddresses: ['127.0.0.1'] },
    new Date(),
    3600,
  );
  gateway = await startApiGateway({ deployment, invoke, principals: () => [], authorize: async () => {}, restApi: kubectlApi, tls });
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await sts?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The real kubectl with a kubeconfig whose user runs `node cli/bin.mjs token`, as `principal`. */
function kubectl(principal: Principal, args: string[], options: { apiId?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const kubeconfig = join(dir, `${principal.name}-${options.apiId ?? 'own'}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    kubectlKubeconfig({
      server: gateway.url,
      certificateAuthority: caPem,
      command: [process.execPath, join(ROOT, 'cli', 'bin.mjs'), 'token', '--server', gateway.url, '--api-id', options.apiId ?? kubectlApiId],
    }),
  );
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    AWS_ACCESS_KEY_ID: principal.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: principal.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: principal.credentials.sessionToken ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_STS: sts.endpoint,
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(kubeBinaries().kubectl, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kubectl-cache'), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('kubectl through the kubectl door, with clusterless token as its exec plugin', () => {
  it('lists the objects of a namespace the role is granted', async () => {
    // Act
    const run = await kubectl(principals.writer, ['get', '--raw', `${BASE}/namespaces/team-a/clusters`]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const list = JSON.parse(run.stdout) as { kind: string; items: { metadata: { name: string } }[] };
    expect(list.kind).toBe('ClusterList');
    expect(list.items.map((i) => i.metadata.name)).toEqual(['team-a-prod']);
    expect(gateway.errors).toEqual([]);
  }, 60_000);

  it('is refused (403 Status, Forbidden) in a namespace the role is not granted', async () => {
    // Act
    const run = await kubectl(principals.writer, ['get', '--raw', `${BASE}/namespaces/team-b/clusters`]);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Forbidden/);
    expect(run.stdout).not.toContain('team-b-prod');
    expect(gateway.refusals.at(-1)).toMatchObject({ principal: principals.writer.arn, method: 'GET', path: `${BASE}/namespaces/team-b/clusters` });
  }, 60_000);

  it('is refused with the token of a principal that has no grant', async () => {
    // Act
    const run = await kubectl(principals.stranger, ['get', '--raw', `${BASE}/namespaces/team-a/clusters`]);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Forbidden/);
    expect(run.stdout).not.toContain('team-a-prod');
    expect(gateway.refusals.at(-1)).toMatchObject({ principal: principals.stranger.arn });
  }, 60_000);

  it('is refused (401, Unauthorized) with a token signed for another installation’s API', async () => {
    // Act
    const run = await kubectl(principals.writer, ['get', '--raw', `${BASE}/namespaces/team-a/clusters`], { apiId: 'otherapi01' });

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/You must be logged in to the server/);
    expect(run.stdout).not.toContain('team-a-prod');
  }, 60_000);
});
