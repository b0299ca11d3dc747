/**
 * The etcd adapter's pure parts: the gateway's JSON as etcd 3.6 writes it (zero values left out, uint64 as
 * strings), error answers, the `--initial-cluster` of a joining member, member health, the leader and the choice
 * of who takes leadership. The same code runs on a real etcd in test/integration/etcd.
 */
import { describe, expect, it } from 'vitest';
import { initialCluster, parseAlarms, parseApiError, parseMemberList, parseStatus, type EtcdStatus } from '../../../functions/adapters/etcd/client.js';
import { instanceClientUrls, leaderOf, leadershipCandidate, memberHealth, type ObservedMember } from '../../../functions/adapters/etcd/etcd-membership.js';

describe('the gateway JSON', () => {
  it('reads a member list, a member not started having no name and no client URL', () => {
    // Prepare: an answer as etcd 3.6.16 wrote it, with a member added and not started (no name, no clientURLs).
    const body = {
      header: { cluster_id: '8874613326135191630', member_id: '4346579829585822137', raft_term: '2' },
      members: [
        { ID: '18446744073709551615', name: 'member-1', peerURLs: ['https://10.0.0.1:2380'], clientURLs: ['https://10.0.0.1:2379'] },
        { ID: '2871448788431284077', peerURLs: ['https://10.0.0.2:2380'], isLearner: true },
      ],
    };

    const list = parseMemberList(body);

    expect(list).toEqual({
      clusterId: '8874613326135191630',
      memberId: '4346579829585822137',
      members: [
        // The largest uint64 survives: ids stay strings, never JSON numbers.
        { id: '18446744073709551615', name: 'member-1', peerURLs: ['https://10.0.0.1:2380'], clientURLs: ['https://10.0.0.1:2379'], learner: false },
        { id: '2871448788431284077', name: '', peerURLs: ['https://10.0.0.2:2380'], clientURLs: [], learner: true },
      ],
    });
  });

  it('reads a status, zero values left out of the JSON as zero', () => {
    const status = parseStatus({
      header: { member_id: '42' },
      version: '3.6.16',
      dbSize: '36864',
      leader: '7',
      raftIndex: '8',
      raftTerm: '2',
      errors: ['memberID:42 alarm:NOSPACE '],
      dbSizeInUse: '24576',
    });

    expect(status).toEqual({
      memberId: '42',
      leaderId: '7',
      raftTerm: '2',
      raftIndex: '8',
      raftAppliedIndex: '0',
      errors: ['memberID:42 alarm:NOSPACE '],
      dbSize: 36864,
      dbSizeInUse: 24576,
      learner: false,
      version: '3.6.16',
    });
    expect(parseStatus({}).leaderId).toBe('0');
  });

  it('reads alarms by name or by number, leaving out NONE', () => {
    expect(
      parseAlarms({
        alarms: [
          { memberID: '1', alarm: 'NOSPACE' },
          { memberID: '2', alarm: 2 },
          { memberID: '3', alarm: 'NONE' },
        ],
      }),
    ).toEqual([
      { memberId: '1', alarm: 'NOSPACE' },
      { memberId: '2', alarm: 'CORRUPT' },
    ]);
    expect(parseAlarms({ header: {} })).toEqual([]);
  });

  it.each([
    {
      name: 'grpc-gateway v2',
      status: 404,
      body: { code: 5, message: 'etcdserver: member not found' },
      want: { code: 5, message: 'etcdserver: member not found' },
    },
    { name: 'grpc-gateway v1', status: 400, body: { error: 'etcdserver: not leader', code: 9 }, want: { code: 9, message: 'etcdserver: not leader' } },
    { name: 'an HTTP error without a body', status: 503, body: {}, want: { code: 14, message: 'HTTP 503' } },
    { name: 'a success', status: 200, body: { header: {} }, want: undefined },
  ])('reads an error answer: $name', ({ status, body, want }) => {
    expect(parseApiError(status, body)).toEqual(want);
  });

  it("writes a joining member's --initial-cluster: the started members and the new one under its name", () => {
    const members = [
      { id: '1', name: 'a', peerURLs: ['https://10.0.0.1:2380'], clientURLs: ['https://10.0.0.1:2379'], learner: false },
      { id: '2', name: '', peerURLs: ['https://10.0.0.2:2380'], clientURLs: [], learner: false },
      { id: '3', name: '', peerURLs: ['https://10.0.0.3:2380'], clientURLs: [], learner: false },
    ];

    // Another member added and not started (3) is left out: it has no name to list it under.
    expect(initialCluster(members, '2', 'b')).toBe('a=https://10.0.0.1:2380,b=https://10.0.0.2:2380');
  });
});

