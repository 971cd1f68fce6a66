import type { Command } from 'commander';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import { redactedError } from '../../shared/log/redact.js';
import { cliRuntime } from '../cliRuntime.js';
import { formatRuns, formatStatus } from '../runs/format.js';

/**
 * `baton runs` (recent runs, newest first) and `baton status <runId>` (one run's stage
 * timeline), both read from the run ledger the CLI's runtime points at: Firestore deployed and
 * under the emulators, `baton dev`'s SQLite file otherwise. `--json` prints the ledger records;
 * `baton status --json` adds `environments` (each one's status, release and verification); the
 * Jenkinsfile reads `services` from it.
 */
export function register(program: Command): void {
  program
    .command('runs')
    .description('list recent runs, newest first')
    .option('--limit <n>', 'how many runs', '20')
    .option('--pipeline <name>', 'only this pipeline')
    .option('--json', 'print the run records as a JSON array')
    .action(async (options: { limit: string; pipeline?: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive integer, not "${options.limit}"`);
      await withLedger(async (ledger) => {
        // Ordered and limited by the store (an index), so this reads `limit` runs, however many there are.
        const runs = await ledger.listRuns({ limit, ...(options.pipeline ? { pipeline: options.pipeline } : {}) });
        process.stdout.write(options.json ? `${JSON.stringify(runs, null, 2)}\n` : formatRuns(runs));
      });
    });

  program
    .command('status <runId>')
    .description("one run's stage timeline: status, start, duration, detail and links per stage")
    .option('--json', 'print the run record as JSON')
    .action(async (runId: string, options: { json?: boolean }) => {
      await withLedger(async (ledger) => {
        const run = await ledger.getRun(runId);
        if (!run) {
          process.stderr.write(`baton status: run ${runId} not found\n`);
          process.exitCode = 1;
          return;
        }
        if (options.json) {
          const [{ runEnvironments }, { MANIFEST }] = await Promise.all([import('../../domain/environments/summary.js'), import('../../functions/stages.js')]);
          process.stdout.write(`${JSON.stringify({ ...run, environments: await runEnvironments(run, MANIFEST, ledger) }, null, 2)}\n`);
        } else {
          const { pushAttempts } = await import('../../functions/webhookIntake/retry.js');
          process.stdout.write(formatStatus(run, new Date(), await pushAttempts(ledger, run)));
        }
      });
    });
}

async function withLedger(work: (ledger: RunLedger) => Promise<void>): Promise<void> {
  const ledger = cliRuntime().ledger();
  try {
    await work(ledger);
  } catch (error) {
    throw redactedError('failed to read the run ledger', error);
  } finally {
    await ledger.close().catch(() => undefined);
  }
}
