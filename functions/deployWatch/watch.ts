import semver from 'semver';
import type { ApplicationStatus, ArgoCdClient } from './argocdClient.js';
import { ArgoCdApiError } from './argocdClient.js';
import { describeLiveImages, liveImagesMatch } from '../../domain/verify/liveImages.js';
import type { LiveImagesMatch } from '../../domain/verify/liveImages.js';
import { chartTag } from '../../domain/chart/ociPublish.js';
import type { ChartPublished, DeployFinished } from '../../shared/contracts/index.js';

/**
 * Waiting for Argo CD: refresh the Application at once, then read its status until it is
 * Synced and Healthy at the published chart (or a newer one), Degraded there, or the deadline
 * passes. Transient API errors are retried a few times; auth and not-found errors end the
 * watch at once.
 */
export type Verdict = Pick<DeployFinished, 'status' | 'revision' | 'reason'>;

export type WatchOptions = {
  application: string;
  /** service → digest the live Pods must run before the deploy counts (empty: Synced and Healthy is enough). */
  expectedImages?: Readonly<Record<string, string>>;
  timeoutMs: number;
  pollIntervalMs: number;
  /** Consecutive failed API calls before giving up. */
  maxApiFailures?: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /**
   * Whether a newer release of the environment has taken over. Asked only while the live Pods do
   * not run this release: then they may be running the newer one, and waiting on is pointless.
   */
  superseded?: () => Promise<boolean>;
};

/** The Application's revisions that show the published chart: its version, OCI tag or manifest digest, or newer. */
export function atPublishedRevision(status: ApplicationStatus, event: Pick<ChartPublished, 'chartVersion' | 'manifestDigest'>): string | undefined {
  const candidates = [status.revision, ...(status.revisions ?? []), status.operationRevision].filter((value): value is string => Boolean(value));
  return candidates.find(
    (revision) =>
      revision === event.chartVersion ||
      revision === chartTag(event.chartVersion) ||
      revision === event.manifestDigest ||
      // A newer chart already includes this one's images (an older one never lands after it).
      (semver.valid(revision) !== null && semver.valid(event.chartVersion) !== null && semver.gt(revision, event.chartVersion)),
  );
}

function verdictOf(status: ApplicationStatus, event: ChartPublished): Verdict | undefined {
  const revision = atPublishedRevision(status, event);
  if (!revision) return undefined;
  if (status.sync === 'Synced' && status.health === 'Healthy') return { status: 'synced', revision };
  if (status.health === 'Degraded') return { status: 'degraded', revision, reason: `Argo CD reports Degraded${status.message ? `: ${status.message}` : ''}` };
  if (status.operationPhase === 'Failed' || status.operationPhase === 'Error') {
    return { status: 'degraded', revision, reason: `the sync operation ended ${status.operationPhase}${status.message ? `: ${status.message}` : ''}` };
  }
  return undefined;
}

function describe(status: ApplicationStatus | undefined): string {
  return status ? `${status.sync}/${status.health} at ${status.revision ?? 'no revision'}` : 'no status read';
}

export async function watchApplication(client: ArgoCdClient, event: ChartPublished, options: WatchOptions): Promise<Verdict> {
  const deadline = options.now() + options.timeoutMs;
  const maxFailures = options.maxApiFailures ?? 3;
  let failures = 0;
  let last: ApplicationStatus | undefined;
  let read = () => client.refresh(options.application);
  let live: LiveImagesMatch | undefined;
  const expected = options.expectedImages ?? {};
  for (;;) {
    try {
      last = await read();
      read = () => client.status(options.application);
      failures = 0;
      const verdict = verdictOf(last, event);
      // "Synced" only says the manifests were applied: the live Pods must run the release's
      // digests too (argocd-image-updater #964: "updated" with nothing deployed).
      if (verdict?.status === 'synced' && Object.keys(expected).length) {
        live = liveImagesMatch(await client.resourceTree(options.application), expected);
        if (live.ok) return verdict;
        if (await options.superseded?.()) return { status: 'superseded', revision: verdict.revision, reason: `a newer release of the environment took over before ${event.chartVersion} was running: ${describeLiveImages(live)}` };
      } else if (verdict) return verdict;
    } catch (error) {
      failures++;
      const permanent = error instanceof ArgoCdApiError && error.permanent;
      if (permanent || failures >= maxFailures) return { status: 'failed', reason: (error as Error).message };
    }
    if (options.now() >= deadline) {
      if (live && !live.ok) return { status: 'timeout', reason: `Synced and Healthy at ${event.chartVersion}, but the live pods do not run the release after ${Math.round(options.timeoutMs / 1000)} s: ${describeLiveImages(live)}` };
      return { status: 'timeout', reason: `not Synced and Healthy at ${event.chartVersion} after ${Math.round(options.timeoutMs / 1000)} s (last: ${describe(last)})` };
    }
    await options.sleep(Math.min(options.pollIntervalMs, Math.max(0, deadline - options.now())));
  }
}