const status = (over: Partial<EtcdStatus> = {}): EtcdStatus => ({
  memberId: '0',
  leaderId: '1',
  raftTerm: '2',
  raftIndex: '100',
  raftAppliedIndex: '100',
  errors: [],
  dbSize: 1,
  dbSizeInUse: 1,
  learner: false,
  version: '3.6.16',
  ...over,
});

const observed = (id: string, over: { learner?: boolean; status?: Partial<EtcdStatus> | null; alarms?: string[]; started?: boolean } = {}): ObservedMember => ({
  member: {
    id,
    name: over.started === false ? '' : `m${id}`,
    peerURLs: [`https://10.0.0.${id}:2380`],
    clientURLs: over.started === false ? [] : [`https://10.0.0.${id}:2379`],
    learner: over.learner ?? false,
  },
  ...(over.status === null ? { error: 'ECONNREFUSED' } : { status: status({ memberId: id, ...over.status }) }),
  alarms: over.alarms ?? [],
});

describe('member health', () => {
  it.each([
    { name: 'answered, no errors, a leader known', m: observed('1'), healthy: true, message: undefined },
    { name: 'not started', m: observed('1', { started: false, status: null }), healthy: false, message: 'the member has not started' },
    { name: 'no answer', m: observed('1', { status: null }), healthy: false, message: 'the member did not answer: ECONNREFUSED' },
    { name: 'an alarm on it', m: observed('1', { alarms: ['NOSPACE'] }), healthy: false, message: 'alarms raised on the member: NOSPACE' },
    { name: 'its own error', m: observed('1', { status: { errors: ['raft: stopped'] } }), healthy: false, message: 'the member reports errors: raft: stopped' },
    { name: 'no leader known', m: observed('1', { status: { leaderId: '0' } }), healthy: false, message: 'the member knows no leader' },
    // etcd copies every alarm of the cluster into every member's status: another member's alarm is not this one's.
    {
      name: "another member's alarm in its errors",
      m: observed('1', { status: { errors: ['memberID:2 alarm:NOSPACE '] } }),
      healthy: true,
      message: undefined,
    },
  ])('$name', ({ m, healthy, message }) => {
    expect(memberHealth(m)).toEqual(message ? { healthy, message } : { healthy });
  });

  it('takes the leader from the newest raft term among the members that answered', () => {
    const members = [
      observed('1', { status: { leaderId: '1', raftTerm: '4' } }),
      observed('2', { status: { leaderId: '3', raftTerm: '5' } }),
      observed('3', { status: null }),
    ];

    expect(leaderOf(members)).toBe('3');
    expect(leaderOf([observed('1', { status: { leaderId: '0' } }), observed('2', { status: null })])).toBeUndefined();
  });
});

describe('who takes leadership', () => {
  it('is the healthy voter other than the leaving one with the highest raft index', () => {
    const members = [
      observed('1', { status: { raftIndex: '900' } }),
      observed('2', { status: { raftIndex: '120' } }),
      observed('3', { status: { raftIndex: '130' } }),
      observed('4', { learner: true, status: { raftIndex: '500' } }),
      observed('5', { alarms: ['CORRUPT'], status: { raftIndex: '500' } }),
      observed('6', { status: null }),
    ];

    expect(leadershipCandidate(members, '1')?.member.id).toBe('3');
  });

  it('breaks a tie by name, and is undefined when no healthy voter is left', () => {
    expect(leadershipCandidate([observed('1'), observed('3'), observed('2')], '1')?.member.id).toBe('2');
    expect(leadershipCandidate([observed('1'), observed('2', { learner: true }), observed('3', { status: null })], '1')).toBeUndefined();
  });
});

describe('client URLs on AWS', () => {
  it('are https on 2379 at the InternalIP of each running instance', () => {
    const instance = (state: 'running' | 'pending', ip?: string) => ({
      machineUid: 'u',
      instanceId: 'i',
      providerID: 'aws:///i',
      state,
      addresses: ip ? [{ type: 'InternalIP' as const, address: ip }] : [],
    });

    expect(instanceClientUrls([instance('running', '10.0.1.5'), instance('pending', '10.0.1.6'), instance('running'), instance('running', 'fd00::1')])).toEqual(
      ['https://10.0.1.5:2379', 'https://[fd00::1]:2379'],
    );
  });
});
