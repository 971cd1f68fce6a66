import type { Pipeline } from '../../shared/config/pipelineConfig.js';
import type { RunRecord } from '../../shared/ledger/runRecord.js';
import type { RunSnapshot } from './types.js';

/**
 * The ledger's run as the reporter reads it: the same field names (types.ts keeps the reporter
 * independent of the ledger), and every stage of the timeline, whatever its name (`deploy`,
 * `deploy:prod`, `verify:prod`): the mapping is generic over stage names.
 */
export function snapshotOf(run: RunRecord): RunSnapshot {
  return {
    runId: run.runId,
    pipeline: run.pipeline,
    provider: run.provider,
    repository: run.repository,
    after: run.after,
    status: run.status,
    ...(run.reason !== undefined ? { reason: run.reason } : {}),
    stages: structuredClone(run.stages),
  };
}

/** The environment a plain `deploy` stage deploys to, while a pipeline lists none. */
export const DEFAULT_ENVIRONMENT = 'production';

/** The pipeline's environments in order (`pipelines[].environments`), or undefined when it lists none. */
export function environmentNames(pipeline: Pipeline | undefined): string[] | undefined {
  const names = pipeline?.environments?.map((environment) => environment.name);
  return names?.length ? names : undefined;
}
