/**
 * A small client of etcd's v3 API through the JSON gateway every member serves on its client port (`POST /v3/...`,
 * the gRPC messages as JSON, uint64 ids as decimal strings, bytes as base64), over HTTPS with mutual TLS: the
 * calls Cluster API's KubeadmControlPlane makes through clientv3 (controlplane/kubeadm/internal/etcd/etcd.go:
 * MemberList, Status, AlarmList, MoveLeader, MemberRemove) and those kubeadm makes to join a member
 * (cmd/kubeadm/app/util/etcd/etcd.go: MemberAdd, MemberPromote), without a gRPC library.
 *
 * The stable surface (the process provider calls it from local/):
 * - `new EtcdClient({ endpoints, credentials, timeoutMs? })`: `endpoints` are client URLs (`https://host:port`),
 *   tried in order by every call that is not given one; `credentials` the etcd CA (the only CA trusted for etcd's
 *   serving certificates) and a client certificate it signed. One keep-alive agent per client: `close()` it.
 * - `memberList(endpoint?)` -> `{ clusterId, memberId, members }` (a linearizable read: it needs quorum);
 * - `memberAdd(peerURLs, { learner? })` -> `{ member, members }`: the new member (name '' until it starts) and the
 *   list to start it from, `--initial-cluster=${initialCluster(members, member.id, name)}` with
 *   `--initial-cluster-state=existing`;
 * - `put(key, value)` and `get(key)` -> the value or undefined (UTF-8 strings; base64 on the wire).
 *
 * Errors: an answer of etcd's is an EtcdApiError with its gRPC code; no answer (refused, reset, TLS refused,
 * timed out: the socket is destroyed) is an EtcdConnectionError, an EtcdUnavailableError. A call without an
 * endpoint goes on to the next endpoint on no answer and on etcd's Unavailable and DeadlineExceeded (memberAdd,
 * memberPromote: only when the connection was refused, see `call`), and fails with an EtcdConnectionError naming
 * them all when none answers.
 */
import { Agent, request } from 'node:https';
import { EtcdUnavailableError } from '../../ports.js';

export interface EtcdCredentials {
  /** PEM of the etcd CA. */
  ca: string;
  /** PEM client certificate signed by the etcd CA, and its key. */
  cert: string;
  key: string;
}

export interface EtcdClientOptions {
  /** Client URLs, `https://host:port`, in the order calls without an endpoint try them. */
  endpoints: string[];
  credentials: EtcdCredentials;
  /** How long one call may take before its socket is destroyed. @default 5000 */
  timeoutMs?: number;
}

export interface EtcdMember {
  /** uint64, as a decimal string. */
  id: string;
  /** '' for a member added that has not started yet. */
  name: string;
  peerURLs: string[];
  /** Empty for a member added that has not started yet. */
  clientURLs: string[];
  learner: boolean;
}

export interface EtcdMemberList {
  clusterId: string;
  /** The member that answered. */
  memberId: string;
  members: EtcdMember[];
}

export interface EtcdStatus {
  /** The member that answered. */
  memberId: string;
  /** The leader this member knows of; '0' when it knows none. */
  leaderId: string;
  raftTerm: string;
  raftIndex: string;
  raftAppliedIndex: string;
  /** The member's own errors (an alarm raised, no leader...). */
  errors: string[];
  dbSize: number;
  dbSizeInUse: number;
  learner: boolean;
  version: string;
}

/** An alarm raised on a member: NOSPACE, CORRUPT. */
export interface EtcdAlarm {
  memberId: string;
  alarm: string;
}

/** The gRPC status codes the callers tell apart (google.golang.org/grpc/codes). */
export const GrpcCode = {
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  FailedPrecondition: 9,
  Unavailable: 14,
} as const;

