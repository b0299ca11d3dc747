/**
 * imageParameterResolver against SSM on moto_server: a MachineClass's imageSsmParameter becomes the AMI that
 * RunInstances gets; a missing parameter or one that holds no AMI id is a clear InvalidSpecError; a resolved
 * id is kept, not asked again for each launch.
 */
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Ec2QueryClient } from '../../../functions/adapters/aws/ec2-query/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { Ec2MachineProvider, createSsmClient, imageParameterResolver } from '../../../functions/adapters/ec2/index.js';
import { InvalidSpecError } from '../../../functions/ports.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { FakeClock } from '../../support/fake-clock.js';
import { Ec2Faults, createMotoNetwork, ec2Spec, motoEc2Client, type MotoNetwork } from './ec2-fixtures.js';

/** A parameter AWS publishes; moto serves it with one of its own AMIs. */
const PUBLIC_PARAMETER = '/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2';

let ssm: SSMClient;
let ec2: Ec2QueryClient;
let net: MotoNetwork;
let getParameterCalls = 0;

beforeAll(async () => {
  ssm = createSsmClient(emulatorClientConfig(motoEndpoint()));
  ssm.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetParameterCommand') getParameterCalls++;
      return next(args);
    },
    { step: 'initialize', name: 'countGetParameter' },
  );
  ec2 = motoEc2Client(motoEndpoint());
  net = await createMotoNetwork(ec2);
});

afterAll(() => {
  ssm.destroy();
  ec2.destroy();
});

describe('imageParameterResolver', () => {
  it('launches the AMI a published parameter names', async () => {
    // Arrange
    const resolve = imageParameterResolver({ client: ssm });
    const faults = new Ec2Faults(ec2);
    const provider = new Ec2MachineProvider({ client: ec2, installationId: uniqueName('image'), resolveImageParameter: resolve });
    try {
      // Act
      const ami = await resolve(PUBLIC_PARAMETER);
      await provider.create(ec2Spec(net, { aws: { ami: undefined, imageSsmParameter: PUBLIC_PARAMETER } }));
      // Assess
      expect(ami).toMatch(/^ami-[0-9a-f]+$/);
      expect(faults.callsOf('RunInstancesCommand')[0]?.ImageId).toBe(ami);
    } finally {
      faults.remove();
    }
  });

  it('keeps a resolved id for cacheSeconds, then asks again', async () => {
    const clock = new FakeClock();
    const resolve = imageParameterResolver({ client: ssm, clock, cacheSeconds: 60 });
    const before = getParameterCalls;
    await resolve(PUBLIC_PARAMETER);
    await resolve(PUBLIC_PARAMETER);
    const kept = getParameterCalls - before;
    clock.advance(61);
    await resolve(PUBLIC_PARAMETER);
    expect([kept, getParameterCalls - before]).toEqual([1, 2]);
  });

  it.each([
    { name: 'a parameter that does not exist', value: undefined, want: /does not exist in this region/ },
    { name: 'a parameter that holds no AMI id', value: 'ubuntu-24.04', want: /holds "ubuntu-24\.04", not an AMI id/ },
  ])('refuses $name with InvalidSpecError', async ({ value, want }) => {
    const name = `/${uniqueName('images')}/ami`;
    if (value !== undefined) await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String' }));
    const resolve = imageParameterResolver({ client: ssm });
    const error = await resolve(name).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidSpecError);
    expect((error as Error).message).toMatch(want);
  });
});
