/**
 * The few etcd calls the process provider makes itself to join a control-plane machine (member list, member add)
 * and to see that a member answers (health), over etcd's JSON gateway (/v3/...) with a client certificate from
 * the cluster's etcd CA. Note: a stand-in, kept behind this small interface, for the EtcdClient of
 * functions/adapters/etcd (memberList, memberAdd(peerURLs) -> {member, members}); once that lands, `etcdMembers`
 * below becomes a thin wrapper over it.
 */
import { request } from 'node:https';

export interface EtcdTls {
  /** PEM: the etcd CA, a client certificate it signed, and its key. */
  ca: string;
  cert: string;
  key: string;
}

export interface EtcdMemberInfo {
  /** A uint64 as a decimal string. */
  id: string;
  /** Empty for a member added that has not started yet. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

export interface EtcdMembers {
  list(): Promise<EtcdMemberInfo[]>;
  add(peerURL: string): Promise<{ member: EtcdMemberInfo; members: EtcdMemberInfo[] }>;
}

interface GatewayMember {
  ID?: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
}

const member = (m: GatewayMember): EtcdMemberInfo => ({ id: m.ID ?? '', name: m.name ?? '', peerURLs: m.peerURLs ?? [], clientURLs: m.clientURLs ?? [] });

function call<T>(url: string, tls: EtcdTls, method: 'GET' | 'POST', body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise<T>((resolveCall, reject) => {
    const req = request(
      url,
      { method, ...tls, timeout: 5000, headers: payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${url}: ${res.statusCode} ${text.slice(0, 300)}`));
          try {
            resolveCall(JSON.parse(text) as T);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The members through the first of `endpoints` (client URLs) that answers. */
export function etcdMembers(endpoints: readonly string[], tls: EtcdTls): EtcdMembers {
  const first = async <T>(path: string, body: unknown): Promise<T> => {
    let last: unknown = new Error('no etcd endpoint given');
    for (const e of endpoints) {
      try {
        return await call<T>(`${e}${path}`, tls, 'POST', body);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  };
  return {
    list: async () => ((await first<{ members?: GatewayMember[] }>('/v3/cluster/member/list', {})).members ?? []).map(member),
    add: async (peerURL) => {
      const r = await first<{ member?: GatewayMember; members?: GatewayMember[] }>('/v3/cluster/member/add', { peerURLs: [peerURL] });
      return { member: member(r.member ?? {}), members: (r.members ?? []).map(member) };
    },
  };
}

/** Whether the member at `endpoint` reports itself healthy (GET /health: it has a leader and no alarm). */
export async function etcdHealthy(endpoint: string, tls: EtcdTls): Promise<boolean> {
  const r = await call<{ health?: string }>(`${endpoint}/health`, tls, 'GET');
  return r.health === 'true';
}
