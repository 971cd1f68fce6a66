import type { BuildRecord } from '../../shared/ledger/builds.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import { abandonedStart } from '../../shared/ledger/startClaim.js';
import type { ClaimOwner } from '../../shared/ledger/startClaim.js';
import type { Logger } from '../../shared/log/logger.js';
import type { BuildHandle, BuildRequest, Builder } from '../../shared/runtime/builders/builder.js';
import { imageName } from '../../shared/runtime/builders/builder.js';
import { planLocation } from '../../shared/runtime/builders/cloudBuildRequest.js';
import { crashPoint } from '../../shared/stage/crashPoint.js';

/** A start claim without a build id older than this is from a delivery that died mid-start (createBuild answers in seconds). */
const ABANDONED_START_MS = 60_000;

export type StartClaim = { key: string; service: string; startingAt: string; by?: string; buildId?: string; logUrl?: string; image?: string };
export type StartedBuild = StartClaim & { buildId: string };

/** `instanceId` is this process; with `singleProcess`, a start claimed by another process is known to be dead (the embedded runtime). */
export type StartDeps = ClaimOwner & {
  ledger: RunLedger;
  now?: () => Date;
};

/**
 * Starts a build unless one was started already, and returns its id. A claim per (run, service,
 * kind) holds the build id, so a redelivered message finds the build instead of starting a
 * second. A claim without an id is a start that did not finish recording: the builder is asked
 * for a build with the run's correlation first (the starter may have died just after starting
 * it), and only when there is none is the claim taken over. The `builds/<buildId>` record written
 * here is how `buildStatus` knows the build is baton's. Used for image builds and Terraform plans
 * (buildTrigger) and for approved Terraform applies (terraformApply).
 */
export async function startBuildOnce(request: BuildRequest, builder: Builder, deps: StartDeps, log: Logger): Promise<StartedBuild> {
  const key = claimKeys.buildStart(request.runId, request.service, request.what.kind);
  const now = deps.now ?? (() => new Date());
  const image = request.what.kind === 'image' ? imageName(request.what) : planLocation(request.what.planBucket, request.runId);
  const existing = await deps.ledger.getClaim<StartClaim>(key);
  if (existing?.buildId) return existing as StartedBuild;
  if (existing) {
    const found = await builder.find(request);
    if (found) {
      log.warn('found the build a previous delivery started but did not record', { service: request.service, buildId: found.buildId });
      return record(request, found, key, image, deps, now);
    }
    if (!abandonedStart(existing, now(), ABANDONED_START_MS, deps)) throw new Error(`failed to start the build of ${request.service}: another delivery is starting it`);
    log.warn('took over a build start that a previous delivery abandoned', { service: request.service });
    await deps.ledger.releaseClaim(key);
  }
  if (!(await deps.ledger.claim(key, { service: request.service, startingAt: now().toISOString(), image, ...(deps.instanceId ? { by: deps.instanceId } : {}) }))) {
    const winner = await deps.ledger.getClaim<StartClaim>(key);
    if (winner?.buildId) return winner as StartedBuild;
    // Another delivery is starting this build right now: retry later and find its id.
    throw new Error(`failed to start the build of ${request.service}: another delivery is starting it`);
  }
  let handle;
  try {
    handle = await builder.start(request);
  } catch (error) {
    await deps.ledger.releaseClaim(key).catch(() => undefined);
    throw error;
  }
  crashPoint('build:after-start');
  return record(request, handle, key, image, deps, now);
}

async function record(request: BuildRequest, handle: BuildHandle, key: string, image: string, deps: StartDeps, now: () => Date): Promise<StartedBuild> {
  const build: BuildRecord = {
    buildId: handle.buildId,
    runId: request.runId,
    pipeline: request.pipeline,
    service: request.service,
    sha: request.sha,
    kind: request.what.kind,
    ...(request.what.kind === 'image' ? { repository: request.what.repository, tag: request.what.tag } : {}),
    ...(handle.logUrl ? { logUrl: handle.logUrl } : {}),
    startedAt: now().toISOString(),
  };
  await deps.ledger.builds.put(build);
  const claim: StartClaim = { key, service: request.service, startingAt: now().toISOString(), image, buildId: handle.buildId, ...(handle.logUrl ? { logUrl: handle.logUrl } : {}) };
  await deps.ledger.extendClaim(key, claim);
  return { ...claim, buildId: handle.buildId };
}