/** etcd answered with an error: `code` is the gRPC code, `message` etcd's own (e.g. `etcdserver: member not found`). */
export class EtcdApiError extends Error {
  override name = 'EtcdApiError';
  constructor(
    readonly endpoint: string,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** No answer from the endpoint (or from any of them): refused, reset, TLS refused either way, or timed out. */
export class EtcdConnectionError extends EtcdUnavailableError {
  override name = 'EtcdConnectionError';
  constructor(
    readonly endpoint: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The connection was refused or could not be made: nothing was sent. */
const isRefused = (err: unknown): boolean => {
  const code = (err instanceof EtcdConnectionError ? (err.cause as NodeJS.ErrnoException | undefined)?.code : undefined) ?? '';
  return ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code);
};

/** Whether another member may answer where this one did not. */
export const isUnavailable = (err: unknown): boolean =>
  err instanceof EtcdConnectionError || (err instanceof EtcdApiError && (err.code === GrpcCode.Unavailable || err.code === GrpcCode.DeadlineExceeded));

/**
 * The `--initial-cluster` value a new member starts with: every started member as `name=peerURL`, and the new
 * one under the name it will take (kubeadm cmd/kubeadm/app/util/etcd/etcd.go AddMember builds the same list).
 */
export function initialCluster(members: EtcdMember[], newMemberId: string, newMemberName: string): string {
  return members
    .flatMap((m) => {
      const name = m.id === newMemberId ? newMemberName : m.name;
      return name ? m.peerURLs.map((url) => `${name}=${url}`) : [];
    })
    .join(',');
}

// ---------------------------------------------------------------------------------------------------------
// The gateway's JSON: proto3's JSON mapping, fields left out when they hold their zero value.

type Json = Record<string, unknown>;

const str = (v: unknown, zero = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : zero);
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x): x is Json => !!x && typeof x === 'object') : []);
const object = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});

/** etcd's AlarmType enum: a name, or its number when the gateway writes enums as numbers. */
const ALARM_TYPES = ['NONE', 'NOSPACE', 'CORRUPT'];
const alarmName = (v: unknown): string => (typeof v === 'number' ? (ALARM_TYPES[v] ?? String(v)) : str(v, 'NONE'));

export function parseMember(v: unknown): EtcdMember {
  const m = object(v);
  return {
    id: str(m['ID'], '0'),
    name: str(m['name']),
    peerURLs: strings(m['peerURLs']),
    clientURLs: strings(m['clientURLs']),
    learner: m['isLearner'] === true,
  };
}

export function parseMemberList(v: unknown): EtcdMemberList {
  const body = object(v);
  const header = object(body['header']);
  return { clusterId: str(header['cluster_id'], '0'), memberId: str(header['member_id'], '0'), members: objects(body['members']).map(parseMember) };
}

export function parseStatus(v: unknown): EtcdStatus {
  const s = object(v);
  return {
    memberId: str(object(s['header'])['member_id'], '0'),
    leaderId: str(s['leader'], '0'),
    raftTerm: str(s['raftTerm'], '0'),
    raftIndex: str(s['raftIndex'], '0'),
    raftAppliedIndex: str(s['raftAppliedIndex'], '0'),
    errors: strings(s['errors']),
    dbSize: num(s['dbSize']),
    dbSizeInUse: num(s['dbSizeInUse']),
    learner: s['isLearner'] === true,
    version: str(s['version']),
  };
}

export function parseAlarms(v: unknown): EtcdAlarm[] {
  return objects(object(v)['alarms'])
    .map((a) => ({ memberId: str(a['memberID'], '0'), alarm: alarmName(a['alarm']) }))
    .filter((a) => a.alarm !== 'NONE');
}

/**
 * An error answer, in either of the gateway's forms (`{error, code, message}` from grpc-gateway v1,
 * `{code, message, details}` from v2); undefined when the body is not one.
 */
const RAFT_STOPPED = 'raft: stopped';

