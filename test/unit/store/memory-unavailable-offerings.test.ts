import { MemoryUnavailableOfferings } from '../../../functions/adapters/memory/index.js';
import { runUnavailableOfferingsContract } from '../../support/unavailable-offerings-contract.js';

runUnavailableOfferingsContract('memory', async () => new MemoryUnavailableOfferings());
