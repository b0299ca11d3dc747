/**
 * A proxy in front of moto_server that checks AWS Signature Version 4 as AWS does (moto does not): it signs
 * each request again with the SDK's own signer (@smithy/signature-v4), the same credentials and date and the
 * headers the request says it signed, and refuses it with 403 unless the signatures match.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigV4Proxy {
  endpoint: string;
  /** X-Amz-Target of every request, and whether its signature held. */
  seen: { target: string; verified: boolean }[];
  stop(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });

function amzDate(s: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new Error(`bad x-amz-date ${s}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export async function startSigV4Proxy(target: string, credentials: Credentials, region: string, service: string): Promise<SigV4Proxy> {
  const seen: SigV4Proxy['seen'] = [];
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256, applyChecksum: false });
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const auth = req.headers['authorization'] ?? '';
      const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
      let verified = false;
      if (m && m[1] === credentials.accessKeyId && m[3] === region && m[4] === service) {
        const signedHeaders = m[5]!.split(';');
        const headers: Record<string, string> = {};
        for (const h of signedHeaders) headers[h] = String(req.headers[h] ?? '');
        const date = amzDate(headers['x-amz-date'] ?? '');
        const url = new URL(req.url ?? '/', 'http://placeholder');
        const request = new HttpRequest({
          method: req.method ?? 'POST',
          protocol: 'http:',
          hostname: headers['host']!.split(':')[0]!,
          path: url.pathname,
          headers,
          body,
        });
        const signed = await signer.sign(request, { signingDate: date });
        verified = /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization']))?.[1] === m[6];
      }
      seen.push({ target: String(req.headers['x-amz-target'] ?? ''), verified });
      if (!verified) {
        res.writeHead(403, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' }));
        return;
      }
      const forwarded = await fetch(`${target}${req.url ?? '/'}`, {
        method: req.method ?? 'POST',
        headers: Object.fromEntries(
          Object.entries(req.headers)
            .filter(([k]) => k !== 'host' && k !== 'content-length')
            .map(([k, v]) => [k, String(v)]),
        ),
        body,
      });
      res.writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'application/x-amz-json-1.1' });
      res.end(Buffer.from(await forwarded.arrayBuffer()));
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, seen, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
