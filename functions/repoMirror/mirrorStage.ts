import type { Bus } from '../../shared/bus/bus.js';
import { publishEvent } from '../../shared/bus/events.js';
import { DEFAULT_MAX_DELIVERY_ATTEMPTS } from '../../shared/bus/bus.js';
import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { ConfigError, affectedServices, findPipeline, requireKey } from '../../shared/config/pipelineConfig.js';
import type { PushReceived } from '../../shared/contracts/index.js';
import { ZERO_SHA } from '../../shared/contracts/index.js';
import { authModeFor, gitAuthEnv, stripCredentials } from '../../shared/git/gitAuth.js';
import type { GitAuthMode } from '../../shared/git/gitAuth.js';
import { PermanentMirrorError, changedPaths, mergeBase } from './mirror.js';
import type { MirrorRequest, MirrorResult } from './mirror.js';
import type { RunLedger, Stage } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';

export type MirrorStageDeps = {
  config: BatonConfig;
  ledger: RunLedger;
  bus: Bus;
  log: Logger;
  /** The mirror operation (`mirrorRef`); injected so the stage can be driven without git. */
  mirror: (request: MirrorRequest) => Promise<MirrorResult>;
  /** The service account's access token for Google-hosted remotes; undefined off Google Cloud. */
  accessToken: () => Promise<string | undefined>;
  /** Where the per-mirror cache repositories live (warm instances reuse them). */
  cacheRoot: string;
};

export type DeliveryInfo = { deliveryAttempt: number };

const STAGE = 'mirror' as const;
const LATER_STAGES: Stage[] = ['build', 'approval', 'chart', 'deploy'];

/**
 * repoMirror: copies the pushed commit to the backup remote, works out the affected services
 * when intake could not, and publishes `source-mirrored` with the exact sha, once per run.
 *
 * Idempotent: the git work is a no-op when the mirror already holds the commit, and the publish
 * is guarded by a claim. Transient failures throw (the bus redelivers); permanent ones (a missing
 * config key, a commit the source does not have) are recorded as failed and acked.
 */
export async function handlePushReceived(event: PushReceived, delivery: DeliveryInfo, deps: MirrorStageDeps): Promise<void> {
  const log = deps.log.child({ stage: 'repoMirror', runId: event.runId, pipeline: event.pipeline });
  const publishedKey = `source-mirrored:${event.runId}`;
  if (await deps.ledger.getClaim(publishedKey)) {
    log.info('ignored a redelivered push: the run is already mirrored');
    return;
  }

  const pipeline = findPipeline(deps.config, event.pipeline);
  if (!pipeline) return fail(deps, event, log, `pipeline "${event.pipeline}" is no longer in ${deps.config.file}`);
  let mirrorUrl: string;
  try {
    mirrorUrl = requireKey(deps.config, pipeline, 'mirror.url', pipeline.mirror?.url, 'repoMirror');
  } catch (error) {
    if (error instanceof ConfigError) return fail(deps, event, log, error.message);
    throw error;
  }
  const sourceUrl = pipeline.source?.url ?? event.cloneUrl;
  await deps.ledger.recordStage(event.runId, STAGE, { status: 'running', detail: `mirroring ${event.after.slice(0, 7)} to ${stripCredentials(mirrorUrl)}` });

  let result: MirrorResult;
  try {
    result = await deps.mirror(await mirrorRequest(deps, pipeline, event, sourceUrl, mirrorUrl));
  } catch (error) {
    if (error instanceof PermanentMirrorError) return fail(deps, event, log, error.message);
    // Transient (network, auth, a race that kept losing): the bus redelivers. On the last attempt
    // the run's timeline says so, since the message is about to be dead-lettered.
    if (delivery.deliveryAttempt >= DEFAULT_MAX_DELIVERY_ATTEMPTS) {
      await deps.ledger.recordStage(event.runId, STAGE, { status: 'failed', detail: (error as Error).message });
    }
    log.warn('failed to mirror; the push will be redelivered', { error, deliveryAttempt: delivery.deliveryAttempt });
    throw error;
  }
  log.info('mirrored the push', { outcome: result.outcome, fullCopy: result.fullCopy, rewritten: result.rewritten, sha: event.after, ref: event.ref });

  // A Terraform run plans its directory whatever the services say; an app run builds services.
  const services = event.kind === 'terraform' || event.servicesResolved ? event.services : await resolveServices(pipeline, event, result, log);
  const detail = mirrorDetail(event, result);
  if (services.length === 0 && event.kind === 'app') {
    // Nothing to build: the run ends here. Later stages are recorded as skipped so the timeline
    // (and `baton await`) shows a finished run, and nothing further is published.
    if (!(await deps.ledger.claim(publishedKey, { services: [] }))) return;
    await deps.ledger.updateRun(event.runId, (run) => ({ ...run, services: [] }));
    await deps.ledger.recordStage(event.runId, STAGE, { status: 'succeeded', detail });
    for (const stage of LATER_STAGES) await deps.ledger.recordStage(event.runId, stage, { status: 'skipped', detail: 'no service is affected by the push' });
    log.info('no service is affected; the run ends after the mirror');
    return;
  }

  if (!(await deps.ledger.claim(publishedKey, { services }))) {
    log.info('ignored a concurrent redelivery: the run is already mirrored');
    return;
  }
  try {
    await deps.ledger.updateRun(event.runId, (run) => (sameList(run.services, services) ? undefined : { ...run, services }));
    // The ledger is written before the event goes out, so every later stage (and Jenkins) finds
    // the mirror finished; a failed publish is retried by redelivery, which finds it so too.
    await deps.ledger.recordStage(event.runId, STAGE, { status: 'succeeded', detail });
    await publishEvent(deps.bus, 'source-mirrored', {
      runId: event.runId,
      pipeline: event.pipeline,
      kind: event.kind,
      repository: event.repository,
      ref: event.ref,
      sha: event.after,
      before: event.before,
      mirrorUrl: stripCredentials(mirrorUrl),
      services,
      seq: event.seq,
    });
  } catch (error) {
    await deps.ledger.releaseClaim(publishedKey).catch(() => undefined);
    throw error;
  }
}

