// Reads vitest's JSON report and fails the test command when any test was skipped or marked todo,
// or when no test ran at all: on a clean clone every test must run. Prints the counts.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(
  `[test] ${report.testResults.length} files, ${report.numTotalTests} tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`,
);
if (report.numTotalTests === 0) {
  console.error('[test] no test ran');
  process.exit(1);
}
if (skipped > 0) {
  const names = report.testResults.flatMap((file) =>
    file.assertionResults
      .filter((t) => t.status === 'pending' || t.status === 'todo' || t.status === 'skipped')
      .map((t) => `${file.name}: ${t.fullName}`),
  );
  console.error(`[test] skipped tests are defects here:\n  ${names.join('\n  ')}`);
  process.exit(1);
}
