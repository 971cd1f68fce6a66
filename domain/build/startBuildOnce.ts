import { docId } from '../../shared/ledger/docStore.js';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import type { BuildRequest, Builder } from './builder.js';
import { imageName } from './builder.js';
import { buildDocPath, startClaimKey } from './buildRecord.js';
import type { BuildRecord } from './buildRecord.js';
import { planLocation } from './cloudBuildRequest.js';

/** A start claim without a build id older than this is from a delivery that died mid-start. */
const ABANDONED_START_MS = 5 * 60_000;

export type StartClaim = { key: string; service: string; startingAt: string; buildId?: string; logUrl?: string; image?: string };
export type StartedBuild = StartClaim & { buildId: string };

/**
 * Starts a build unless a delivery already did, and returns its id: a claim per (run, service,
 * kind) holds the build id, so a redelivered message finds the build instead of starting a second;
 * a claim left by a delivery that died mid-start is taken over. The `builds/<buildId>` record
 * written here is how `buildStatus` knows the build is baton's. Used for image builds and
 * Terraform plans (buildTrigger) and for approved Terraform applies (chartBump).
 */
export async function startBuildOnce(request: BuildRequest, builder: Builder, deps: { ledger: RunLedger; now?: () => Date }, log: Logger): Promise<StartedBuild> {
  const key = startClaimKey(request.runId, request.service, request.what.kind);
  const now = deps.now ?? (() => new Date());
  const existing = await deps.ledger.getClaim<StartClaim>(key);
  if (existing?.buildId) return existing as StartedBuild;
  if (existing && now().getTime() - Date.parse(existing.startingAt) > ABANDONED_START_MS) {
    log.warn('took over a build start that a previous delivery abandoned', { service: request.service });
    await deps.ledger.releaseClaim(key);
  }
  const image = request.what.kind === 'image' ? imageName(request.what) : planLocation(request.what.planBucket, request.runId);
  if (!(await deps.ledger.claim(key, { service: request.service, startingAt: now().toISOString(), image }))) {
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
  const record: BuildRecord = {
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
  await deps.ledger.store.set(buildDocPath(handle.buildId), record);
  const claim: StartClaim = { key, service: request.service, startingAt: now().toISOString(), image, buildId: handle.buildId, ...(handle.logUrl ? { logUrl: handle.logUrl } : {}) };
  await deps.ledger.store.update(`claims/${docId(key)}`, (current) => ({ ...current, ...claim }));
  return { ...claim, buildId: handle.buildId };
}
