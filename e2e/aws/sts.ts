/**
 * STS GetCallerIdentity by presigned URL, as the kubectl door's tokens use it (functions/adapters/aws/sts-token.ts),
 * on 127.0.0.1. moto's STS cannot stand in: it reads the caller's access key from the Authorization header only, so
 * every presigned call is its default user, and it checks no signature. This one knows the account's principals
 * (their emulated credentials), recomputes the presigned signature with the SDK's own signer over the signed headers
 * (x-k8s-aws-id among them: a token signed for another audience fails here, as at STS), honours a presigned URL for
 * 15 minutes after X-Amz-Date whatever X-Amz-Expires says (as STS does), and answers the caller's assumed-role ARN
 * in STS's JSON shape (Accept: application/json) or SignatureDoesNotMatch / InvalidClientTokenId with 403.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Principal } from './account.js';

export interface PresignedSts {
  /** The origin to send presigned URLs to (AWS_ENDPOINT_URL_STS of a token's signer). */
  endpoint: string;
  /** Every GetCallerIdentity answered, by access key and outcome. */
  calls: { accessKeyId: string; status: number }[];
  stop(): Promise<void>;
}

const PRESIGNED_VALIDITY_MS = 15 * 60 * 1000;
const SIGNATURE_PARAMETERS = new Set([
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-signedheaders',
  'x-amz-signature',
  'x-amz-security-token',
]);

const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

function amzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

/** The session ARN STS answers for a role's temporary credentials. */
export function assumedRoleArn(principal: Principal, session = 'e2e'): string {
  const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(principal.arn);
  if (!m) return principal.arn;
  return `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${session}`;
}

export async function startPresignedSts(options: { principals: () => Principal[]; now?: () => Date }): Promise<PresignedSts> {
  const calls: PresignedSts['calls'] = [];
  const now = options.now ?? (() => new Date());

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = url.searchParams;
    const accessKeyId = q.get('X-Amz-Credential')?.split('/')[0] ?? '';
    const answer = (status: number, body: object) => {
      calls.push({ accessKeyId, status });
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const error = (status: number, code: string, message: string) => answer(status, { Error: { Code: code, Message: message, Type: 'Sender' } });
    if (req.method !== 'GET' || url.pathname !== '/' || q.get('Action') !== 'GetCallerIdentity')
      return error(400, 'InvalidAction', 'only presigned GetCallerIdentity is served here');
    const principal = options.principals().find((p) => p.credentials.accessKeyId === accessKeyId);
    if (!principal) return error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const [, day, region, service] = (q.get('X-Amz-Credential') ?? '').split('/');
    const date = amzDate(q.get('X-Amz-Date') ?? '');
    const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
    if (!date || !region || service !== 'sts' || day !== q.get('X-Amz-Date')?.slice(0, 8) || !signedHeaders.includes('host'))
      return error(400, 'IncompleteSignature', 'the presigned URL is incomplete');
    if (now().getTime() > date.getTime() + PRESIGNED_VALIDITY_MS) return error(403, 'ExpiredToken', 'Request has expired');
    if (principal.credentials.sessionToken !== undefined && q.get('X-Amz-Security-Token') !== principal.credentials.sessionToken)
      return error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const query: Record<string, string> = {};
    for (const [k, v] of q) if (!SIGNATURE_PARAMETERS.has(k.toLowerCase())) query[k] = v;
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = req.headers[name];
      if (value === undefined) return error(403, 'SignatureDoesNotMatch', `the signed header ${name} is missing`);
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const signer = new SignatureV4({ service: 'sts', region, credentials: principal.credentials, sha256: Sha256 });
    const expected = await signer.presign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: url.hostname, path: '/', query, headers }), {
      signingDate: date,
      expiresIn: Number(q.get('X-Amz-Expires') ?? '0'),
    });
    const signature = String(expected.query?.['X-Amz-Signature'] ?? '');
    if (!same(signature, q.get('X-Amz-Signature') ?? ''))
      return error(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    const arn = assumedRoleArn(principal);
    const account = /::(\d{12}):/.exec(principal.arn)?.[1] ?? '';
    return answer(200, {
      GetCallerIdentityResponse: {
        GetCallerIdentityResult: {
          Account: account,
          Arn: arn,
          UserId: `AROA${createHash('sha256').update(principal.arn).digest('hex').slice(0, 17).toUpperCase()}:e2e`,
        },
        ResponseMetadata: { RequestId: crypto.randomUUID() },
      },
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
