import { z } from 'zod';
import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import { Decider, IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import type { RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import type { StageRuntime } from '../../shared/stage/declaration.js';
import type { Manifest } from '../../shared/stage/manifest.js';
import type { Publisher } from '../../shared/stage/publisher.js';
import type { DecisionOutcome, DecisionRequest } from '../approval/decide.js';
import { isApprover } from '../approval/identity.js';
import { approvalSettings } from '../approval/settings.js';
import type { Environment } from './config.js';
import { environmentsOf } from './config.js';
import { environmentStages, environmentViews } from './phases.js';
import { manualPromotion, releaseKey } from './release.js';
import { startRollback } from './rollback.js';
import { releaseDigests } from './runRelease.js';

/**
 * What people do to environments (`baton promote|rollback|hold|release`), one function each,
 * shared by the CLI (deployed runtime) and `baton dev`'s loopback route (embedded runtime).
 * Promote and rollback follow the deploy's approval rules: an environment promoted by approval
 * takes its approvers' word only; an `auto` one anybody's who may run baton. Hold and release
 * are safety switches, open to anyone who may run baton; who and why is kept.
 */
export const EnvironmentOperation = z.discriminatedUnion('op', [
  z.object({ op: z.literal('promote'), runId: z.string().min(1), environment: z.string().min(1), decider: Decider, reason: z.string().optional() }),
  z.object({ op: z.literal('rollback'), pipeline: z.string().min(1), environment: z.string().min(1), toRunId: z.string().optional(), decider: Decider, reason: z.string().optional() }),
  z.object({ op: z.literal('hold'), pipeline: z.string().min(1), environment: z.string().min(1), decider: Decider, reason: z.string().min(1) }),
  z.object({ op: z.literal('release'), pipeline: z.string().min(1), environment: z.string().min(1), decider: Decider }),
]);
export type EnvironmentOperation = z.infer<typeof EnvironmentOperation>;

export type OperationResult = { ok: boolean; message: string; runId?: string };

export type OperationDeps = {
  ledger: RunLedger;
  config: BatonConfig;
  manifest: Manifest;
  /** Records `promotion-requested` on a run (the runner's record, as a stage that declares it). */
  record: StageRuntime<'approval-decided' | 'promotion-requested'>['record'];
  /** Publishes a rollback run's `approval-decided`. */
  publisher: Publisher<'approval-decided'>;
  decide: (request: DecisionRequest) => Promise<DecisionOutcome>;
  env: { SLACK_APPROVERS?: string; SLACK_CHANNEL?: string };
  now: () => Date;
};

const refused = (message: string): OperationResult => ({ ok: false, message });
const who = (decider: Decider) => `${decider.via}:${decider.id}`;

export async function runEnvironmentOperation(operation: EnvironmentOperation, deps: OperationDeps): Promise<OperationResult> {
  switch (operation.op) {
    case 'promote':
      return promote(operation, deps);
    case 'rollback':
      return rollback(operation, deps);
    case 'hold':
      return hold(operation, deps);
    case 'release':
      return release(operation, deps);
  }
}

function environmentOf(config: BatonConfig, pipelineName: string, name: string): { environment?: Environment; problem?: string } {
  const pipeline = findPipeline(config, pipelineName);
  if (!pipeline) return { problem: `pipeline ${pipelineName} is not in ${config.file}` };
  const environments = environmentsOf(pipeline);
  const environment = environments.find((candidate) => candidate.name === name);
  return environment ? { environment } : { problem: `pipeline ${pipelineName} has no environment ${name}; it has ${environments.map((candidate) => candidate.name).join(', ')}` };
}

async function promote(operation: Extract<EnvironmentOperation, { op: 'promote' }>, deps: OperationDeps): Promise<OperationResult> {
  const run = await deps.ledger.getRun(operation.runId);
  if (!run) return refused(`run ${operation.runId} is unknown`);
  if (run.status !== 'running') return refused(`run ${run.runId} has ended (${run.status}); to put an earlier release back, use baton rollback ${run.pipeline} --env ${operation.environment} --to ${run.runId}`);
  const { environment, problem } = environmentOf(deps.config, run.pipeline, operation.environment);
  if (!environment) return refused(problem!);
  const environments = environmentsOf(findPipeline(deps.config, run.pipeline)!);
  const views = environmentViews(run, deps.manifest.plan(run), environments, deps.manifest.perEnvironmentStages);
  const held = await heldEnvironments(run.pipeline, environments, deps.ledger);
  const check = manualPromotion(environments, { release: releaseDigests(run.release ?? []), phases: Object.fromEntries(views.map((view) => [view.name, view.phase])), held, approvals: [] }, environment.name);
  if (!check.ok) return refused(check.reason);
  if (environment.promotion === 'approval') {
    // The same decision as Approve in Slack, bound to this release and environment.
    const outcome = await deps.decide({ runId: run.runId, environment: environment.name, action: 'approve', decider: operation.decider, ...(operation.reason ? { reason: operation.reason } : {}) });
    return { ok: outcome.outcome === 'decided', message: outcome.message, runId: run.runId };
  }
  await requestPromotion(run, environment.name, `baton promote by ${who(operation.decider)}`, deps);
  return { ok: true, message: `asked to promote run ${run.runId} to ${environment.name} (release ${releaseKey(releaseDigests(run.release ?? [])).slice(0, 19)}…)`, runId: run.runId };
}

async function rollback(operation: Extract<EnvironmentOperation, { op: 'rollback' }>, deps: OperationDeps): Promise<OperationResult> {
  const { environment, problem } = environmentOf(deps.config, operation.pipeline, operation.environment);
  if (!environment) return refused(problem!);
  if (environment.promotion === 'approval') {
    const settings = approvalSettings(deps.config, operation.pipeline, deps.env, environment.name);
    if (!isApprover(settings.approvers, operation.decider)) return refused(`you are not allowed to deploy ${operation.pipeline} to ${environment.name}, so you may not roll it back either`);
  }
  const pipeline = findPipeline(deps.config, operation.pipeline)!;
  const started = await startRollback(
    { pipeline: operation.pipeline, environment, ...(operation.toRunId ? { toRunId: operation.toRunId } : {}), reason: operation.reason ?? `baton rollback by ${who(operation.decider)}`, by: operation.decider },
    { ledger: deps.ledger, publisher: deps.publisher, plan: environmentStages(deps.manifest.runPlan(pipeline), environment, ['chart', 'deploy']), now: deps.now },
  );
  if (!started.ok) return refused(started.reason);
  return { ok: true, message: `rolling ${environment.name} back to run ${started.toRunId}'s release: rollback run ${started.runId}`, runId: started.runId };
}

async function hold(operation: Extract<EnvironmentOperation, { op: 'hold' }>, deps: OperationDeps): Promise<OperationResult> {
  const { environment, problem } = environmentOf(deps.config, operation.pipeline, operation.environment);
  if (!environment) return refused(problem!);
  const placed = await deps.ledger.environments.hold(operation.pipeline, environment.name, { reason: operation.reason, by: who(operation.decider), at: deps.now().toISOString() });
  if (!placed) return refused(`${environment.name} is already held: ${(await deps.ledger.environments.get(operation.pipeline, environment.name)).hold?.reason}`);
  return { ok: true, message: `held ${operation.pipeline} ${environment.name}: automation will not move it until baton release ${operation.pipeline} --env ${environment.name}` };
}

async function release(operation: Extract<EnvironmentOperation, { op: 'release' }>, deps: OperationDeps): Promise<OperationResult> {
  const { environment, problem } = environmentOf(deps.config, operation.pipeline, operation.environment);
  if (!environment) return refused(problem!);
  const lifted = await deps.ledger.environments.release(operation.pipeline, environment.name);
  if (!lifted) return refused(`${environment.name} is not held`);
  // Runs waiting at the hold look again; promotion is idempotent, so every running run may.
  const running = (await deps.ledger.listRuns({ limit: 100, pipeline: operation.pipeline })).filter((run) => run.status === 'running');
  for (const run of running) await requestPromotion(run, environment.name, `baton release by ${who(operation.decider)}`, deps);
  return { ok: true, message: `released ${operation.pipeline} ${environment.name} (held by ${lifted.by}: ${lifted.reason}); ${running.length} running run(s) look again` };
}

async function heldEnvironments(pipeline: string, environments: readonly Environment[], ledger: RunLedger): Promise<string[]> {
  const records = await Promise.all(environments.map((environment) => ledger.environments.get(pipeline, environment.name)));
  return records.filter((record) => record.hold).map((record) => record.environment);
}

async function requestPromotion(run: RunRecord, environment: string, reason: string, deps: OperationDeps): Promise<void> {
  const at = deps.now().toISOString();
  await deps.record(run.runId, {
    // A key per request, so each one is published (and handled) again.
    emit: [{ topic: 'promotion-requested', key: `promotion-requested:${environment === IMPLICIT_ENVIRONMENT ? '' : `${environment}:`}${at}`, input: { runId: run.runId, pipeline: run.pipeline, environment, reason } }],
  });
}

/** The operations' dependencies for a runtime, acting as approvalCallback (people's decisions are that stage's). */
export function operationDepsFor(runtime: StageRuntime<'approval-decided' | 'promotion-requested'>, decide: OperationDeps['decide']): OperationDeps {
  return {
    ledger: runtime.ledger(),
    config: runtime.config(),
    manifest: runtime.manifest,
    record: (runId, outcome, options) => runtime.record(runId, outcome, options),
    publisher: runtime.publisher as unknown as Publisher<'approval-decided'>,
    decide,
    env: { SLACK_APPROVERS: runtime.env.SLACK_APPROVERS, SLACK_CHANNEL: runtime.env.SLACK_CHANNEL },
    now: () => runtime.now(),
  };
}
