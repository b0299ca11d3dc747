/** SecretStore adapters: Secrets Manager (AWS) and memory. */
export { MemorySecretStore, type MemorySecretStoreOptions } from './memory-secret-store.js';
export { SecretsManagerSecretStore, type SecretsManagerSecretStoreOptions } from './secrets-manager-store.js';
// What its users imported from here before the AWS adapters shared their clients (aws/clients.ts).
export { createSecretsManagerClient } from '../aws/clients.js';
