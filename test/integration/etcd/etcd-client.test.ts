/**
 * EtcdClient on a real three-member etcd with TLS and client certificates required on client and peer URLs:
 * the v3 JSON gateway's answers parsed, errors mapped (etcd's to EtcdApiError with the gRPC code, no answer to
 * EtcdConnectionError), mutual TLS really on both ways, failover across endpoints, put/get, a learner joined and
 * promoted.
 */
import { request } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdApiError, EtcdClient, EtcdConnectionError, GrpcCode } from '../../../functions/adapters/etcd/client.js';
import { generateClusterCertificates, issueEtcdClientCertificate } from '../../../functions/adapters/kubeadm/certificates.js';
import { EtcdUnavailableError } from '../../../functions/ports.js';
import { type RunningEtcdCluster, startEtcdCluster } from '../../support/etcd-cluster.js';
import { freePort } from '../../support/free-port.js';
import { waitUntil } from '../../support/wait.js';

let etcd: RunningEtcdCluster;
let client: EtcdClient;

beforeAll(async () => {
  etcd = await startEtcdCluster({ members: 3 });
  client = etcd.client();
  // Settled: every member answers with one leader, so each test's first endpoint answers itself (a member still
  // electing answers Unavailable, and the client rightly goes on to the next one).
  await waitUntil(
    'one leader seen by every member',
    async () => {
      const leaders = await Promise.all(
        etcd.members.map((m) =>
          client.status(m.clientUrl).then(
            (s) => (s.errors.length === 0 ? s.leaderId : undefined),
            () => undefined,
          ),
        ),
      );
      return leaders.every((l) => l !== undefined && l !== '0' && l === leaders[0]) || undefined;
    },
    60_000,
    100,
  );
});

afterAll(async () => {
  await etcd?.stop();
});

const leaderOf = async () => (await client.status(etcd.members[0]!.clientUrl)).leaderId;

