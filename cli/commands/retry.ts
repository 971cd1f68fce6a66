import type { Command } from 'commander';
import { LOCAL_RETRY_PATH } from '../../domain/approval/localRoutes.js';
import type { RetryOutcome, RetryRequest } from '../../functions/webhookIntake/retry.js';
import { cliRuntime } from '../cliRuntime.js';
import { EXIT_REFUSED, actorFrom, actorOptions, closeRuntime, postLocal } from './approve.js';

/**
 * `baton retry <runId>`: runs a run's push again as a new run (`<first run>-r<n>`), as Cloud
 * Build's "Retry" and Jenkins' "Rebuild" do; the rules are `retryRun`'s
 * (`functions/webhookIntake/retry.ts`). It starts the run as intake would, so beside a plain
 * embedded `baton dev` it goes through that process's loopback route (its bus lives there).
 *
 * Exit codes: 0 started, or already being retried (the run id printed is the attempt that
 * runs); 2 refused (unknown, still running, a rollback, a pipeline no longer configured); 1 an
 * error.
 */
export type RetryCommandOptions = { runId: string; as?: string; via?: string; reason?: string; json?: boolean };

type Output = { write(text: string): unknown };

export async function runRetry(options: RetryCommandOptions, env: NodeJS.ProcessEnv = process.env, out: Output = process.stdout): Promise<number> {
  const { id, via } = actorFrom(options, env, 'retry');
  const request: RetryRequest = { runId: options.runId, by: `${via}:${id}`, ...(options.reason ? { reason: options.reason } : {}) };
  const runtime = cliRuntime(env);
  let outcome: RetryOutcome;
  if (runtime.mode === 'embedded') {
    outcome = await postLocal<RetryOutcome>(env, LOCAL_RETRY_PATH, request);
  } else {
    const [{ retryRun }, { runStartDeps }, { stageRuntime }, { MANIFEST }] = await Promise.all([
      import('../../functions/webhookIntake/retry.js'),
      import('../../functions/webhookIntake/handler.js'),
      import('../../shared/stage/runner.js'),
      import('../../functions/stages.js'),
    ]);
    try {
      outcome = await retryRun(request, runStartDeps(stageRuntime<'push-received'>(runtime, MANIFEST.find('webhookIntake')!, MANIFEST)));
    } finally {
      await closeRuntime(runtime);
    }
  }
  out.write(options.json ? `${JSON.stringify(outcome)}\n` : `${outcome.ok ? '' : `refused (${outcome.outcome}): `}${outcome.message}\n`);
  return outcome.ok ? 0 : EXIT_REFUSED;
}

export function register(program: Command): void {
  actorOptions(program.command('retry <runId>').description("run a run's push again as a new run (the whole chain), as Cloud Build's retry does"), 'who retries: a CLI name or Jenkins user id (recorded as cli:<id> or jenkins:<id>)')
    .option('--reason <text>', 'why (kept on the new run)')
    .option('--json', 'print the outcome as JSON')
    .action(async (runId: string, opts: { as?: string; via?: string; reason?: string; json?: boolean }) => {
      process.exitCode = await runRetry({ runId, ...opts });
    });
}
