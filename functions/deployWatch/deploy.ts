import type { ArgoCdClient } from './argocdClient.js';
import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import type { ChartPublished } from '../../shared/contracts/index.js';
import type { RunLedger, RunRecord, StageStatus } from '../../shared/ledger/runLedger.js';
import { overtaken } from '../../shared/ledger/environments.js';
import type { Logger } from '../../shared/log/logger.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { result } from '../../shared/stage/outcome.js';
import type { Verdict } from './watch.js';
import { watchApplication } from './watch.js';
import { environmentsOf } from '../../domain/environments/config.js';
import { outboxKey } from '../../domain/environments/keys.js';
import { releaseDigests } from '../../domain/environments/runRelease.js';
import { deploySettles } from '../../domain/environments/settle.js';

/**
 * deployWatch: on `chart-published`, ask Argo CD to refresh the Application now and wait for
 * its verdict, then say `deploy-finished`, once per run. Without Argo CD configured (the
 * embedded demo) the deploy is `skipped`, and says why.
 */
export type DeployWatchDeps = {
  config: BatonConfig;
  ledger: RunLedger;
  log: Logger;
  /** An Argo CD client for a server URL, or undefined when no token is available. */
  argocd: (url: string) => ArgoCdClient | undefined;
  now: () => Date;
  sleep?: (ms: number) => Promise<void>;
  progress: (detail: string, links?: Record<string, string>) => Promise<void>;
};

export const DEFAULT_TIMEOUT_SECONDS = 300;
export const DEFAULT_POLL_SECONDS = 5;
const STAGE_STATUS: Record<Verdict['status'], StageStatus> = { synced: 'succeeded', skipped: 'skipped', degraded: 'failed', timeout: 'failed', failed: 'failed', superseded: 'superseded' };

type Result = Outcome<'deploy-finished'>;

export async function watchDeploy(event: ChartPublished, deps: DeployWatchDeps): Promise<Result> {
  const log = deps.log.child({ stage: 'deploy', runId: event.runId, pipeline: event.pipeline });
  const run = await deps.ledger.getRun(event.runId);
  if (run?.outbox[outboxKey('deploy-finished', event.environment)]) return result.none(`this run's deploy to ${event.environment} is already reported`);
  const pipeline = findPipeline(deps.config, event.pipeline);
  const server = pipeline?.deploy?.argocd;
  const environment = pipeline ? environmentsOf(pipeline).find((candidate) => candidate.name === event.environment) : undefined;
  const application = environment?.argocd?.application;
  if (!server || !application) return finish(event, { status: 'skipped', reason: `no Argo CD configured for pipeline ${event.pipeline}${environment?.implicit === false ? ` (deploy.argocd.url)` : ''}` }, undefined, run, deps, log);
  const argo = { ...server, application };

  const client = deps.argocd(argo.url);
  if (!client) return finish(event, { status: 'failed', reason: 'ARGOCD_AUTH_TOKEN is not set; deployWatch cannot ask Argo CD' }, argo, run, deps, log);
  await deps.progress(`waiting for Argo CD application ${argo.application} to sync ${event.chart} ${event.chartVersion}`, {
    argocd: `${argo.url.replace(/\/+$/, '')}/applications/${argo.application}`,
  });
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const verdict = await watchApplication(client, event, {
    application: argo.application,
    expectedImages: releaseDigests(event.images),
    timeoutMs: (argo.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    pollIntervalMs: (argo.pollSeconds ?? DEFAULT_POLL_SECONDS) * 1000,
    now: () => deps.now().getTime(),
    sleep,
    // Runs racing for one environment: a newer run's chart was recorded after this one's.
    superseded: async () => overtaken(await deps.ledger.environments.get(event.pipeline, event.environment), event.runId),
  });
  return finish(event, verdict, argo, run, deps, log);
}

/**
 * The deploy's outcome and its one `deploy-finished`. The log line carries the fields
 * Terraform's DORA log-based metrics filter on (lead time, time to restore).
 */
async function finish(event: ChartPublished, verdict: Verdict, argo: { application: string } | undefined, run: RunRecord | undefined, deps: DeployWatchDeps, log: Logger): Promise<Result> {
  // Once per run: only the delivery whose outcome is recorded counts the deploy and logs it.
  const onRecorded = async () => {
    const now = deps.now();
    // A deploy that did not happen ends the environment's deployment as failed; a good one stays in progress until verified (or, unverified, it is done).
    const verified = run && findPipeline(deps.config, event.pipeline) ? environmentsOf(findPipeline(deps.config, event.pipeline)!).find((candidate) => candidate.name === event.environment)?.verify : undefined;
    const settled = deploySettles({ status: verdict.status, kind: event.kind }, verified !== undefined);
    if (settled) await deps.ledger.environments.settleDeployment(event.pipeline, event.environment, event.runId, settled);
    // A superseded deploy never ran: it is marked so, and counts for neither DORA figure.
    if (verdict.status === 'superseded') return log.info('deploy superseded', { environment: event.environment, runId: event.runId, reason: verdict.reason });
    const restoreSeconds = verdict.status === 'skipped' ? undefined : await deps.ledger.recordDeployHealth(event.pipeline, verdict.status !== 'synced', now);
    const fields = {
      event: 'deploy-finished',
      environment: event.environment,
      status: verdict.status,
      pipeline: event.pipeline,
      runId: event.runId,
      ...(run ? { leadTimeSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(run.createdAt)) / 1000)) } : {}),
      ...(restoreSeconds !== undefined ? { restoreSeconds } : {}),
      ...(verdict.revision ? { revision: verdict.revision } : {}),
      ...(verdict.reason ? { reason: verdict.reason } : {}),
    };
    if (verdict.status === 'synced' || verdict.status === 'skipped') log.info('deploy finished', fields);
    else log.warn('deploy finished', fields);
  };
  return {
    onRecorded,
    environment: event.environment,
    status: STAGE_STATUS[verdict.status],
    detail: verdict.reason ?? `Argo CD synced ${event.chart} at ${verdict.revision}`,
    emit: [
      {
        topic: 'deploy-finished',
        key: outboxKey('deploy-finished', event.environment),
        input: {
          runId: event.runId,
          pipeline: event.pipeline,
          status: verdict.status,
          ...(argo ? { application: argo.application } : {}),
          ...(verdict.revision ? { revision: verdict.revision } : {}),
          ...(verdict.reason ? { reason: verdict.reason } : {}),
          environment: event.environment,
          images: event.images,
          kind: event.kind,
        },
      },
    ],
  };
}
