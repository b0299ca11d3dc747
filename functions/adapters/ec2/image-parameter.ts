/**
 * A MachineClass's `imageSsmParameter` to an AMI id: one SSM GetParameter, kept for a while, as Cluster API's
 * AWS provider looks up its default AMIs. The parameters AWS and vendors publish (`/aws/service/...`, e.g.
 * Canonical's Ubuntu images, which `clusterless generate cluster --provider aws` names by default) are what the
 * control plane's role may read (infra/: grantImageParameters).
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { InvalidSpecError, systemClock, type Clock } from '../../ports.js';
import { errorCode, toProviderError } from '../aws/errors.js';

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

export interface ImageParameterResolverOptions {
  client: SSMClient;
  /** @default systemClock */
  clock?: Clock;
  /** How long a resolved AMI id is kept: published parameters change when a new image is released. @default 3600 */
  cacheSeconds?: number;
}

/** Returns the function Ec2MachineProviderOptions.resolveImageParameter takes. */
export function imageParameterResolver(options: ImageParameterResolverOptions): (parameterName: string) => Promise<string> {
  const clock = options.clock ?? systemClock;
  const keepMs = (options.cacheSeconds ?? 3600) * 1000;
  const kept = new Map<string, { ami: string; at: number }>();
  return async (name) => {
    const now = clock.now().getTime();
    const hit = kept.get(name);
    if (hit && now - hit.at < keepMs) return hit.ami;
    let value: string | undefined;
    try {
      value = (await options.client.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (e) {
      const code = errorCode(e);
      if (code === 'ParameterNotFound' || code === 'ParameterVersionNotFound')
        throw new InvalidSpecError(`imageSsmParameter ${name} does not exist in this region; name an existing parameter or set ami`, { cause: e });
      if (code === 'AccessDeniedException')
        throw new InvalidSpecError(`imageSsmParameter ${name} may not be read by the control plane (it reads /aws/service/... parameters only); set ami instead`, { cause: e });
      throw toProviderError(e);
    }
    if (!value || !AMI_ID.test(value)) throw new InvalidSpecError(`imageSsmParameter ${name} holds ${JSON.stringify(value ?? '')}, not an AMI id (ami-...)`);
    kept.set(name, { ami: value, at: now });
    return value;
  };
}
