/**
 * Kubeconfig documents read without @kubernetes/client-node: the current context's server, CA and credentials,
 * which is all the REST client (rest-client.ts) needs. The fields and their meaning are kubectl's
 * (k8s.io/client-go/tools/clientcmd/api/v1/types.go: Cluster, AuthInfo, Context); paths in a file are relative
 * to the file's folder (clientcmd loader.go, ResolveLocalPaths).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

/** Where and how to reach one API server: what a kubeconfig's current context says. */
export interface Kubeconfig {
  /** `https://host:port`, possibly with a path prefix. */
  server: string;
  /** PEM of the CA the server's certificate must chain to; undefined trusts the system's CAs. */
  ca?: string;
  /** The client certificate and key (PEM), for clients that authenticate with one. */
  cert?: string;
  key?: string;
  /** A bearer token. */
  token?: string;
  /** Basic authentication, where a kubeconfig still has it. */
  username?: string;
  password?: string;
  /** The name the server's certificate is checked against, when it is not the server URL's host. */
  tlsServerName?: string;
  insecureSkipTlsVerify?: boolean;
}

/** A kubeconfig as users give it: a loaded one, a file path, or the file's text (YAML or JSON). */
export type KubeconfigSource = Kubeconfig | string;

/** Inline text has a newline or starts like a document; anything else is a path. */
export function isInlineKubeconfig(source: string): boolean {
  const s = source.trimStart();
  return s.includes('\n') || s.startsWith('{') || s.startsWith('apiVersion:');
}

interface Named<T> {
  name?: string;
  [key: string]: T | string | undefined;
}

type Fields = Record<string, unknown>;

const field = (o: Fields | undefined, key: string): string | undefined => (typeof o?.[key] === 'string' && o[key] !== '' ? (o[key] as string) : undefined);
const named = (list: unknown, name: string | undefined, key: string): Fields | undefined => {
  if (!Array.isArray(list) || name === undefined) return undefined;
  const entry = (list as Named<Fields>[]).find((e) => e?.name === name);
  const value = entry?.[key];
  return value && typeof value === 'object' ? value : undefined;
};

/** Reads the current context of a kubeconfig (text or file); a loaded one is returned as it is. */
export function loadKubeconfig(source: KubeconfigSource): Kubeconfig {
  if (typeof source !== 'string') return source;
  if (isInlineKubeconfig(source)) return parseKubeconfig(source);
  return parseKubeconfig(readFileSync(source, 'utf8'), dirname(resolve(source)));
}

/** The current context's cluster and user of a kubeconfig's text; `dir` resolves the file paths it names. */
export function parseKubeconfig(text: string, dir = process.cwd()): Kubeconfig {
  let doc: Fields;
  try {
    doc = (parse(text) ?? {}) as Fields;
  } catch (err) {
    throw new Error(`the kubeconfig is not YAML: ${(err as Error).message}`, { cause: err });
  }
  const contextName = field(doc, 'current-context');
  const context = named(doc['contexts'], contextName, 'context');
  const cluster = named(doc['clusters'], field(context, 'cluster'), 'cluster');
  const server = field(cluster, 'server');
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const user = named(doc['users'], field(context, 'user'), 'user') ?? {};
  if (user['exec'] || user['auth-provider'])
    throw new Error('the kubeconfig authenticates with a plugin (exec or auth-provider); give it a certificate or a token');
  const file = (path: string) => readFileSync(isAbsolute(path) ? path : resolve(dir, path), 'utf8');
  const data = (o: Fields, key: string) => {
    const inline = field(o, `${key}-data`);
    if (inline) return Buffer.from(inline, 'base64').toString('utf8');
    const path = field(o, key);
    return path ? file(path) : undefined;
  };
  const ca = data(cluster!, 'certificate-authority');
  const cert = data(user, 'client-certificate');
  const key = data(user, 'client-key');
  const tokenFile = field(user, 'tokenFile');
  const token = field(user, 'token') ?? (tokenFile ? file(tokenFile).trim() : undefined);
  const username = field(user, 'username');
  const password = field(user, 'password');
  const tlsServerName = field(cluster, 'tls-server-name');
  return {
    server,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(token ? { token } : {}),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
    ...(cluster!['insecure-skip-tls-verify'] === true ? { insecureSkipTlsVerify: true } : {}),
  };
}
