import { MemoryPayloadStore } from '../../../functions/adapters/payloads/memory-payload-store.js';
import { runPayloadStoreContract } from '../../support/payload-store-contract.js';

runPayloadStoreContract('memory', () => {
  const store = new MemoryPayloadStore();
  return { store, tamper: async (digest, bytes) => void store.payloads.set(digest, bytes) };
});
