import { MemoryStore } from '../../../functions/adapters/memory/memory-store.js';
import { runStoreContract } from '../../support/store-contract.js';

runStoreContract('memory', async ({ clock }) => new MemoryStore({ clock }));
