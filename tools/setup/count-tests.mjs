// Reads vitest's JSON report and fails the test command when any test was skipped or marked todo,
// or when no test ran at all: on a clean clone every test must run. Prints the counts.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(
  `[test] ${report.testResults.length} files, ${report.numTotalTests} tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`,
);
// Bad-input cases are tagged by a describe block (or test) named "bad input: <area>"; counted by area.
const badInput = new Map();
for (const file of report.testResults) {
  for (const test of file.assertionResults) {
    const tag = [...(test.ancestorTitles ?? []), test.title]
      .map((title) => /^bad input: (.+)$/.exec(title))
      .find(Boolean);
    // The area is the name up to any parenthesis: 'bad input: image side (maxImageSide, ...)' -> 'image side'.
    const area = tag?.[1].replace(/\s*\(.*$/, '');
    if (area) badInput.set(area, (badInput.get(area) ?? 0) + 1);
  }
}
const badInputTotal = [...badInput.values()].reduce((sum, n) => sum + n, 0);
const byArea = [...badInput].sort(([a], [b]) => a.localeCompare(b)).map(([area, n]) => `${area} ${n}`);
console.log(`[test] bad-input cases: ${badInputTotal}${byArea.length === 0 ? '' : ` (${byArea.join(', ')})`}`);
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
