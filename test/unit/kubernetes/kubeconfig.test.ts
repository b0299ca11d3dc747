/**
 * Reading kubeconfigs without @kubernetes/client-node (functions/adapters/kubernetes-client/kubeconfig.ts): the
 * current context's server, CA and credentials, inline or from files relative to the kubeconfig's folder, as
 * kubectl reads them (client-go clientcmd: ResolveLocalPaths).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadKubeconfig, parseKubeconfig } from '../../../functions/adapters/kubernetes-client/kubeconfig.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const doc = (cluster: Record<string, unknown>, user: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    { name: 'other', cluster: { server: 'https://other.test:6443' } },
    { name: 'prod', cluster },
  ],
  users: [
    { name: 'someone', user: { token: 'not-this-one' } },
    { name: 'admin', user },
  ],
  contexts: [
    { name: 'other', context: { cluster: 'other', user: 'someone' } },
    { name: 'admin@prod', context: { cluster: 'prod', user: 'admin' } },
  ],
  'current-context': 'admin@prod',
});

describe('parseKubeconfig', () => {
  it('reads the cluster and user of the current context, with inline CA, client certificate and key', () => {
    // Act
    const kc = parseKubeconfig(
      stringify(
        doc(
          { server: 'https://prod.test:6443', 'certificate-authority-data': b64('CA PEM'), 'tls-server-name': 'api.prod' },
          { 'client-certificate-data': b64('CERT PEM'), 'client-key-data': b64('KEY PEM') },
        ),
      ),
    );
    // Assess
    expect(kc).toEqual({ server: 'https://prod.test:6443', ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', tlsServerName: 'api.prod' });
  });

  it('reads JSON as well as YAML, and a bearer token', () => {
    const kc = parseKubeconfig(JSON.stringify(doc({ server: 'https://prod.test:6443', 'insecure-skip-tls-verify': true }, { token: 'abc' })));
    expect(kc).toEqual({ server: 'https://prod.test:6443', token: 'abc', insecureSkipTlsVerify: true });
  });

  it.each([
    { name: 'no current context', text: stringify({ ...doc({ server: 'https://prod.test:6443' }, {}), 'current-context': '' }), error: /no current cluster/ },
    {
      name: 'a context naming no cluster it has',
      text: stringify({ ...doc({ server: 'https://prod.test:6443' }, {}), clusters: [] }),
      error: /no current cluster/,
    },
    {
      name: 'a credential plugin',
      text: stringify(doc({ server: 'https://prod.test:6443' }, { exec: { command: 'aws', apiVersion: 'client.authentication.k8s.io/v1' } })),
      error: /plugin/,
    },
  ])('refuses $name', ({ text, error }) => {
    expect(() => parseKubeconfig(text)).toThrow(error);
  });
});

describe('loadKubeconfig', () => {
  it('reads a kubeconfig file and the files it names, relative to its own folder', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'clusterless-kubeconfig-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), 'CA PEM');
      writeFileSync(join(dir, 'admin.crt'), 'CERT PEM');
      writeFileSync(join(dir, 'admin.key'), 'KEY PEM');
      const path = join(dir, 'config');
      writeFileSync(
        path,
        stringify(
          doc(
            { server: 'https://prod.test:6443', 'certificate-authority': 'ca.crt' },
            { 'client-certificate': 'admin.crt', 'client-key': join(dir, 'admin.key') },
          ),
        ),
      );
      // Act
      const kc = loadKubeconfig(path);
      // Assess
      expect(kc).toEqual({ server: 'https://prod.test:6443', ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns a loaded kubeconfig as it is', () => {
    const kc = { server: 'https://prod.test:6443', token: 't' };
    expect(loadKubeconfig(kc)).toBe(kc);
  });
});
