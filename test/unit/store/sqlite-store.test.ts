import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../../functions/adapters/sqlite/index.js';
import { runStoreContract } from '../../support/store-contract.js';

runStoreContract('sqlite', async ({ clock }) => new SqliteStore({ database: new DatabaseSync(':memory:'), clock }));
