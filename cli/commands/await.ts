import type { Command } from 'commander';
import { redact } from '../../shared/log/redact.js';
import { awaitStage } from '../await/awaitStage.js';
import type { AwaitDeps, AwaitResult } from '../await/awaitStage.js';
import { awaitResultJson, formatAwaitResult } from '../await/format.js';
import { UsageError } from '../await/stageWatch.js';
import { AWAIT_STAGES, EXIT, isAwaitStage } from '../await/stages.js';
import { createAwaitSubscription, deleteAwaitSubscription } from '../await/subscription.js';
import { cliRuntime } from '../cliRuntime.js';

type AwaitOptions = { stage: string; service?: string; env?: string; timeout?: string; poll: string; json?: boolean };

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * `baton await <runId> --stage <stage>`: what each Jenkins stage runs. Exit codes: 0 the stage
 * succeeded, 1 it failed (or was rejected, expired, superseded, canceled), 2 timed out, 3 usage or setup
 * error (nothing was awaited); 130/143 when interrupted by SIGINT/SIGTERM.
 */
export function register(program: Command): void {
  const stages = Object.keys(AWAIT_STAGES).join('|');
  program
    .command('await <runId>')
    .description('wait until one stage of a run ends; print its details and links (for Jenkins)')
    .requiredOption('--stage <stage>', `the stage: ${stages}`)
    .option('--service <name>', 'build stage only: wait for this service (default: every service of the run)')
    .option('--env <environment>', "a per-environment stage's environment (approve, chart, deploy, verify); omit for a pipeline without environments")
    .option('--timeout <seconds>', `give up after this long (defaults: ${Object.entries(AWAIT_STAGES).map(([stage, spec]) => `${stage} ${spec.defaultTimeoutSeconds}`).join(', ')})`)
    .option('--poll <seconds>', 'how often to read the run ledger while waiting', '5')
    .option('--json', 'print the result (events, ledger record, exit code) as JSON')
    .addHelpText('after', '\nExit codes: 0 succeeded, 1 failed, 2 timed out, 3 usage or setup error, 130/143 interrupted.')
    // A usage mistake must not look like a failed stage to Jenkins.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT.usage))
    .action(async (runId: string, options: AwaitOptions) => {
      process.exit(await runAwait(runId, options));
    });
}

async function runAwait(runId: string, options: AwaitOptions): Promise<number> {
  const usage = (message: string) => {
    process.stderr.write(`baton await: ${message}\n`);
    return EXIT.usage;
  };
  if (!isAwaitStage(options.stage)) return usage(`unknown stage "${options.stage}": expected one of ${Object.keys(AWAIT_STAGES).join(', ')}`);
  const stage = options.stage;
  if (options.service !== undefined && stage !== 'build') return usage('--service applies to the build stage only');
  const timeoutSeconds = options.timeout === undefined ? AWAIT_STAGES[stage]!.defaultTimeoutSeconds : Number(options.timeout);
  const pollSeconds = Number(options.poll);
  if (!(timeoutSeconds > 0)) return usage(`--timeout must be a positive number of seconds, not "${options.timeout}"`);
  if (!(pollSeconds > 0)) return usage(`--poll must be a positive number of seconds, not "${options.poll}"`);

  const env = process.env;
  const runtime = cliRuntime(env);
  const note = (line: string) => process.stderr.write(`baton await: ${redact(line)}\n`);
  const emulated = Boolean(env.PUBSUB_EMULATOR_HOST);
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? (emulated || env.FIRESTORE_EMULATOR_HOST ? 'baton-local' : undefined);
  // Deployed (and under the emulators) the bus is Pub/Sub, which this process can reach. The
  // embedded bus lives inside `baton dev`'s process, so there the ledger is the only source.
  const deps: AwaitDeps =
    runtime.mode === 'cloud'
      ? {
          ledger: runtime.ledger(),
          bus: runtime.bus(),
          createSubscription: async (topic, name) => {
            await createAwaitSubscription({ projectId, topic, name, runId, createTopic: emulated });
            return () => deleteAwaitSubscription(projectId, name);
          },
          note,
        }
      : { ledger: runtime.ledger(), note };

  const controller = new AbortController();
  let signalled: string | undefined;
  const onSignal = (signal: string) => {
    signalled = signal;
    controller.abort();
  };
  const handlers = Object.keys(SIGNAL_EXIT).map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) process.once(signal, handler);

  let code: number;
  try {
    const result = await awaitStage(
      { runId, stage, ...(options.service ? { service: options.service } : {}), ...(options.env ? { environment: options.env } : {}), timeoutMs: timeoutSeconds * 1000, pollMs: pollSeconds * 1000, signal: controller.signal },
      deps,
    );
    code = exitCode(result, signalled);
    process.stdout.write(options.json ? awaitResultJson(result, code) : formatAwaitResult(result));
  } catch (error) {
    // A UsageError (e.g. a service the run does not build) or a setup error (no access to
    // Pub/Sub or the ledger): either way nothing was awaited, which Jenkins must not read as a failed stage.
    code = EXIT.usage;
    note(`${error instanceof UsageError ? 'cannot' : 'failed to'} await ${stage} of run ${runId}: ${(error as Error).message}`);
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
  await Promise.race([
    Promise.allSettled([runtime.ledger().close(), deps.bus?.close()]),
    new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
  ]);
  return code;
}

function exitCode(result: AwaitResult, signal: string | undefined): number {
  switch (result.outcome) {
    case 'succeeded':
      return EXIT.succeeded;
    case 'failed':
      return EXIT.failed;
    case 'timeout':
      return EXIT.timeout;
    case 'interrupted':
      return SIGNAL_EXIT[signal ?? 'SIGTERM'] ?? 143;
  }
}