export function parseApiError(status: number, v: unknown): { code: number; message: string } | undefined {
  const e = object(v);
  const code = typeof e['code'] === 'number' ? e['code'] : undefined;
  const message = str(e['message']) || str(e['error']);
  // A member whose raft node has stopped (removed from the cluster, or shutting down) refuses before proposing
  // anything (etcd raft/node.go ErrStopped), but etcd passes that on as Unknown: it is that member being unavailable.
  if (message === RAFT_STOPPED) return { code: GrpcCode.Unavailable, message };
  if (code !== undefined && code !== 0 && (message || status >= 400)) return { code, message: message || `gRPC code ${code}` };
  if (status >= 400) return { code: GrpcCode.Unavailable, message: `HTTP ${status}` };
  return undefined;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

// ---------------------------------------------------------------------------------------------------------

export class EtcdClient {
  readonly endpoints: readonly string[];
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(options: EtcdClientOptions) {
    for (const e of options.endpoints) if (new URL(e).protocol !== 'https:') throw new TypeError(`etcd endpoint ${e} is not https`);
    this.endpoints = [...options.endpoints];
    this.timeoutMs = options.timeoutMs ?? 5000;
    const { ca, cert, key } = options.credentials;
    this.agent = new Agent({ keepAlive: true, ca, cert, key, minVersion: 'TLSv1.2' });
  }

  /** The members, as the first endpoint that answers (or `endpoint`) lists them; needs quorum. */
  async memberList(endpoint?: string): Promise<EtcdMemberList> {
    return parseMemberList((await this.call('/v3/cluster/member/list', { linearizable: true }, { endpoint })).body);
  }

  /** Adds a member (a learner when asked: it gets the log without a vote, and is promoted once caught up). */
  async memberAdd(peerURLs: string[], options: { learner?: boolean } = {}): Promise<{ member: EtcdMember; members: EtcdMember[] }> {
    const body = object((await this.call('/v3/cluster/member/add', { peerURLs, isLearner: options.learner ?? false }, { once: true })).body);
    return { member: parseMember(body['member']), members: objects(body['members']).map(parseMember) };
  }

  /** Removes a member; the list after. etcd answers NotFound for an id it does not have. */
  async memberRemove(id: string, endpoint?: string): Promise<EtcdMember[]> {
    const body = object((await this.call('/v3/cluster/member/remove', { ID: id }, { endpoint })).body);
    return objects(body['members']).map(parseMember);
  }

  /** Makes a learner a voting member; etcd refuses (FailedPrecondition) while the learner is behind the leader. */
  async memberPromote(id: string): Promise<EtcdMember[]> {
    const body = object((await this.call('/v3/cluster/member/promote', { ID: id }, { once: true })).body);
    return objects(body['members']).map(parseMember);
  }

  /** One member's own view: leader, raft term and index, errors, database size. Never goes to another endpoint. */
  async status(endpoint: string, timeoutMs?: number): Promise<EtcdStatus> {
    return parseStatus(await this.post(endpoint, '/v3/maintenance/status', {}, timeoutMs));
  }

  /** The alarms raised in the cluster. */
  async alarms(endpoint?: string): Promise<EtcdAlarm[]> {
    return parseAlarms((await this.call('/v3/maintenance/alarm', { action: 'GET' }, { endpoint })).body);
  }

  /** Raises an alarm on a member as etcd would (tests use it: etcd accepts ACTIVATE from any client it admits). */
  async raiseAlarm(memberId: string, alarm: 'NOSPACE' | 'CORRUPT'): Promise<void> {
    await this.call('/v3/maintenance/alarm', { action: 'ACTIVATE', memberID: memberId, alarm });
  }

  /** Clears an alarm (`etcdctl alarm disarm`). */
  async disarmAlarm(memberId: string, alarm: 'NOSPACE' | 'CORRUPT'): Promise<void> {
    await this.call('/v3/maintenance/alarm', { action: 'DEACTIVATE', memberID: memberId, alarm });
  }

  /**
   * Hands leadership to `toId`. etcd takes this only from the leader itself (a follower answers FailedPrecondition
   * `etcdserver: not leader`): `leaderEndpoint` when known, else the leader's first client URL, found by asking
   * the endpoints for the leader and the member list.
   */
  async moveLeader(toId: string, leaderEndpoint?: string): Promise<void> {
    let endpoint = leaderEndpoint;
    if (!endpoint) {
      const { leaderId, members } = await this.leader();
      endpoint = members.find((m) => m.id === leaderId)?.clientURLs[0];
      if (!endpoint) throw new EtcdConnectionError(this.endpoints.join(', '), `the etcd leader ${leaderId} has no client URL`);
    }
    await this.post(endpoint, '/v3/maintenance/transfer-leadership', { targetID: toId });
  }

  async put(key: string, value: string): Promise<void> {
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value) });
  }

  /** The value under `key`, or undefined; a linearizable read. */
  async get(key: string): Promise<string | undefined> {
    const kvs = objects(object((await this.call('/v3/kv/range', { key: b64(key) })).body)['kvs']);
    const value = kvs[0]?.['value'];
    // An empty value is left out of the JSON, like any zero value.
    return kvs.length === 0 ? undefined : Buffer.from(str(value), 'base64').toString('utf8');
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private async leader(): Promise<{ leaderId: string; members: EtcdMember[] }> {
    const list = await this.call('/v3/cluster/member/list', { linearizable: true });
    const status = parseStatus(await this.post(list.endpoint, '/v3/maintenance/status', {}));
    return { leaderId: status.leaderId, members: parseMemberList(list.body).members };
  }

  /**
   * `path` on `endpoint`, or on the first of the endpoints that answers, and which answered. A call etcd must not
   * apply twice (`once`: a member added twice is two members) goes on to the next endpoint only when the connection
   * was refused, since a request that timed out or that etcd answered Unavailable may still have been applied (the
   * rule of clientv3's retry interceptor, go.etcd.io/etcd/client/v3/retry.go). Any other call goes on after any
   * failure that another member may not have, and the endpoints are tried again twice when all of them answered
   * Unavailable (a leader election, `leader changed`).
   */
  private async call(path: string, body: object, options: { endpoint?: string; once?: boolean } = {}): Promise<{ body: unknown; endpoint: string }> {
    const endpoints = options.endpoint ? [options.endpoint] : this.endpoints;
    const failures: unknown[] = [];
    for (let round = 0; round < (options.once ? 1 : 3); round++) {
      if (round > 0) {
        if (!failures.some((f) => f instanceof EtcdApiError)) break;
        await new Promise((r) => setTimeout(r, 200 * round));
      }
      failures.length = 0;
      for (const e of endpoints) {
        try {
          return { body: await this.post(e, path, body), endpoint: e };
        } catch (err) {
          if (!(options.once ? isRefused(err) : isUnavailable(err))) throw err;
          failures.push(err);
        }
      }
    }
    if (failures.length === 1) throw failures[0];
    const reasons = failures.map((f) => (f as Error).message).join('; ');
    throw new EtcdConnectionError(endpoints.join(', '), `no etcd endpoint answered ${path}: ${reasons || 'no endpoints'}`, {
      cause: new AggregateError(failures),
    });
  }

  /** One POST, its socket destroyed when no full answer came within the timeout. */
  private post(endpoint: string, path: string, body: object, timeoutMs = this.timeoutMs): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new EtcdConnectionError(endpoint, `${endpoint}${path}: ${err.message}`, { cause: err }));
      };
      const payload = JSON.stringify(body);
      const req = request(
        new URL(path, endpoint),
        { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('aborted', () => fail(new Error('the answer was cut off')));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : {};
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            const apiError = parsed === undefined ? { code: GrpcCode.Unavailable, message: `HTTP ${status}: not JSON` } : parseApiError(status, parsed);
            if (apiError) reject(new EtcdApiError(endpoint, apiError.code, apiError.message));
            else resolve(parsed);
          });
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', fail);
      req.end(payload);
    });
  }
}
