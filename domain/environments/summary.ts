import type { RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import type { Manifest } from '../../shared/stage/manifest.js';
import type { EnvironmentSummary } from './phases.js';
import { environmentSummaries, environmentViews, environmentsInPlan } from './phases.js';

/**
 * A run's `environments`, the fixed shape of its `--json` summary (`baton status --json`, the
 * demo): each environment's status, the release the run put there, and its verification.
 * Read off the run's own plan and timeline, plus the environments' holds.
 */
export async function runEnvironments(run: RunRecord, manifest: Pick<Manifest, 'plan' | 'perEnvironmentStages'>, ledger: RunLedger): Promise<Record<string, EnvironmentSummary>> {
  const plan = manifest.plan(run);
  const environments = environmentsInPlan(plan, manifest.perEnvironmentStages);
  const views = environmentViews(run, plan, environments, manifest.perEnvironmentStages);
  const records = await Promise.all(environments.map((environment) => ledger.environments.get(run.pipeline, environment.name)));
  const held = new Set(records.filter((record) => record.hold).map((record) => record.environment));
  return environmentSummaries(run, views, held);
}
