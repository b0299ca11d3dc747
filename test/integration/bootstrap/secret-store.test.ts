/** The SecretStore contract against memory and against Secrets Manager on moto_server. */
import { inject } from 'vitest';
import { MemorySecretStore, SecretsManagerSecretStore, createSecretsManagerClient } from '../../../functions/adapters/secrets/index.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { secretStoreContract } from './secret-store-contract.js';

secretStoreContract('memory', () => ({ store: new MemorySecretStore(), prefix: `clusterless/${uniqueName('ns')}/demo` }));

secretStoreContract('Secrets Manager (moto)', () => ({
  store: new SecretsManagerSecretStore({
    client: createSecretsManagerClient(emulatorClientConfig(inject('motoEndpoint'))),
    kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/6f1c1b52-1f5e-4d2b-9b1e-2d2f0c1e4a11',
    installationId: 'secret-store-contract',
  }),
  prefix: `clusterless/${uniqueName('ns')}/demo`,
}));
