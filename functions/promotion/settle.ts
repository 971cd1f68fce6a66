import type { RunRecord } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { result } from '../../shared/stage/outcome.js';
import { environmentStages, environmentsInPlan } from '../../domain/environments/phases.js';
import { endedDeploymentStatus } from '../../domain/environments/settle.js';
import type { PromotionDeps } from './promote.js';

/**
 * `run-finished`: every environment deployment the run left `in-progress` gets its end
 * (`endedDeploymentStatus`). Without it, a run canceled mid-deploy, or failed by the reconciler
 * mid-verification, would show in its environment's history as deploying for ever, and
 * `baton rollback --to` would name it that way. Each settle is a conditional write, so a
 * redelivery, or a stage settling the same deployment, changes nothing.
 */
export async function settleLeftDeployments(run: RunRecord, deps: Pick<PromotionDeps, 'ledger' | 'manifest'>, log: Logger): Promise<Outcome<never>> {
  if (run.status === 'running') return result.none('the run has not ended');
  const plan = deps.manifest.plan(run);
  const settled: string[] = [];
  for (const environment of environmentsInPlan(plan, deps.manifest.perEnvironmentStages)) {
    const { history } = await deps.ledger.environments.get(run.pipeline, environment.name);
    if (history.find((entry) => entry.runId === run.runId)?.status !== 'in-progress') continue;
    const status = endedDeploymentStatus(run, environment.name, environmentStages(plan, environment, ['verify']).length > 0);
    await deps.ledger.environments.settleDeployment(run.pipeline, environment.name, run.runId, status);
    settled.push(`${environment.name} ${status}`);
  }
  if (!settled.length) return result.none('the run left no deployment in progress');
  log.info('settled the deployments the ended run left in progress', { runStatus: run.status, settled });
  return result.none(`settled the deployments it left in progress: ${settled.join(', ')}`);
}
