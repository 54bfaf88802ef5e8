// When an e2e test fails, the last lines of every test-bed component's log go into the test output.
import { beforeEach, inject } from 'vitest';
import { tailOf } from './testbed/errors.js';

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    const bed = inject('testbed');
    const tails = bed.components.map((c) => `--- ${c.name} (${c.logFile})${tailOf(c.logFile, 40)}`);
    process.stderr.write(`\ntest bed component logs:\n${tails.join('\n')}\n`);
  });
});
