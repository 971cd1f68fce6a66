#!/usr/bin/env node
/**
 * The `baton` command. Each subcommand lives in `cli/commands/<name>.ts` and registers itself;
 * commands load their heavy dependencies only when they run.
 */
import { Command } from 'commander';
import { register as registerApproval } from './commands/approve.js';
import { register as registerAwait } from './commands/await.js';
import { register as registerBumpChart } from './commands/bumpChart.js';
import { register as registerCancel } from './commands/cancel.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerDev } from './commands/dev.js';
import { register as registerEnvironments } from './commands/environments.js';
import { register as registerRetry } from './commands/retry.js';
import { register as registerRuns } from './commands/runs.js';

const program = new Command('baton')
  .description('event-driven CI/CD for GKE: push, mirror, build, approve, chart bump, deploy')
  .showHelpAfterError();

for (const register of [registerDemo, registerDev, registerRuns, registerApproval, registerCancel, registerRetry, registerEnvironments, registerAwait, registerBumpChart]) register(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`baton: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = process.exitCode || 1;
});
