import type { Command } from 'commander';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import { isTerminal } from '../../shared/contracts/index.js';
import type { BuildStatus } from '../../shared/contracts/index.js';
import type { CancelOutcome, RunRecord } from '../../shared/ledger/runLedger.js';
import { redactedError } from '../../shared/log/redact.js';
import { cliRuntime } from '../cliRuntime.js';
import { EXIT_REFUSED, actorFrom, actorOptions, closeRuntime } from './approve.js';

/**
 * `baton cancel <runId>`: stops a run, as Cloud Build's cancel and Jenkins' abort button do. The
 * run ends `canceled`, with who asked and why as its reason; the stage it was in shows
 * `canceled` and the stages it never reached `skipped`. It is one conditional write of the run
 * in the ledger (`cancelRun`), so it is safe beside running stages and twice in a row: a stage
 * that finishes after it records its own end, and nothing starts after it.
 *
 * A build still running is stopped (`Builder.cancel`: Cloud Build's `cancelBuild`, or the
 * local job told to stop) and recorded CANCELLED on the run, except a Terraform run's. What the
 * run already did stays done: a chart commit that landed deploys as ever, and `baton rollback`
 * undoes it.
 *
 * The run's `run-finished` (gitStatus' last report, Jenkins' window) is published at once where
 * this process reaches the bus (Google Cloud, the emulators). Beside a plain embedded `baton dev`,
 * whose bus lives in that process, its reconciler publishes it on its next pass after the grace
 * it gives a live writer (`UNPUBLISHED_GRACE_SECONDS`: about 20 s in all). An approval request
 * the run was waiting on is closed by the expiry sweep (`domain/approval/expiry.ts`), which
 * replaces its Slack buttons with "Canceled".
 *
 * Anyone who may run baton may cancel, as with `baton hold` (Cloud Build asks only for the
 * permission to update builds). Exit codes: 0 canceled (now or before), 2 refused (the run had
 * ended otherwise, or there is no such run), 1 an error.
 */
export type CancelCommandOptions = { runId: string; as?: string; via?: string; reason?: string; json?: boolean };

export type CancelResult = {
  runId: string;
  outcome: CancelOutcome['outcome'] | 'not-found';
  status?: CancelOutcome['status'];
  reason?: string;
  /** The services whose builds were running and were told to stop. */
  stoppedBuilds?: string[];
  /**
   * What went wrong after the run was canceled (it stays canceled): a build that could not be
   * told to stop, or a `run-finished` the bus refused, which the reconciler then publishes.
   */
  problems?: string[];
  message: string;
};

type Output = { write(text: string): unknown };

export async function runCancel(options: CancelCommandOptions, env: NodeJS.ProcessEnv = process.env, out: Output = process.stdout): Promise<number> {
  const { id, via } = actorFrom(options, env, 'cancel');
  const runtime = cliRuntime(env);
  let result: CancelResult;
  try {
    result = await cancel(runtime, options.runId, `${via}:${id}`, options.reason);
  } finally {
    await closeRuntime(runtime);
  }
  const canceled = result.outcome === 'canceled' || result.outcome === 'already-canceled';
  out.write(options.json ? `${JSON.stringify(result)}\n` : `${canceled ? '' : `refused (${result.outcome}): `}${result.message}\n`);
  for (const problem of result.problems ?? []) process.stderr.write(`baton cancel: ${problem}\n`);
  return canceled ? 0 : EXIT_REFUSED;
}

async function cancel(runtime: ReturnType<typeof cliRuntime>, runId: string, by: string, reason: string | undefined): Promise<CancelResult> {
  const [{ cancelRun, RUN_FINISHED_KEY }, { MANIFEST }] = await Promise.all([import('../../shared/ledger/runLedger.js'), import('../../functions/stages.js')]);
  let outcome: CancelOutcome | undefined;
  const { run } = await runtime.ledger().updateRun(runId, (current) => {
    outcome = cancelRun(current, by, reason, MANIFEST.plan(current), new Date().toISOString());
    return outcome.outcome === 'canceled';
  });
  if (!run || !outcome) return { runId, outcome: 'not-found', message: `run ${runId} not found` };
  const ended = `${outcome.status}${outcome.reason ? `: ${outcome.reason}` : ''}`;
  if (outcome.outcome === 'ended') return { runId, ...outcome, message: `run ${runId} had already ended (${ended})` };
  if (outcome.outcome === 'already-canceled') return { runId, ...outcome, message: `run ${runId} was already ${ended}` };
  // The run is canceled from here on; what follows only tells others, and a failure is reported, not fatal.
  const problems: string[] = [];
  const finished = run.outbox[RUN_FINISHED_KEY];
  if (finished && runtime.mode !== 'embedded') {
    // As the reconciler would for a writer that died: it is the stage that announces ends it did not write.
    const { stageRuntime } = await import('../../shared/stage/runner.js');
    await stageRuntime(runtime, MANIFEST.find('reconciler')!, MANIFEST)
      .publisher.republish(RUN_FINISHED_KEY, finished)
      .catch((error: unknown) => problems.push(redactedError('failed to publish run-finished (the reconciler will)', error).message));
  }
  const stoppedBuilds = await stopBuilds(runtime, run, problems);
  return { runId, ...outcome, stoppedBuilds, ...(problems.length ? { problems } : {}), message: `run ${runId} ${ended}${stoppedBuilds.length ? `; stopped the build of ${stoppedBuilds.join(', ')}` : ''}` };
}

/**
 * Stops the run's builds that have an id and no end, and records them CANCELLED on the run: the
 * stage runner skips the ended run's later events, so buildStatus would never record it. A
 * Terraform run's builds are left to finish: a terraform killed mid-plan or mid-apply can leave
 * its state lock held, or the infrastructure half changed.
 */
async function stopBuilds(runtime: ReturnType<typeof cliRuntime>, run: RunRecord, problems: string[]): Promise<string[]> {
  if (run.kind === 'terraform') return [];
  const running = Object.entries(run.builds).filter(([, build]) => build.buildId && !isTerminal(build.status as BuildStatus));
  if (!running.length) return [];
  const services: string[] = [];
  try {
    const pipeline = findPipeline(runtime.config(), run.pipeline);
    if (!pipeline) throw new Error(`pipeline ${run.pipeline} is not in ${runtime.config().file}`);
    const builder = runtime.builder(pipeline);
    for (const [service, build] of running) {
      await builder.cancel(build.buildId).then(
        () => services.push(service),
        (error: unknown) => problems.push(`failed to stop the build of ${service} (${build.buildId}): ${(error as Error).message}`),
      );
    }
  } catch (error) {
    problems.push(`failed to stop the builds of ${running.map(([service]) => service).join(', ')}: ${(error as Error).message}`);
  }
  if (!services.length) return services;
  await runtime.ledger().updateRun(run.runId, (current) => {
    for (const service of services) {
      const build = current.builds[service];
      if (build && !isTerminal(build.status as BuildStatus)) current.builds[service] = { ...build, status: 'CANCELLED', detail: 'canceled with the run' };
    }
    return true;
  });
  return services;
}

export function register(program: Command): void {
  actorOptions(program.command('cancel <runId>').description('stop a run: it ends canceled, its running builds are stopped, and no later stage starts'), 'who cancels: a CLI name or Jenkins user id (recorded as cli:<id> or jenkins:<id>)')
    .option('--reason <text>', 'why (kept as the run\'s reason)')
    .option('--json', 'print the outcome as JSON')
    .action(async (runId: string, opts: { as?: string; via?: string; reason?: string; json?: boolean }) => {
      process.exitCode = await runCancel({ runId, ...opts });
    });
}
