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

/**
 * The pipeline's environments in order, once its config lists them (`pipelines[].environments`,
 * issue #15). Read by shape, so this works before and after that key joins the schema.
 */
export function environmentNames(pipeline: Pipeline | undefined): string[] | undefined {
  const listed = (pipeline as { environments?: unknown } | undefined)?.environments;
  if (!Array.isArray(listed)) return undefined;
  const names = listed.flatMap((environment: unknown) => {
    const name = (environment as { name?: unknown } | null)?.name;
    return typeof name === 'string' ? [name] : [];
  });
  return names.length ? names : undefined;
}
