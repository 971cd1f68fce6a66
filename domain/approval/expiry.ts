import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import type { DecideDeps } from './decide.js';
import { expireRun, finish } from './decide.js';

export type SweepResult = { expired: string[]; repaired: string[] };

/**
 * Expires every open approval request past its `expiresAt` (the run is marked expired and
 * `approval-decided` says `expired`, once), and finishes decisions whose request still shows
 * open (the process stopped between recording a decision and showing it). Requests also expire
 * lazily when someone tries to decide after `expiresAt`, so this sweep only has to run now and
 * then: the `approvalExpiry` stage runs it every minute (Cloud Scheduler deployed, a timer in the
 * embedded stack), and `baton expire` on demand.
 */
export async function expireStale(deps: DecideDeps): Promise<SweepResult> {
  const result: SweepResult = { expired: [], repaired: [] };
  const now = deps.now().getTime();
  for (const open of await deps.ledger.approvals.listWaiting()) {
    try {
      const run = await deps.ledger.getRun(open.runId);
      const environment = open.environment ?? IMPLICIT_ENVIRONMENT;
      const decided = run?.decisions?.[environment];
      if (run && decided) {
        await finish(run, open, decided, deps);
        result.repaired.push(open.runId);
      } else if (Date.parse(open.expiresAt) <= now && (await expireRun(open.runId, deps, environment)) === 'expired') {
        result.expired.push(open.runId);
      }
    } catch (error) {
      deps.log.warn('failed to expire an approval request; the next sweep retries', { runId: open.runId, error });
    }
  }
  if (result.expired.length || result.repaired.length) deps.log.info('expiry sweep closed approval requests', { stage: 'approval', ...result });
  return result;
}
