/**
 * What the AWS adapters share about errors: the error code of an SDK error, and the mapping of AWS error codes to
 * the provider's typed errors, so that workflows retry or catch by class (and by `name` in ASL). EC2 and SSM map
 * with toProviderError as it is; ELBv2 and Secrets Manager add their own codes first (elbv2/errors.ts,
 * secrets/secrets-manager-store.ts). Codes from the EC2 API error reference; grouping learnt from
 * cluster-api-provider-aws (pkg/cloud/awserrors/errors.go). Every mapped error keeps the SDK error as `cause`.
 */
import {
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidSpecError,
  QuotaExceededError,
  ThrottledError,
} from '../../ports.js';

/** Refusals for load. 5xx codes join them: both mean "the same request may work later", with jitter. */
const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled', 'InternalError', 'ServiceUnavailable', 'Unavailable']);

/**
 * No capacity for this instance type in this zone (or subnet): the launch moves on to the next type, then the
 * next subnet. Unsupported is EC2's answer for a type a zone does not offer; InsufficientFreeAddressesInSubnet
 * is a full subnet; SpotMaxPriceTooLow is no spot capacity at the price.
 */
export const CAPACITY_CODES = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'InsufficientFreeAddressesInSubnet',
  'Unsupported',
  'SpotMaxPriceTooLow',
]);

const QUOTA = new Set(['InstanceLimitExceeded', 'VcpuLimitExceeded', 'MaxSpotInstanceCountExceeded']);

/**
 * Requests that can never succeed as they are. IdempotentParameterMismatch is a ClientToken reused with other
 * parameters; NoSuchEntity is moto's (and IAM's) answer for an unknown instance profile.
 */
const INVALID = new Set([
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'InvalidParameter',
  'InvalidBlockDeviceMapping',
  'InvalidGroup.NotFound',
  'InvalidGroupId.Malformed',
  'InvalidKeyPair.NotFound',
  'InvalidInstanceID.Malformed',
  'UnauthorizedOperation',
  'IdempotentParameterMismatch',
  'NoSuchEntity',
]);
const INVALID_PREFIXES = ['InvalidAMIID.', 'InvalidSubnetID.', 'InvalidSubnet'];

export const INSTANCE_NOT_FOUND = 'InvalidInstanceID.NotFound';

/** The AWS error code of an SDK error (EC2 sets both `name` and `Code`), or undefined for anything else. */
export function errorCode(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const withCode = e as Error & { Code?: unknown; $metadata?: unknown };
  if (typeof withCode.Code === 'string') return withCode.Code;
  return withCode.$metadata !== undefined ? e.name : undefined;
}

/** The HTTP status of an SDK error's response, or undefined when there was none (a transport failure). */
export function httpStatusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Turns what the SDK throws into the provider's errors; anything unknown passes through unchanged. */
export function toProviderError(e: unknown): unknown {
  const code = errorCode(e);
  if (code === undefined) return e;
  const message = `${code}: ${(e as Error).message}`;
  const options = { cause: e };
  if (THROTTLING.has(code) || (httpStatusOf(e) ?? 0) >= 500) return new ThrottledError(message, options);
  if (CAPACITY_CODES.has(code)) return new InsufficientCapacityError(message, options);
  if (QUOTA.has(code)) return new QuotaExceededError(message, options);
  if (code === INSTANCE_NOT_FOUND) return new InstanceNotFoundError(message, options);
  if (INVALID.has(code) || INVALID_PREFIXES.some((p) => code.startsWith(p))) return new InvalidSpecError(message, options);
  return e;
}
