import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import type { DecideDeps } from './decide.js';
import type { DecisionRecord } from '../../shared/ledger/approvals.js';
import { SYSTEM_DECIDER, expireRun, finish, showClosed } from './decide.js';

/** Run ids: requests expired, interrupted decisions finished, and requests closed because their run had ended. */
export type SweepResult = { expired: string[]; repaired: string[]; closed: string[] };

/**
 * Expires every open approval request past its `expiresAt` (the run is marked expired and
 * `approval-decided` says `expired`, once), finishes decisions whose request still shows open
 * (the process stopped between recording a decision and showing it), and closes requests whose
 * run ended without a decision (`baton cancel`, a failure): their buttons go, and the sweep
 * stops reading them. Requests also expire lazily when someone tries to decide after
 * `expiresAt`, so this sweep only has to run now and then: the `approvalExpiry` stage runs it
 * every minute (Cloud Scheduler deployed, a timer in the embedded stack), and `baton expire` on
 * demand.
 */
export async function expireStale(deps: DecideDeps): Promise<SweepResult> {
  const result: SweepResult = { expired: [], repaired: [], closed: [] };
  const now = deps.now().getTime();
  for (const open of await deps.ledger.approvals.listWaiting()) {
    try {
      const run = await deps.ledger.getRun(open.runId);
      const environment = open.environment ?? IMPLICIT_ENVIRONMENT;
      const decided = run?.decisions?.[environment];
      if (run && decided) {
        await finish(run, open, decided, deps);
        result.repaired.push(open.runId);
      } else if (run && run.status !== 'running') {
        // The run ended first: the request is closed, and shown so, by the one sweep that closes it.
        const decision: DecisionRecord = {
          runId: open.runId,
          ...(open.environment ? { environment: open.environment } : {}),
          decision: run.status === 'canceled' ? 'canceled' : 'run-ended',
          decidedBy: SYSTEM_DECIDER,
          decidedAt: deps.now().toISOString(),
          ...(run.reason ? { reason: run.reason } : {}),
        };
        const { record: closed, changed } = await deps.ledger.approvals.markDecided(decision);
        if (changed) {
          await showClosed(closed ?? open, run, decision, deps);
          result.closed.push(open.runId);
        }
      } else if (Date.parse(open.expiresAt) <= now && (await expireRun(open.runId, deps, environment)) === 'expired') {
        result.expired.push(open.runId);
      }
    } catch (error) {
      deps.log.warn('failed to expire an approval request; the next sweep retries', { runId: open.runId, error });
    }
  }
  if (result.expired.length || result.repaired.length || result.closed.length) deps.log.info('expiry sweep closed approval requests', { stage: 'approval', ...result });
  return result;
}
