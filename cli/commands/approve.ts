import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { DecisionOutcome } from '../../domain/approval/decide.js';
import type { SweepResult } from '../../domain/approval/expiry.js';
import type { LocalDecideBody } from '../../domain/approval/localRoutes.js';
import { LOCAL_DECIDE_PATH, LOCAL_EXPIRE_PATH } from '../../domain/approval/localRoutes.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import type { StageRuntime } from '../../shared/stage/declaration.js';
import { cliRuntime, devUrl } from '../cliRuntime.js';

/**
 * `baton approve|reject <runId>`: the CLI and Jenkins deciders. Jenkins' input step runs
 * `baton approve "$RUN_ID" --via jenkins --as "$APPROVER"` with the submitter it recorded. Both
 * go through the same `decide()` as Slack, under the same rules; approvers list CLI and Jenkins
 * identities as `cli:<name>` and `jenkins:<user id>` (see domain/approval/identity.ts), and
 * `--as` takes the name with or without that prefix (`--as alice` = `--as cli:alice`).
 *
 * Exit codes: 0 decided, 2 refused (the outcome says why), 1 could not decide (an error).
 * `baton expire` runs the expiry sweep once (deployed: from Cloud Scheduler or Jenkins).
 */
export const EXIT_REFUSED = 2;

export type DecideCommandOptions = {
  runId: string;
  /** The environment whose approval this is; none for a pipeline without environments. */
  environment?: string;
  action: 'approve' | 'reject';
  as?: string;
  /** cli or jenkins; anything else is refused. */
  via?: string;
  reason?: string;
  json?: boolean;
};

type Output = { write(text: string): unknown };

/** Jenkins when `JENKINS_URL` is set (it is inside every Jenkins build), else the CLI. */
export function defaultVia(env: NodeJS.ProcessEnv): 'cli' | 'jenkins' {
  return env.JENKINS_URL ? 'jenkins' : 'cli';
}

/** `--as`, else Jenkins' `BUILD_USER_ID` (build-user-vars plugin) or `BATON_DECIDER`, else the OS user for the CLI. */
export function defaultIdentity(via: 'cli' | 'jenkins', env: NodeJS.ProcessEnv): string | undefined {
  if (via === 'jenkins') return env.BUILD_USER_ID || env.BATON_DECIDER || undefined;
  return env.BATON_DECIDER || userInfo().username || undefined;
}

/**
 * Who is acting, from `--as` and `--via`: the channel, and the name without its prefix
 * (`--as alice` = `--as cli:alice`; the approvers list says `cli:alice`).
 */
export function actorFrom(who: { as?: string; via?: string }, env: NodeJS.ProcessEnv, doing: string): { id: string; via: 'cli' | 'jenkins' } {
  if (who.via !== undefined && who.via !== 'cli' && who.via !== 'jenkins') throw new Error(`--via must be cli or jenkins, not ${who.via}`);
  const via = who.via ?? defaultVia(env);
  const id = (who.as ?? defaultIdentity(via, env))?.replace(new RegExp(`^${via}:`), '');
  if (!id) throw new Error(`failed to ${doing}: no identity; pass --as <${via === 'jenkins' ? 'jenkins user id' : 'name'}>`);
  return { id, via };
}

/** The `--as` and `--via` options that `actorFrom` reads, on a command; `asWhat` says whose identity `--as` gives. */
export function actorOptions(command: Command, asWhat: string): Command {
  return command.option('--as <identity>', asWhat).option('--via <channel>', 'cli or jenkins (default jenkins when JENKINS_URL is set)');
}

export async function closeRuntime(runtime: Runtime): Promise<void> {
  await Promise.allSettled([runtime.bus().close(), runtime.ledger().close()]);
}

