import type { Command } from 'commander';
import { loadConfig } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import { environmentsOf } from '../../domain/environments/config.js';
import type { EnvironmentOperation, OperationResult } from '../../domain/environments/operations.js';
import { LOCAL_ENVIRONMENT_PATH } from '../../domain/approval/localRoutes.js';
import { cliRuntime } from '../cliRuntime.js';
import { EXIT_REFUSED, actorFrom, actorOptions, closeRuntime, postLocal } from './approve.js';

/**
 * Environments from the command line (issue #15):
 * - `baton environments <pipeline> [--json]`: the pipeline's environments in order (Jenkins
 *   builds a stage per environment from it);
 * - `baton promote <runId> --to <env>`: an approval of the run's release for `env`, under the
 *   same rules as Slack's button (an `auto` environment is simply asked to move now);
 * - `baton rollback <pipeline> --env <env> [--to <runId>]`: a rollback run to the previous
 *   release that succeeded there, or to a named run's;
 * - `baton hold <pipeline> --env <env> --reason <text>` / `baton release <pipeline> --env <env>`:
 *   automation never moves a held environment; runs wait at it, and look again on release.
 * Exit codes as `baton approve`: 0 done, 2 refused (the message says why), 1 error.
 */
type Output = { write(text: string): unknown };
type Who = { as?: string; via?: string };

export async function runOperation(build: (decider: EnvironmentOperation['decider']) => EnvironmentOperation, who: Who, options: { json?: boolean }, env: NodeJS.ProcessEnv = process.env, out: Output = process.stdout): Promise<number> {
  const { id, via } = actorFrom(who, env, 'act');
  const operation = build({ id, name: id, via });
  const runtime = cliRuntime(env);
  let result: OperationResult;
  if (runtime.mode === 'embedded') {
    // The embedded bus lives inside `baton dev`: it runs the operation.
    result = await postLocal<OperationResult>(env, LOCAL_ENVIRONMENT_PATH, operation);
  } else {
    const [{ runEnvironmentOperation, operationDepsFor }, { decide }, { decideDepsFor }, { stageRuntime }, { MANIFEST }] = await Promise.all([
      import('../../domain/environments/operations.js'),
      import('../../domain/approval/decide.js'),
      import('../../domain/approval/runtimeDeps.js'),
      import('../../shared/stage/runner.js'),
      import('../../functions/stages.js'),
    ]);
    const stage = stageRuntime<'approval-decided' | 'promotion-requested'>(runtime, MANIFEST.find('approvalCallback')!, MANIFEST);
    try {
      result = await runEnvironmentOperation(operation, operationDepsFor(stage, (request) => decide(request, decideDepsFor(stage, 'background'))));
    } finally {
      await closeRuntime(runtime);
    }
  }
  out.write(options.json ? `${JSON.stringify(result)}\n` : `${result.ok ? '' : 'refused: '}${result.message}\n`);
  return result.ok ? 0 : EXIT_REFUSED;
}

/** `baton environments <pipeline>`: name, promotion, Argo CD application and whether it is verified, in order. */
export function listEnvironments(pipelineName: string, env: NodeJS.ProcessEnv = process.env): Array<{ name: string; promotion: string; application?: string; verify: boolean; implicit: boolean }> {
  const config = loadConfig(env);
  const pipeline = findPipeline(config, pipelineName);
  if (!pipeline) throw new Error(`pipeline ${pipelineName} is not in ${config.file}`);
  return environmentsOf(pipeline).map((environment) => ({
    name: environment.name,
    promotion: environment.promotion,
    ...(environment.argocd ? { application: environment.argocd.application } : {}),
    verify: environment.verify !== undefined,
    implicit: environment.implicit,
  }));
}

const whoOptions = (command: Command) => actorOptions(command, 'who: a CLI name or Jenkins user id, matched against the approvers as cli:<id> or jenkins:<id>').option('--json', 'print the result as JSON');

export function register(program: Command): void {
  program
    .command('environments <pipeline>')
    .description("a pipeline's environments, in promotion order")
    .option('--json', 'print them as a JSON array')
    .action((pipeline: string, opts: { json?: boolean }) => {
      const environments = listEnvironments(pipeline);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(environments)}\n`
          : `${environments.map((environment) => `${environment.name}\t${environment.promotion}${environment.application ? `\t${environment.application}` : ''}${environment.verify ? '\tverified' : ''}`).join('\n')}\n`,
      );
    });

  whoOptions(program.command('promote <runId>').description("promote a run's release to an environment (same rules as the Slack approval)").requiredOption('--to <environment>', 'the environment').option('--reason <text>', 'why')).action(
    async (runId: string, opts: Who & { to: string; reason?: string; json?: boolean }) => {
      process.exitCode = await runOperation((decider) => ({ op: 'promote', runId, environment: opts.to, decider, ...(opts.reason ? { reason: opts.reason } : {}) }), opts, opts);
    },
  );

  whoOptions(
    program
      .command('rollback <pipeline>')
      .description("deploy an environment's previous release again (or a named run's), as a rollback run")
      .requiredOption('--env <environment>', 'the environment')
      .option('--to <runId>', 'the run whose release to restore (default: the newest earlier one that succeeded there)')
      .option('--reason <text>', 'why'),
  ).action(async (pipeline: string, opts: Who & { env: string; to?: string; reason?: string; json?: boolean }) => {
    process.exitCode = await runOperation((decider) => ({ op: 'rollback', pipeline, environment: opts.env, ...(opts.to ? { toRunId: opts.to } : {}), decider, ...(opts.reason ? { reason: opts.reason } : {}) }), opts, opts);
  });

  whoOptions(program.command('hold <pipeline>').description('stop automation from moving an environment').requiredOption('--env <environment>', 'the environment').requiredOption('--reason <text>', 'why (shown on the runs that wait)')).action(
    async (pipeline: string, opts: Who & { env: string; reason: string; json?: boolean }) => {
      process.exitCode = await runOperation((decider) => ({ op: 'hold', pipeline, environment: opts.env, decider, reason: opts.reason }), opts, opts);
    },
  );

  whoOptions(program.command('release <pipeline>').description('lift a hold; the runs waiting at it go on').requiredOption('--env <environment>', 'the environment')).action(
    async (pipeline: string, opts: Who & { env: string; json?: boolean }) => {
      process.exitCode = await runOperation((decider) => ({ op: 'release', pipeline, environment: opts.env, decider }), opts, opts);
    },
  );
}
