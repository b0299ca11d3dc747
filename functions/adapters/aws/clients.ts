/**
 * The AWS SDK clients of the adapters, with their retry settings in one place.
 *
 * The provider-side clients (EC2, SSM, ELBv2, Secrets Manager) bound the SDK's own retries to one (maxAttempts 2):
 * it absorbs a dropped connection or a single throttling blip at once, and anything longer surfaces as
 * ThrottledError so that the workflow's Retry (JitterStrategy FULL, MaxDelaySeconds) spreads the retries of a whole
 * fleet, instead of every Lambda sleeping through the SDK's backoff while holding its timeout.
 *
 * The store's DynamoDB client is the exception: the SDK's standard retry strategy (backoff with jitter, throttling
 * included) with more attempts than its default 3, because a throttled write is better late than failed.
 *
 * Pass maxAttempts (or any other setting) to change one. EC2 is reached through our own Query client
 * (ec2-query/client.ts), configured and retrying the same way.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client, type ElasticLoadBalancingV2ClientConfig } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import { Ec2QueryClient, type Ec2QueryClientConfig } from './ec2-query/index.js';

/** One SDK retry, then the caller's typed error for the workflow's jittered Retry. */
export const PROVIDER_MAX_ATTEMPTS = 2;
/** The store retries inside the SDK: a throttled write is better late than failed. */
export const STORE_MAX_ATTEMPTS = 8;

/** Our own EC2 Query client (ec2-query/), not @aws-sdk/client-ec2: the same retries, a fraction of the bundle. */
export function createEc2Client(config: Ec2QueryClientConfig = {}): Ec2QueryClient {
  return new Ec2QueryClient({ maxAttempts: PROVIDER_MAX_ATTEMPTS, ...config });
}

/** For the MachineClass imageSsmParameter resolver (ec2/image-parameter.ts). */
export function createSsmClient(config: SSMClientConfig = {}): SSMClient {
  return new SSMClient({ maxAttempts: PROVIDER_MAX_ATTEMPTS, ...config });
}

export function createElbv2Client(config: ElasticLoadBalancingV2ClientConfig = {}): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({ maxAttempts: PROVIDER_MAX_ATTEMPTS, ...config });
}

export function createSecretsManagerClient(config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  return new SecretsManagerClient({ maxAttempts: PROVIDER_MAX_ATTEMPTS, ...config });
}

export function createDynamoDbClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({ maxAttempts: STORE_MAX_ATTEMPTS, ...config });
}
