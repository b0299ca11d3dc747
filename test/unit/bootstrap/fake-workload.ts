/** A workload API in memory, for unit tests of the bootstrapper (the Kubernetes one runs against kube-apiserver). */
import type { TokenInfo, WorkloadBootstrapApi } from '../../../functions/adapters/kubeadm/index.js';
import { WorkloadUnavailableError } from '../../../functions/adapters/kubeadm/index.js';
import type { TokenSecretOptions } from '../../../functions/bootstrap/tokens.js';

export class FakeWorkloadApi implements WorkloadBootstrapApi {
  readonly tokens = new Map<string, TokenInfo & { secret: string; usages: boolean }>();
  uploaded: { data: Record<string, string>; owner: string } | undefined;
  reachable = true;
  calls: string[] = [];

  private check(what: string): void {
    this.calls.push(what);
    if (!this.reachable) throw new WorkloadUnavailableError(`${what}: connect ECONNREFUSED`);
  }

  async createToken(o: TokenSecretOptions): Promise<void> {
    this.check('createToken');
    this.tokens.set(o.token.id, { id: o.token.id, secret: o.token.secret, purpose: o.purpose, expiration: o.expiration, usages: o.usages, ...(o.machineUid ? { machineUid: o.machineUid } : {}) });
  }
  async listTokens(): Promise<TokenInfo[]> {
    this.check('listTokens');
    return [...this.tokens.values()].map(({ secret: _s, usages: _u, ...info }) => info);
  }
  async setTokenExpiration(id: string, expiration: string): Promise<void> {
    this.check('setTokenExpiration');
    const t = this.tokens.get(id);
    if (t) t.expiration = expiration;
  }
  async deleteToken(id: string): Promise<void> {
    this.check('deleteToken');
    this.tokens.delete(id);
  }
  async uploadCertificates(data: Record<string, string>, owner: string): Promise<void> {
    this.check('uploadCertificates');
    this.uploaded = { data, owner };
  }
}
