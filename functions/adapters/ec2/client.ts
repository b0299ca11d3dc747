import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';

/**
 * An EC2 client for the provider. The SDK's own retries are bounded to one (maxAttempts 2): it absorbs a
 * dropped connection or a single throttling blip at once, and anything longer surfaces as ThrottledError so
 * that the workflow's Retry (JitterStrategy FULL, MaxDelaySeconds) spreads the retries of a whole fleet,
 * instead of every Lambda sleeping through the SDK's backoff while holding its timeout. Pass maxAttempts to
 * change it.
 */
export function createEc2Client(config: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({ maxAttempts: 2, ...config });
}