describe('EtcdClient on a real etcd cluster with mutual TLS', () => {
  it('lists the three members with their names, ids and URLs', async () => {
    const list = await client.memberList();

    expect(list.members.map((m) => m.name).sort()).toEqual(['member-1', 'member-2', 'member-3']);
    for (const m of list.members) {
      const started = etcd.member(m.name);
      expect(m).toEqual({
        id: expect.stringMatching(/^[1-9][0-9]*$/),
        name: m.name,
        peerURLs: [started.peerUrl],
        clientURLs: [started.clientUrl],
        learner: false,
      });
    }
    expect(new Set(list.members.map((m) => m.id)).size).toBe(3);
    expect(list.clusterId).toMatch(/^[1-9][0-9]*$/);
    // The member that answered says so in the header. Asked of member-1 alone: under load the client's first
    // endpoint may time out and the next one answer, which is right, so the three-endpoint answer names any of them.
    expect(list.members.map((m) => m.id)).toContain(list.memberId);
    const one = new EtcdClient({ endpoints: [etcd.member('member-1').clientUrl], credentials: etcd.credentials });
    try {
      expect((await one.memberList()).memberId).toBe(list.members.find((m) => m.name === 'member-1')!.id);
    } finally {
      one.close();
    }
  });

  it('reads every member status: one leader for all, the member itself, raft index, no errors', async () => {
    const { members } = await client.memberList();
    const statuses = await Promise.all(members.map((m) => client.status(m.clientURLs[0]!)));

    expect(new Set(statuses.map((s) => s.leaderId)).size).toBe(1);
    expect(members.map((m) => m.id)).toContain(statuses[0]!.leaderId);
    statuses.forEach((s, i) => {
      expect(s.memberId).toBe(members[i]!.id);
      expect(s.errors).toEqual([]);
      expect(BigInt(s.raftIndex)).toBeGreaterThan(0n);
      expect(BigInt(s.raftTerm)).toBeGreaterThan(0n);
      expect(s.dbSize).toBeGreaterThan(0);
      expect(s.version).toMatch(/^3\./);
    });
  });

  it('puts and gets a value (base64 on the wire), and a missing key is undefined', async () => {
    await client.put('/clusterless/test/é', 'ünïcode value');

    expect(await client.get('/clusterless/test/é')).toBe('ünïcode value');
    expect(await client.get('/clusterless/test/missing')).toBeUndefined();
    await client.put('/clusterless/test/empty', '');
    expect(await client.get('/clusterless/test/empty')).toBe('');
  });

  it("maps etcd's error answers to EtcdApiError with the gRPC code", async () => {
    const removed = client.memberRemove('12345');

    await expect(removed).rejects.toBeInstanceOf(EtcdApiError);
    await expect(removed).rejects.toMatchObject({ code: GrpcCode.NotFound, message: expect.stringContaining('member not found') });
  });

  it('moves leadership only through the leader: a follower answers FailedPrecondition; found alone, the leader hands it over', async () => {
    const { members } = await client.memberList();
    const leader = await leaderOf();
    const followers = members.filter((m) => m.id !== leader);

    await expect(client.moveLeader(followers[1]!.id, followers[0]!.clientURLs[0])).rejects.toMatchObject({
      name: 'EtcdApiError',
      code: GrpcCode.FailedPrecondition,
    });
    await client.moveLeader(followers[0]!.id);

    expect(await waitUntil('the new leader', async () => (await leaderOf()) === followers[0]!.id, 20_000)).toBe(true);
  });

  it('goes on to the next endpoint when one does not answer', async () => {
    const dead = `https://127.0.0.1:${await freePort()}`;
    // The dead endpoint, then member-1 alone: the answer must come from member-1.
    const failover = new EtcdClient({ endpoints: [dead, etcd.member('member-1').clientUrl], credentials: etcd.credentials });
    try {
      const list = await failover.memberList();

      expect(list.members).toHaveLength(3);
      expect(list.memberId).toBe(list.members.find((m) => m.name === 'member-1')!.id);
    } finally {
      failover.close();
    }
  });

  it('fails with an EtcdConnectionError (an EtcdUnavailableError) naming every endpoint when none answers', async () => {
    const dead = [`https://127.0.0.1:${await freePort()}`, `https://127.0.0.1:${await freePort()}`];
    const unreachable = new EtcdClient({ endpoints: dead, credentials: etcd.credentials });
    try {
      const listed = unreachable.memberList();

      await expect(listed).rejects.toBeInstanceOf(EtcdConnectionError);
      await expect(listed).rejects.toBeInstanceOf(EtcdUnavailableError);
      await expect(listed).rejects.toMatchObject({ message: expect.stringMatching(/ECONNREFUSED.*ECONNREFUSED/) });
    } finally {
      unreachable.close();
    }
  });

  it('gives up on an endpoint that accepts and never answers, destroying the socket', async () => {
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    const silent: Server = createServer((s) => {
      sockets.push(s);
      // Read (and drop) the TLS hello, so that the client's close is seen.
      s.resume();
      closed.push(new Promise((r) => s.once('close', () => r())));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const stuck = new EtcdClient({ endpoints: [`https://127.0.0.1:${port}`], credentials: etcd.credentials, timeoutMs: 300 });
    try {
      await expect(stuck.memberList()).rejects.toMatchObject({ name: 'EtcdConnectionError', message: expect.stringContaining('no answer within 300 ms') });
      expect(sockets).toHaveLength(1);
      await closed[0];
      expect(sockets[0]!.destroyed).toBe(true);
    } finally {
      stuck.close();
      silent.close();
    }
  });

  it('is refused by etcd with a client certificate from another CA (client-cert-auth is on)', async () => {
    const other = await generateClusterCertificates(new Date(), 'ecdsa-p256');
    const stranger = new EtcdClient({
      endpoints: [etcd.members[0]!.clientUrl],
      credentials: { ca: etcd.credentials.ca, ...(await issueEtcdClientCertificate(other.etcdCa, new Date(), 600)) },
    });
    try {
      await expect(stranger.memberList()).rejects.toBeInstanceOf(EtcdConnectionError);
      await expect(stranger.put('/clusterless/test/stranger', 'x')).rejects.toBeInstanceOf(EtcdConnectionError);
    } finally {
      stranger.close();
    }
    expect(await client.get('/clusterless/test/stranger')).toBeUndefined();
  });

  it('is refused by etcd without a client certificate', async () => {
    // Node's own request: EtcdClient never goes without one.
    const anonymous = new Promise<number>((resolve, reject) => {
      const req = request(new URL('/v3/cluster/member/list', etcd.members[0]!.clientUrl), { method: 'POST', ca: etcd.credentials.ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });

    await expect(anonymous).rejects.toThrow(/certificate|socket hang up|ECONNRESET/);
  });

  it("refuses etcd's serving certificate when it trusts another CA", async () => {
    const other = await generateClusterCertificates(new Date(), 'ecdsa-p256');
    const misled = new EtcdClient({ endpoints: [etcd.members[0]!.clientUrl], credentials: { ...etcd.credentials, ca: other.etcdCa.cert } });
    try {
      await expect(misled.memberList()).rejects.toMatchObject({ name: 'EtcdConnectionError', message: expect.stringMatching(/certificate/) });
    } finally {
      misled.close();
    }
  });

  it('adds a learner that starts with the member list memberAdd returned, then promotes it', async () => {
    const learner = await etcd.addMember('member-4', { learner: true });
    const listed = (await client.memberList()).members.find((m) => m.name === 'member-4');

    expect(listed).toMatchObject({ learner: true, clientURLs: [learner.clientUrl], peerURLs: [learner.peerUrl] });
    // etcd refuses the promotion until the learner has caught up with the leader's log.
    await waitUntil(
      'the learner promoted',
      async () => {
        try {
          return (await client.memberPromote(listed!.id)).length > 0;
        } catch (err) {
          if (err instanceof EtcdApiError && err.code === GrpcCode.FailedPrecondition) return false;
          throw err;
        }
      },
      30_000,
      500,
    );
    const after = await client.memberList();

    expect(after.members.find((m) => m.name === 'member-4')?.learner).toBe(false);
    expect(after.members).toHaveLength(4);
  });
});
