import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { affectedServices, findPipeline, requireKey } from '../../shared/config/pipelineConfig.js';
import type { PushReceived } from '../../shared/contracts/index.js';
import { ZERO_SHA } from '../../shared/contracts/index.js';
import { authModeFor, gitAuthEnv, stripCredentials } from '../../shared/git/gitAuth.js';
import type { GitAuthMode } from '../../shared/git/gitAuth.js';
import { changedPaths, mergeBase } from './mirror.js';
import type { MirrorRequest, MirrorResult } from './mirror.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import { crashPoint } from '../../shared/stage/crashPoint.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';

export type MirrorStageDeps = {
  config: BatonConfig;
  log: Logger;
  /** The mirror operation (`mirrorRef`); injected so the stage can be driven without git. */
  mirror: (request: MirrorRequest) => Promise<MirrorResult>;
  /** The service account's access token for Google-hosted remotes; undefined off Google Cloud. */
  accessToken: () => Promise<string | undefined>;
  /** Where the per-mirror cache repositories live (warm instances reuse them). */
  cacheRoot: string;
  /** Records the stage as running, with what it does. */
  progress: (detail: string) => Promise<void>;
};

/**
 * repoMirror: copies the pushed commit to the backup remote, works out the affected services
 * when intake could not, and says `source-mirrored` with the exact sha.
 *
 * Idempotent: the git work is a no-op when the mirror already holds the commit, and the runner
 * writes `source-mirrored` to the run's outbox once. Transient failures throw (the bus
 * redelivers); permanent ones (a missing config key, a commit the source does not have, a ref
 * git refuses) are PermanentErrors, which fail the stage at once.
 */
export async function handlePushReceived(event: PushReceived, deps: MirrorStageDeps): Promise<Outcome<'source-mirrored'>> {
  const log = deps.log.child({ stage: 'repoMirror', runId: event.runId, pipeline: event.pipeline });
  const pipeline = findPipeline(deps.config, event.pipeline);
  if (!pipeline) throw new PermanentError(`pipeline "${event.pipeline}" is no longer in ${deps.config.file}`);
  const mirrorUrl = requireKey(deps.config, pipeline, 'mirror.url', pipeline.mirror?.url, 'repoMirror');
  const sourceUrl = pipeline.source?.url ?? event.cloneUrl;
  await deps.progress(`mirroring ${event.after.slice(0, 7)} to ${stripCredentials(mirrorUrl)}`);

  crashPoint('mirror:before-push');
  const mirrored = await deps.mirror(await mirrorRequest(deps, pipeline, event, sourceUrl, mirrorUrl));
  crashPoint('mirror:after-push');
  log.info('mirrored the push', { outcome: mirrored.outcome, fullCopy: mirrored.fullCopy, rewritten: mirrored.rewritten, sha: event.after, ref: event.ref });

  // A Terraform run plans its directory whatever the services say; an app run builds services.
  const services = event.kind === 'terraform' || event.servicesResolved ? event.services : await resolveServices(pipeline, event, mirrored, log);
  const setServices = (run: RunRecord) => {
    if (sameList(run.services, services)) return false;
    run.services = services;
    return true;
  };
  const detail = mirrorDetail(event, mirrored);
  if (services.length === 0 && event.kind === 'app') {
    // Nothing to build: the run ends here, its later stages skipped, and nothing is published.
    log.info('no service is affected; the run ends after the mirror');
    return result.succeeded(detail, { update: setServices, skipRest: 'no service is affected by the push' });
  }
  return result.succeeded(detail, {
    update: setServices,
    emit: [
      {
        topic: 'source-mirrored',
        input: {
          runId: event.runId,
          pipeline: event.pipeline,
          kind: event.kind,
          repository: event.repository,
          ref: event.ref,
          sha: event.after,
          before: event.before,
          mirrorUrl: stripCredentials(mirrorUrl),
          services,
          order: event.order,
        },
      },
    ],
  });
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
