import { docId } from '../../shared/ledger/docStore.js';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import type { DeployFinished } from '../../shared/contracts/index.js';

/**
 * Each pipeline's deploy health, kept for the DORA time-to-restore: when a deploy fails the
 * first failure's time is kept; the next good deploy reports the seconds since then and clears
 * it. One atomic update, so racing deploys of one pipeline agree.
 */
type Health = { failingSince?: string; lastStatus: string; updatedAt: string };

const FAILURES: ReadonlySet<DeployFinished['status']> = new Set(['degraded', 'timeout', 'failed']);

/** Records the outcome; returns `restoreSeconds` on the first good deploy after a failed one. */
export async function recordDeployHealth(ledger: RunLedger, pipeline: string, status: DeployFinished['status'], now: Date): Promise<number | undefined> {
  if (status === 'skipped') return undefined;
  let restoreSeconds: number | undefined;
  await ledger.store.update<Health>(`deployHealth/${docId(pipeline)}`, (current) => {
    restoreSeconds = undefined;
    const at = now.toISOString();
    if (FAILURES.has(status)) return { failingSince: current?.failingSince ?? at, lastStatus: status, updatedAt: at };
    if (current?.failingSince) restoreSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(current.failingSince)) / 1000));
    return { lastStatus: status, updatedAt: at };
  });
  return restoreSeconds;
}
