/** The SecretStore contract against memory and against Secrets Manager on moto_server. */
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { MemorySecretStore, SecretsManagerSecretStore, createSecretsManagerClient } from '../../../functions/adapters/secrets/index.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { runSecretStoreContract } from '../../support/secret-store-contract.js';

runSecretStoreContract('memory', () => {
  const installationId = uniqueName('memory');
  const store = new MemorySecretStore({ installationId });
  return { store, installationId, prefix: `clusterless/${uniqueName('ns')}/demo`, tagsOf: async (name) => store.tagsOf(name) };
});

runSecretStoreContract('Secrets Manager (moto)', () => {
  const client = createSecretsManagerClient(emulatorClientConfig(motoEndpoint()));
  const installationId = uniqueName('sm');
  return {
    store: new SecretsManagerSecretStore({ client, kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/6f1c1b52-1f5e-4d2b-9b1e-2d2f0c1e4a11', installationId }),
    installationId,
    prefix: `clusterless/${uniqueName('ns')}/demo`,
    tagsOf: async (name) => {
      const tags = (await client.send(new DescribeSecretCommand({ SecretId: name }))).Tags;
      return tags && Object.fromEntries(tags.map((t) => [t.Key!, t.Value!]));
    },
  };
});
