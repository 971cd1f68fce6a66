import type { RunRecord, StageRecord } from '../../shared/ledger/runRecord.js';
import type { Environment } from './config.js';
import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import type { EnvironmentPhase, EnvironmentStatus } from './release.js';
import { environmentStatus } from './release.js';

/**
 * Where a run stands with each environment, read off its timeline: the environment's stages
 * (`approval:prod`, `chart:prod`, `deploy:prod`, `verify:prod`, or the plain names for the
 * implicit environment) are the one record of it, so nothing else has to be kept in step.
 */

/** The ledger stages of one environment in a run's plan, in order. */
export function environmentStages(plan: readonly string[], environment: Pick<Environment, 'name' | 'implicit'>, perEnvironment: readonly string[]): string[] {
  return plan.filter((stage) => {
    const [base, name] = stage.split(':');
    return perEnvironment.includes(base!) && (environment.implicit ? name === undefined : name === environment.name);
  });
}

/** The phase of one environment, from the records of its stages (in plan order). */
export function phaseOf(records: ReadonlyArray<{ stage: string; record: StageRecord | undefined }>): EnvironmentPhase {
  const statuses = records.map(({ record }) => record?.status);
  if (statuses.includes('rolled-back')) return 'rolled-back';
  if (statuses.some((status) => status === 'failed' || status === 'rejected' || status === 'expired')) return 'failed';
  if (statuses.some((status) => status === 'skipped' || status === 'superseded')) return 'skipped';
  if (records.length && statuses.at(-1) === 'succeeded') return 'succeeded';
  if (statuses.every((status) => status === undefined)) return 'pending';
  const open = records.find(({ record }) => record && record.status !== 'succeeded');
  // Between two stages (chart done, deploy not yet recorded): deploying.
  if (!open) return 'deploying';
  const [base] = open.stage.split(':');
  if (base === 'approval' && open.record!.status === 'waiting') return 'awaiting-approval';
  if (base === 'verify') return 'verifying';
  // A first stage waiting with nothing started (a held environment) is still pending.
  return open.record!.status === 'waiting' && !statuses.includes('succeeded') ? 'pending' : 'deploying';
}

export type EnvironmentView = {
  name: string;
  stages: string[];
  phase: EnvironmentPhase;
};

/** The environments a plan goes through, in order, read off its stage names (no config needed). */
export function environmentsInPlan(plan: readonly string[], perEnvironment: readonly string[]): Array<Pick<Environment, 'name' | 'implicit'>> {
  const names: Array<Pick<Environment, 'name' | 'implicit'>> = [];
  for (const stage of plan) {
    const [base, name] = stage.split(':');
    if (!perEnvironment.includes(base!)) continue;
    const environment = name === undefined ? { name: IMPLICIT_ENVIRONMENT, implicit: true } : { name, implicit: false };
    if (!names.some((seen) => seen.name === environment.name)) names.push(environment);
  }
  return names;
}

/** Every environment of the run's pipeline, with its stages and phase. */
export function environmentViews(run: RunRecord, plan: readonly string[], environments: ReadonlyArray<Pick<Environment, 'name' | 'implicit'>>, perEnvironment: readonly string[]): EnvironmentView[] {
  return environments.map((environment) => {
    const stages = environmentStages(plan, environment, perEnvironment);
    return { name: environment.name, stages, phase: phaseOf(stages.map((stage) => ({ stage, record: run.stages[stage] }))) };
  });
}

/** The fixed `--json` shape of one environment (issue #15: other tools rely on it). */
export type EnvironmentSummary = {
  status: EnvironmentStatus;
  release: Record<string, string>;
  verify: { checks: Array<{ name: string; value: number | null; ok: boolean }> };
};

/** `environments` of a run's `--json` summary. */
export function environmentSummaries(run: RunRecord, views: readonly EnvironmentView[], held: ReadonlySet<string>): Record<string, EnvironmentSummary> {
  return Object.fromEntries(
    views.map((view) => {
      const deployment = run.deployments?.[view.name];
      const summary: EnvironmentSummary = {
        status: environmentStatus(view.phase, held.has(view.name) && (view.phase === 'pending' || view.phase === 'awaiting-approval')),
        release: Object.fromEntries((deployment?.images ?? []).map((image) => [image.service, image.digest])),
        verify: { checks: (deployment?.checks ?? []).map((check) => ({ name: check.name, value: check.value, ok: check.ok })) },
      };
      return [view.name, summary];
    }),
  );
}
