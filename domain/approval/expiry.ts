import { ApprovalStore } from './approvalStore.js';
import type { DecideDeps } from './decide.js';
import { decisionClaimKey, expireRun, republishStuck } from './decide.js';

/** A decision claimed this long ago but never published is treated as its holder having crashed. */
export const STUCK_DECISION_MS = 60_000;

export type SweepResult = { expired: string[]; repaired: string[] };

/**
 * Expires every open approval request past its `expiresAt` (marking the run expired and
 * publishing `approval-decided` with decision `expired`, once), and finishes decisions whose
 * holder stopped between claim and publish. Requests also expire lazily when someone tries to
 * decide after `expiresAt`, so this sweep only has to run now and then: the embedded stack runs
 * it on a timer, `approvalRequest` opportunistically, and deployed a Cloud Scheduler job or
 * Jenkins runs `baton expire`.
 */
export async function expireStale(deps: DecideDeps): Promise<SweepResult> {
  const result: SweepResult = { expired: [], repaired: [] };
  const now = deps.now().getTime();
  for (const open of await new ApprovalStore(deps.ledger).listOpen()) {
    try {
      if (await deps.ledger.getClaim(decisionClaimKey(open.runId))) {
        if (await republishStuck(open.runId, deps, STUCK_DECISION_MS)) result.repaired.push(open.runId);
      } else if (Date.parse(open.expiresAt) <= now && (await expireRun(open.runId, deps)) === 'expired') {
        result.expired.push(open.runId);
      }
    } catch (error) {
      deps.log.warn('failed to expire an approval request; the next sweep retries', { runId: open.runId, error });
    }
  }
  if (result.expired.length || result.repaired.length) deps.log.info('expiry sweep closed approval requests', { stage: 'approval', ...result });
  return result;
}
