/** ELBv2 errors to the provider's typed errors (the workflows retry or catch by class). */
import { InvalidSpecError, ThrottledError } from '../../ports.js';
import { errorCode, httpStatusOf } from '../aws/errors.js';

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'ServiceUnavailable', 'InternalFailure']);

/** Still changing: a target group in use until its load balancer's listeners are gone, an operation under way. */
const BUSY = new Set(['ResourceInUse', 'ResourceInUseException', 'OperationNotPermitted', 'OperationNotPermittedException']);

/** Requests that cannot succeed as they are: a bad subnet or scheme, a quota, a name taken with other settings. */
const INVALID = [
  'ValidationError',
  'InvalidConfigurationRequest',
  'InvalidSubnet',
  'SubnetNotFound',
  'InvalidScheme',
  'DuplicateLoadBalancerName',
  'DuplicateTargetGroupName',
  'TooManyLoadBalancers',
  'TooManyTargetGroups',
  'TooManyListeners',
  'AccessDenied',
];

/** What the SDK threw, as ThrottledError (try again later) or InvalidSpecError; anything else unchanged. */
export function elbv2Error(e: unknown, where: string): unknown {
  const c = errorCode(e);
  if (c === undefined) return e;
  const message = `${where}: ${c}: ${(e as Error).message}`;
  const status = httpStatusOf(e) ?? 0;
  if (THROTTLING.has(c) || BUSY.has(c) || status >= 500) return new ThrottledError(message, { cause: e });
  if (INVALID.some((p) => c.startsWith(p))) return new InvalidSpecError(message, { cause: e });
  return e;
}
