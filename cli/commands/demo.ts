import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the whole chain locally: push, mirror, build (buildah), Slack approval, chart bump and OCI publish, twice')
    .option('-y, --yes', 'approve as the configured approver without asking', false)
    .option('--json', 'print one JSON summary per run on stdout (progress goes to stderr)', false)
    .option('--keep', 'keep the workspace: repositories, registry data, logs', false)
    .option('--duplicate', 'deliver every bus message twice (idempotency on show)', false)
    .option('--timeout <seconds>', 'time limit per run', (value) => Number(value), 180)
    .action(async (options: { yes: boolean; json: boolean; keep: boolean; duplicate: boolean; timeout: number }) => {
      const { runDemo } = await import('../demo/runDemo.js');
      process.exitCode = await runDemo({ yes: options.yes, json: options.json, keep: options.keep, duplicate: options.duplicate, timeoutSeconds: options.timeout });
      // Clients (gRPC under the emulators) may keep handles open; the demo is done.
      process.exit(process.exitCode);
    });
}