async function mirrorRequest(deps: MirrorStageDeps, pipeline: Pipeline, event: PushReceived, sourceUrl: string, mirrorUrl: string): Promise<MirrorRequest> {
  const mode: GitAuthMode = authModeFor(mirrorUrl, pipeline.mirror?.auth);
  const token = mode === 'google' ? await deps.accessToken() : undefined;
  return {
    sourceUrl,
    mirrorUrl,
    ref: event.ref,
    after: event.after,
    cacheRoot: deps.cacheRoot,
    mirrorEnv: gitAuthEnv(mirrorUrl, token),
    // The source only gets the token when it lives on the same Google host as the mirror.
    sourceEnv: sameOrigin(sourceUrl, mirrorUrl) ? gitAuthEnv(sourceUrl, token) : {},
    secrets: token ? [token] : [],
  };
}

/**
 * The services a push affects when the payload could not tell: `git diff before..after` in the
 * cache. A new branch is diffed against its merge-base with the mirror's default branch (or, when
 * the shallow cache cannot find one, against that branch's tip, which over- rather than
 * under-approximates). When nothing can be diffed, every service is built.
 */
async function resolveServices(pipeline: Pipeline, event: PushReceived, result: MirrorResult, log: Logger): Promise<string[]> {
  const all = pipeline.services.map((service) => service.name);
  let paths: string[] | undefined;
  if (event.before !== ZERO_SHA) {
    paths = await changedPaths(result.cache, event.before, event.after);
  } else if (result.defaultBranchTip && result.defaultBranchTip !== event.after) {
    const base = (await mergeBase(result.cache, result.defaultBranchTip, event.after)) ?? result.defaultBranchTip;
    paths = await changedPaths(result.cache, base, event.after);
  }
  if (paths === undefined) {
    log.info('could not diff the push; building every service', { before: event.before, reason: event.unresolvedReason });
    return all;
  }
  const services = affectedServices(pipeline, paths);
  log.info('worked out the affected services from git', { services, changedPaths: paths.length, reason: event.unresolvedReason });
  return services;
}

async function fail(deps: MirrorStageDeps, event: PushReceived, log: Logger, reason: string): Promise<void> {
  log.error('failed to mirror; not retrying', { reason });
  await deps.ledger.recordStage(event.runId, STAGE, { status: 'failed', detail: reason });
}

function mirrorDetail(event: PushReceived, result: MirrorResult): string {
  const sha = event.after.slice(0, 7);
  switch (result.outcome) {
    case 'already-mirrored':
      return `${sha} was already in the mirror`;
    case 'superseded':
      return `${sha} kept in the mirror; ${event.ref} has since moved on`;
    default:
      return `${result.fullCopy ? 'copied the whole history' : result.rewritten ? 'rewrote' : 'pushed'} ${event.ref} at ${sha}`;
  }
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}
