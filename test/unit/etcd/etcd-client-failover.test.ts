/**
 * Which calls EtcdClient sends to the next endpoint, against two in-process HTTPS servers standing in for etcd
 * members (mutual TLS with certificates from a fresh etcd CA): a member add, which etcd must never get twice, goes
 * on only when the connection was refused; a member list goes on after an Unavailable answer too.
 */
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdApiError, EtcdClient, GrpcCode } from '../../../functions/adapters/etcd/client.js';
import { generateClusterCertificates, issueEtcdClientCertificate, issueEtcdMemberCertificates } from '../../../functions/adapters/kubeadm/certificates.js';
import type { EtcdCredentials } from '../../../functions/adapters/etcd/client.js';
import { freePort } from '../../support/free-port.js';

let credentials: EtcdCredentials;
const servers: Server[] = [];
const calls: Record<string, string[]> = { unavailable: [], stopped: [], healthy: [] };
let unavailable: string;
let stopped: string;
let healthy: string;

/** A member that answers every call with `answer`, recording the paths it was sent. */
async function member(name: string, answer: { status: number; body: object }, tls: { ca: string; cert: string; key: string }): Promise<string> {
  const server = createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    calls[name]!.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body)));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `https://127.0.0.1:${(server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  const now = new Date();
  const { etcdCa } = await generateClusterCertificates(now, 'ecdsa-p256');
  credentials = { ca: etcdCa.cert, ...(await issueEtcdClientCertificate(etcdCa, now, 600)) };
  const { server } = await issueEtcdMemberCertificates(etcdCa, { nodeName: 'member', ip: '127.0.0.1' }, now, 600);
  const tls = { ca: etcdCa.cert, ...server };
  unavailable = await member('unavailable', { status: 503, body: { code: GrpcCode.Unavailable, message: 'etcdserver: leader changed' } }, tls);
  // What a member being removed answers while its raft node stops: gRPC Unknown, as etcd passes raft's ErrStopped on.
  stopped = await member('stopped', { status: 500, body: { code: 2, message: 'raft: stopped' } }, tls);
  healthy = await member(
    'healthy',
    { status: 200, body: { header: { member_id: '2' }, member: { ID: '9', peerURLs: ['https://10.0.0.9:2380'] }, members: [{ ID: '2', name: 'b' }] } },
    tls,
  );
});

afterAll(() => {
  for (const s of servers) s.close();
});

const reset = () => {
  calls['unavailable'] = [];
  calls['stopped'] = [];
  calls['healthy'] = [];
};

describe('EtcdClient failover', () => {
  it('does not send a member add to another member after an Unavailable answer (it may have been applied)', async () => {
    reset();
    const client = new EtcdClient({ endpoints: [unavailable, healthy], credentials });
    try {
      await expect(client.memberAdd(['https://10.0.0.9:2380'])).rejects.toMatchObject({ name: 'EtcdApiError', code: GrpcCode.Unavailable });

      expect(calls['healthy']).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('sends a member add to the next member when the connection was refused (nothing was sent)', async () => {
    reset();
    const client = new EtcdClient({ endpoints: [`https://127.0.0.1:${await freePort()}`, healthy], credentials });
    try {
      const { member } = await client.memberAdd(['https://10.0.0.9:2380']);

      expect(member.id).toBe('9');
      expect(calls['healthy']).toEqual(['/v3/cluster/member/add']);
    } finally {
      client.close();
    }
  });

  it('sends a member list on to the next member after an Unavailable answer', async () => {
    reset();
    const client = new EtcdClient({ endpoints: [unavailable, healthy], credentials });
    try {
      const list = await client.memberList();

      expect(list.memberId).toBe('2');
      expect(calls).toEqual({ unavailable: ['/v3/cluster/member/list'], stopped: [], healthy: ['/v3/cluster/member/list'] });
    } finally {
      client.close();
    }
  });

  it('sends a call on to the next member when the first one answers that its raft has stopped (a member being removed)', async () => {
    reset();
    const client = new EtcdClient({ endpoints: [stopped, healthy], credentials });
    try {
      const list = await client.memberList();

      expect(list.memberId).toBe('2');
      expect(calls['stopped']).toEqual(['/v3/cluster/member/list']);
      expect(calls['healthy']).toEqual(['/v3/cluster/member/list']);
    } finally {
      client.close();
    }
  });

  it('asks every member again, a few times, while all answer Unavailable, then fails with their answer', async () => {
    reset();
    const client = new EtcdClient({ endpoints: [unavailable], credentials });
    try {
      const listed = client.memberList();

      await expect(listed).rejects.toBeInstanceOf(EtcdApiError);
      expect(calls['unavailable']).toHaveLength(3);
    } finally {
      client.close();
    }
  });
});
