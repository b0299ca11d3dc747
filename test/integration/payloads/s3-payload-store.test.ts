import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { digestHex, payloadDigest } from '../../../functions/adapters/payloads/digest.js';
import { PAYLOAD_KEY_PREFIX, S3PayloadStore } from '../../../functions/adapters/payloads/s3-payload-store.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { runPayloadStoreContract } from '../../support/payload-store-contract.js';

const config = () => emulatorClientConfig(motoEndpoint());
const bucket = uniqueName('payloads').toLowerCase();
let keyArn = '';

/** One signed S3 call straight to moto (the repository has no S3 client): what the test sets up or looks at. */
async function s3(method: string, path: string, body?: Uint8Array): Promise<Response> {
  const { endpoint, region, credentials } = config();
  const url = new URL(`${endpoint}${path}`);
  const signer = new SignatureV4({ service: 's3', region, credentials, sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign(
    new HttpRequest({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, ...(body ? { 'content-length': String(body.length) } : {}) },
      ...(body ? { body } : {}),
    }),
  );
  const { host: _host, ...headers } = signed.headers;
  return fetch(url, { method, headers, ...(body ? { body } : {}) });
}

beforeAll(async () => {
  const kms = new KMSClient(config());
  keyArn = (await kms.send(new CreateKeyCommand({ Description: 'payloads' }))).KeyMetadata!.Arn!;
  kms.destroy();
  const res = await s3('PUT', `/${bucket}`);
  expect(res.status).toBe(200);
});

const store = () => new S3PayloadStore({ bucket, region: config().region, endpoint: config().endpoint, credentials: config().credentials, kmsKeyId: keyArn });

runPayloadStoreContract('S3 on moto_server', () => ({
  store: store(),
  tamper: async (digest, bytes) => {
    expect((await s3('PUT', `/${bucket}/${PAYLOAD_KEY_PREFIX}${digestHex(digest)}`, bytes)).ok).toBe(true);
  },
}));

describe('S3PayloadStore', () => {
  it("encrypts every payload with the installation's KMS key", async () => {
    const value = new TextEncoder().encode('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
    const digest = payloadDigest(value);
    await store().put(digest, value);
    const head = await s3('HEAD', `/${bucket}/${PAYLOAD_KEY_PREFIX}${digestHex(digest)}`);
    expect(head.headers.get('x-amz-server-side-encryption')).toBe('aws:kms');
    expect(head.headers.get('x-amz-server-side-encryption-aws-kms-key-id')).toBe(keyArn);
  });
});