export async function postLocal<T>(env: NodeJS.ProcessEnv, path: string, body: unknown): Promise<T> {
  const url = `${devUrl(env)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new Error(`failed to reach baton dev at ${devUrl(env)} (is \`baton dev\` running? BATON_DEV_URL says where): ${(error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`baton dev answered HTTP ${response.status} at ${path}: ${text}`);
  return JSON.parse(text) as T;
}

/** The CLI decides as the stage that owns the decision would (its declared topics, its ledger stage). */
async function decidingStage(runtime: Runtime, name: 'approvalCallback' | 'approvalExpiry'): Promise<StageRuntime<'approval-decided'>> {
  const [{ stageRuntime }, { MANIFEST }] = await Promise.all([import('../../shared/stage/runner.js'), import('../../functions/stages.js')]);
  return stageRuntime<'approval-decided'>(runtime, MANIFEST.find(name)!, MANIFEST);
}

/** Decides once and reports; resolves with the exit code. */
export async function runDecision(options: DecideCommandOptions, env: NodeJS.ProcessEnv = process.env, out: Output = process.stdout): Promise<number> {
  const { id, via } = actorFrom(options, env, options.action);
  const body: LocalDecideBody = { runId: options.runId, ...(options.environment ? { environment: options.environment } : {}), action: options.action, decider: { id, name: id, via }, ...(options.reason ? { reason: options.reason } : {}) };
  const runtime = cliRuntime(env);
  let outcome: DecisionOutcome;
  if (runtime.mode === 'embedded') {
    // The plain embedded mode: the bus lives inside `baton dev`; ask it to decide.
    outcome = await postLocal<DecisionOutcome>(env, LOCAL_DECIDE_PATH, body);
  } else {
    const [{ decide }, { decideDepsFor }, stage] = await Promise.all([import('../../domain/approval/decide.js'), import('../../domain/approval/runtimeDeps.js'), decidingStage(runtime, 'approvalCallback')]);
    try {
      outcome = await decide(body, decideDepsFor(stage, 'background'));
    } finally {
      await closeRuntime(runtime);
    }
  }
  if (options.json) out.write(`${JSON.stringify(outcome)}\n`);
  else out.write(`${outcome.outcome === 'decided' ? '' : `refused (${outcome.outcome}): `}${outcome.message}\n`);
  return outcome.outcome === 'decided' ? 0 : EXIT_REFUSED;
}

/** Runs the expiry sweep once. */
export async function runExpire(options: { json?: boolean }, env: NodeJS.ProcessEnv = process.env, out: Output = process.stdout): Promise<SweepResult> {
  const runtime = cliRuntime(env);
  let result: SweepResult;
  if (runtime.mode === 'embedded') {
    result = await postLocal<SweepResult>(env, LOCAL_EXPIRE_PATH, {});
  } else {
    const [{ expireStale }, { decideDepsFor }, stage] = await Promise.all([import('../../domain/approval/expiry.js'), import('../../domain/approval/runtimeDeps.js'), decidingStage(runtime, 'approvalExpiry')]);
    try {
      result = await expireStale(decideDepsFor(stage, 'background'));
    } finally {
      await closeRuntime(runtime);
    }
  }
  if (options.json) out.write(`${JSON.stringify(result)}\n`);
  else {
    const more = [
      ...(result.repaired.length ? [`finished ${result.repaired.length} interrupted decision(s)`] : []),
      ...(result.closed.length ? [`closed ${result.closed.length} request(s) whose run had ended`] : []),
    ];
    out.write(`expired ${result.expired.length} request(s)${result.expired.length ? `: ${result.expired.join(', ')}` : ''}${more.map((part) => `; ${part}`).join('')}\n`);
  }
  return result;
}

export function register(program: Command): void {
  for (const action of ['approve', 'reject'] as const) {
    actorOptions(program.command(`${action} <runId>`).description(`${action} a run waiting for approval (same rules as the Slack buttons)`), 'who decides: a CLI name or Jenkins user id, matched against the approvers as cli:<id> or jenkins:<id>')
      .option('--reason <text>', 'why (kept with the decision)')
      .option('--env <environment>', 'the environment the approval is for (a pipeline with environments)')
      .option('--json', 'print the outcome as JSON')
      .action(async (runId: string, opts: { as?: string; via?: string; reason?: string; env?: string; json?: boolean }) => {
        process.exitCode = await runDecision({ runId, ...(opts.env ? { environment: opts.env } : {}), action, as: opts.as, via: opts.via, reason: opts.reason, json: opts.json });
      });
  }
  program
    .command('expire')
    .description('expire approval requests left undecided past their time (run it from a scheduler)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      await runExpire(opts);
    });
}
