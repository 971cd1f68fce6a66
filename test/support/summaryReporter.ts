/**
 * Prints one plain line, `jest: N passed, N failed, N skipped`, that any CI can read, just
 * before jest's own summary (which is for people, and stays last).
 */
type AggregatedResult = { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };

export default class SummaryReporter {
  onRunComplete(_contexts: unknown, results: AggregatedResult): void {
    process.stderr.write(`\njest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped\n`);
  }
}
