import { runProviderContract } from '../../support/provider-contract.js';
import { simHarness } from './sim-fixtures.js';

runProviderContract('sim', simHarness);
