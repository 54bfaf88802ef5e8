// ORCA's own CLI (src/main.ts) with the test provider wired in instead of EC2. The provider keeps its
// state in $ORCA_TEST_PROVIDER_STATE, so a restarted ORCA finds its "instances" again.
import { main } from '../../src/main.js';
import { TestProvider } from '../provider/test-provider.js';

const stateFile = process.env.ORCA_TEST_PROVIDER_STATE;
if (stateFile === undefined) throw new Error('ORCA_TEST_PROVIDER_STATE must name the test provider state file');
main(({ configs }) => new TestProvider({ stateFile, configs }));
