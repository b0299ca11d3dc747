/**
 * SecretStore over AWS Secrets Manager: binary secrets encrypted with the control plane's KMS key (the key the
 * IAM policy requires, infra/constructs/bootstrap-secrets.ts), tagged with the installation, deleted without a
 * recovery window so a name can be used again at once. Learnt from cluster-api-provider-aws
 * pkg/cloud/services/secretsmanager/secret.go (Create with SecretBinary and the cluster's tags; Delete with
 * ForceDeleteWithoutRecovery, NotFound is fine).
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { checkInstallationId } from '../../installation.js';
import { ThrottledError, type SecretStore } from '../../ports.js';
import { errorCode, httpStatusOf } from '../aws/errors.js';
import { TagKeys } from '../aws/tags.js';

export interface SecretsManagerSecretStoreOptions {
  /** A client with one SDK retry (aws/clients.ts: createSecretsManagerClient), then ThrottledError for the workflow's jittered Retry. */
  client: SecretsManagerClient;
  /** The KMS key every secret is encrypted with (SECRETS_KMS_KEY_ARN); Secrets Manager's own key when absent. */
  kmsKeyId?: string;
  /** The installation (functions/installation.ts), tagged on every secret this store creates. */
  installationId: string;
}

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'InternalServiceError', 'ServiceUnavailable', 'RequestLimitExceeded']);

function mapped(e: unknown): unknown {
  const c = errorCode(e);
  const status = httpStatusOf(e) ?? 0;
  if (c !== undefined && (THROTTLING.has(c) || status >= 500)) return new ThrottledError(`Secrets Manager: ${c}: ${(e as Error).message}`, { cause: e });
  return e;
}

/** Secrets Manager's answer for a secret scheduled for deletion: as good as gone. */
const isMarkedForDeletion = (e: unknown) => errorCode(e) === 'InvalidRequestException' && /deleted|deletion/i.test((e as Error).message);

const toTags = (tags: Record<string, string> | undefined) => Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));

export class SecretsManagerSecretStore implements SecretStore {
  private readonly client: SecretsManagerClient;
  private readonly kmsKeyId: string | undefined;
  private readonly installationId: string;

  constructor(options: SecretsManagerSecretStoreOptions) {
    this.client = options.client;
    this.kmsKeyId = options.kmsKeyId;
    this.installationId = checkInstallationId(options.installationId);
  }

  async create(name: string, value: Uint8Array, tags?: Record<string, string>): Promise<boolean> {
    try {
      await this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretBinary: value,
          ...(this.kmsKeyId ? { KmsKeyId: this.kmsKeyId } : {}),
          Tags: toTags({ ...tags, [TagKeys.installation]: this.installationId }),
        }),
      );
      return true;
    } catch (e) {
      if (errorCode(e) === 'ResourceExistsException') return false;
      throw mapped(e);
    }
  }

  async put(name: string, value: Uint8Array, tags?: Record<string, string>): Promise<void> {
    if (await this.create(name, value, tags)) return;
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretBinary: value }));
    } catch (e) {
      throw mapped(e);
    }
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      if (out.SecretBinary) return out.SecretBinary;
      return out.SecretString === undefined ? undefined : new TextEncoder().encode(out.SecretString);
    } catch (e) {
      if (errorCode(e) === 'ResourceNotFoundException' || isMarkedForDeletion(e)) return undefined;
      throw mapped(e);
    }
  }

  async tag(name: string, tags: Record<string, string>): Promise<void> {
    try {
      await this.client.send(new TagResourceCommand({ SecretId: name, Tags: toTags(tags) }));
    } catch (e) {
      if (errorCode(e) === 'ResourceNotFoundException' || isMarkedForDeletion(e)) return;
      throw mapped(e);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    } catch (e) {
      if (errorCode(e) === 'ResourceNotFoundException' || isMarkedForDeletion(e)) return;
      throw mapped(e);
    }
  }
}
