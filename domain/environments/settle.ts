import { DeployFinished, ReleaseVerified } from '../../shared/contracts/index.js';
import type { DeployFinished as DeployFinishedEvent } from '../../shared/contracts/index.js';
import type { DeploymentStatus } from '../../shared/ledger/environments.js';
import type { RunRecord } from '../../shared/ledger/runRecord.js';
import { outboxKey } from './keys.js';

/**
 * What a run's deployment of one environment amounted to, once the run has ended: the end status
 * its deploy and verify stages would have written, read off the events they wrote to the run's
 * outbox (each in the same write as the stage's outcome), or `canceled` / `failed` when the run
 * ended before they said anything.
 *
 * Those stages settle the deployment themselves as they go. This is for the deployments nobody
 * settled: the run was canceled mid-deploy, the reconciler failed it past a stage's limit, or
 * the process died between a stage's write and its settle. It agrees with what the stage writes,
 * so settling twice, in either order, ends the same.
 */
export function endedDeploymentStatus(run: Pick<RunRecord, 'status' | 'outbox'>, environment: string, verified: boolean): Exclude<DeploymentStatus, 'in-progress'> {
  const unjudged = run.status === 'canceled' ? 'canceled' : 'failed';
  const deployed = DeployFinished.safeParse(run.outbox[outboxKey('deploy-finished', environment)]?.event);
  if (!deployed.success) return unjudged;
  const byDeploy = deploySettles(deployed.data, verified);
  if (byDeploy) return byDeploy;
  const verification = ReleaseVerified.safeParse(run.outbox[outboxKey('release-verified', environment)]?.event);
  if (!verification.success) return unjudged;
  const { verdict, rollbackRunId } = verification.data;
  if (verdict === 'passed') return 'succeeded';
  if (verdict === 'superseded') return 'superseded';
  return rollbackRunId ? 'rolled-back' : 'failed';
}

/**
 * What a deploy's verdict makes of its deployment: its end, or undefined while the environment's
 * verification has still to judge it. deployWatch settles by it as the deploy ends, and
 * `endedDeploymentStatus` by it for a deployment deployWatch never settled.
 */
export function deploySettles(deploy: Pick<DeployFinishedEvent, 'status' | 'kind'>, verified: boolean): Exclude<DeploymentStatus, 'in-progress'> | undefined {
  if (deploy.status === 'superseded') return 'superseded';
  if (deploy.status !== 'synced' && deploy.status !== 'skipped') return 'failed';
  // A rollback restores a release that was verified there, and is not verified again.
  return !verified || deploy.kind === 'rollback' ? 'succeeded' : undefined;
}
