/** SecretStore adapters: Secrets Manager (AWS) and memory. */
export { MemorySecretStore, type MemorySecretStoreOptions } from './memory-secret-store.js';
export { SecretsManagerSecretStore, createSecretsManagerClient, type SecretsManagerSecretStoreOptions } from './secrets-manager-store.js';
