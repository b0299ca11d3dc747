import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSigV4Signer, signingRegion } from '../../../cli/sigv4.js';

// Fixed credentials and clock: no real endpoint is ever called.
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = () => new Date('2024-01-02T03:04:05Z');
const HOST = 'abc123defg.execute-api.eu-west-1.amazonaws.com';
const url = (p: string) => new URL(`https://${HOST}${p}`);
const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z-]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s).digest();

describe('SigV4 for API Gateway', () => {
  const sign = createSigV4Signer({ region: 'eu-west-1', credentials, now });

  it('adds an Authorization header of the SigV4 shape, scoped to the date, region and execute-api', async () => {
    const headers = await sign({
      method: 'GET',
      url: url('/prod/apis/clusterless.dev/v1alpha1/namespaces/default/clusters'),
      headers: { accept: 'application/json' },
    });
    const m = AUTH.exec(headers['authorization'] ?? '');
    expect(m).not.toBeNull();
    const [, key, date, region, service, signed] = m!;
    expect({ key, date, region, service }).toEqual({ key: 'AKIDEXAMPLE', date: '20240102', region: 'eu-west-1', service: 'execute-api' });
    expect(signed!.split(';')).toEqual(expect.arrayContaining(['accept', 'host', 'x-amz-date']));
    expect(headers['x-amz-date']).toBe('20240102T030405Z');
    // fetch sets Host from the URL; the signer must not hand it a second one.
    expect(headers['host']).toBeUndefined();
  });

  it('computes the signature AWS documents (checked against an independent implementation)', async () => {
    const path = '/prod/apis/clusterless.dev/v1alpha1/namespaces/default/machines';
    const headers = await sign({ method: 'GET', url: url(`${path}?labelSelector=a%3Db`), headers: { accept: 'application/json' } });
    const [, , , , , signedHeaders, signature] = AUTH.exec(headers['authorization']!)!;
    const all: Record<string, string> = { ...headers, host: HOST };
    const names = signedHeaders!.split(';');
    const canonical = ['GET', path, 'labelSelector=a%3Db', ...names.map((n) => `${n}:${all[n]}`), '', signedHeaders, sha256('')].join('\n');
    const scope = '20240102/eu-west-1/execute-api/aws4_request';
    const toSign = ['AWS4-HMAC-SHA256', '20240102T030405Z', scope, sha256(canonical)].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, '20240102'), 'eu-west-1'), 'execute-api'), 'aws4_request');
    expect(signature).toBe(createHmac('sha256', key).update(toSign).digest('hex'));
  });

  it('signs the body: another body gives another signature', async () => {
    const req = (body: string) => ({ method: 'POST', url: url('/prod/apis/x'), headers: { 'content-type': 'application/json' }, body });
    const a = AUTH.exec((await sign(req('{"spec":{"replicas":3}}')))['authorization']!)![6];
    const b = AUTH.exec((await sign(req('{"spec":{"replicas":4}}')))['authorization']!)![6];
    const again = AUTH.exec((await sign(req('{"spec":{"replicas":3}}')))['authorization']!)![6];
    expect(a).not.toBe(b);
    expect(a).toBe(again);
  });

  it('sends the session token of temporary credentials', async () => {
    const temp = createSigV4Signer({ region: 'eu-west-1', credentials: { ...credentials, sessionToken: 'TOKEN123' }, now });
    const headers = await temp({ method: 'GET', url: url('/prod/healthz'), headers: {} });
    expect(headers['x-amz-security-token']).toBe('TOKEN123');
    expect(AUTH.exec(headers['authorization']!)![5]!.split(';')).toContain('x-amz-security-token');
  });

  it('takes the region from an execute-api host before the environment (a signature for another region is refused there)', () => {
    expect(signingRegion(HOST, { AWS_REGION: 'us-east-1' })).toBe('eu-west-1');
    expect(signingRegion('api.example.com', { AWS_REGION: 'us-east-1' })).toBe('us-east-1');
    expect(signingRegion('api.example.com', { AWS_DEFAULT_REGION: 'ap-south-1' })).toBe('ap-south-1');
    expect(signingRegion('api.example.com', {})).toBeUndefined();
  });
});
