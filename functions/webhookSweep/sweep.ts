/**
 * The missed-webhook sweep: neither GitHub nor GitLab redelivers a failed webhook by itself, so
 * an intake outage (or a 5xx from it) would silently lose pushes. On a schedule (Cloud
 * Scheduler deployed, a timer in `baton dev`) the sweep lists each configured hook's recent
 * deliveries and asks the host to redeliver every failed one, once:
 *
 * - a delivery failed when its status code is outside 200–399 (GitHub's own classification of
 *   the `status` filter), which includes 0 for a timeout or a refused connection;
 * - deliveries are grouped by `guid` (GitHub's `X-GitHub-Delivery`, kept on redelivery; GitLab's
 *   `X-Gitlab-Event-UUID`): a guid with any successful delivery, the original or a redelivery,
 *   is done;
 * - a failed guid that intake already holds (it accepted the push but the answer was lost, for
 *   example a timeout after the 202) is skipped: `isKnownDelivery`;
 * - every other failed guid is redelivered once, claimed by `webhook-redeliver:<guid>` before
 *   the call; a transient failure gives the claim back so the next sweep tries again, a
 *   permanent one (GitHub refuses deliveries older than its retention) keeps it.
 *
 * Listing goes newest first and stops at the lookback (default 24 h) or after `maxPages`.
 * The sweep never throws for one hook's trouble: it logs, counts it in `errors`, and goes on.
 */
export type HookDelivery = {
  id: number;
  guid: string;
  /** ISO-8601; absent when the host does not say (GitLab's events carry no time). */
  deliveredAt?: string;
  redelivery: boolean;
  /** HTTP status of intake's answer; 0 when there was none (timeout, connection refused). */
  statusCode: number;
  event: string;
};

export interface HooksApi {
  /** One page of a hook's deliveries, newest first, and the cursor of the next page if any. */
  listDeliveries(repository: string, hookId: number, cursor?: string): Promise<{ deliveries: HookDelivery[]; next?: string }>;
  /** Asks the host to deliver `deliveryId` again. */
  redeliver(repository: string, hookId: number, deliveryId: number): Promise<void>;
}

/** Thrown by a `HooksApi` for an answer that retrying will not change (404, 422, …). */
export class PermanentHookError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PermanentHookError';
  }
}

export type SweepDeps = {
  /** The host's hooks API (`githubHooksApi` or `gitlabHooksApi`). */
  github: HooksApi;
  /** The webhooks to sweep: from the pipeline config (the hook id of each repository). */
  hooks: ReadonlyArray<{ repository: string; hookId: number }>;
  /** True when intake already holds the delivery (the lead maps guid → run through the ledger). */
  isKnownDelivery: (guid: string) => Promise<boolean>;
  /** `RunLedger.claim` / `releaseClaim`. */
  claims: { claim(key: string): Promise<boolean>; release(key: string): Promise<void> };
  log: { info(message: string, fields?: Record<string, unknown>): void; warn(message: string, fields?: Record<string, unknown>): void };
  now: () => number;
  /** How far back to look. Default 24 h; GitHub keeps deliveries 3 days, GitLab 7. */
  lookbackHours?: number;
  /** Page limit per hook. Default 10 (1,000 deliveries on GitHub at 100 a page). */
  maxPages?: number;
  /** Events worth redelivering. Default `push` (GitLab: `Push Hook`): intake ignores the others. */
  events?: readonly string[];
};

export type SweepSummary = {
  /** Deliveries listed within the lookback. */
  listed: number;
  /** Distinct guids whose every delivery failed. */
  failed: number;
  /** Guids redelivered by this sweep. */
  redelivered: string[];
  /** Failed guids left alone: intake holds them, or an earlier sweep redelivered them. */
  skipped: number;
  /** One line per hook or redelivery that failed (retried by the next sweep when transient). */
  errors: string[];
};

const ok = (code: number) => code >= 200 && code <= 399;

export async function sweepWebhooks(deps: SweepDeps): Promise<SweepSummary> {
  const summary: SweepSummary = { listed: 0, failed: 0, redelivered: [], skipped: 0, errors: [] };
  const since = deps.now() - (deps.lookbackHours ?? 24) * 3600_000;
  const events = new Set(deps.events ?? ['push', 'Push Hook']);
  for (const hook of deps.hooks) {
    let deliveries: HookDelivery[];
    try {
      deliveries = await listRecent(deps, hook, since);
    } catch (error) {
      summary.errors.push(`failed to list deliveries of ${hook.repository} hook ${hook.hookId}: ${message(error)}`);
      deps.log.warn('failed to list webhook deliveries', { repository: hook.repository, hookId: hook.hookId, error: message(error) });
      continue;
    }
    summary.listed += deliveries.length;

    const byGuid = new Map<string, HookDelivery[]>();
    for (const delivery of deliveries) byGuid.set(delivery.guid, [...(byGuid.get(delivery.guid) ?? []), delivery]);
    for (const [guid, attempts] of byGuid) {
      if (attempts.some((attempt) => ok(attempt.statusCode))) continue;
      if (!attempts.some((attempt) => events.has(attempt.event))) continue;
      summary.failed++;
      if (await deps.isKnownDelivery(guid)) {
        summary.skipped++;
        continue;
      }
      const key = `webhook-redeliver:${guid}`;
      if (!(await deps.claims.claim(key))) {
        summary.skipped++;
        continue;
      }
      // The original delivery when listed, else the newest attempt.
      const target = attempts.find((attempt) => !attempt.redelivery) ?? attempts[0]!;
      try {
        await deps.github.redeliver(hook.repository, hook.hookId, target.id);
        summary.redelivered.push(guid);
        deps.log.info('asked the git host to redeliver a failed webhook', { repository: hook.repository, hookId: hook.hookId, guid, deliveryId: target.id, statusCode: target.statusCode });
      } catch (error) {
        const permanent = error instanceof PermanentHookError;
        if (!permanent) await deps.claims.release(key);
        summary.errors.push(`failed to redeliver ${guid} on ${hook.repository}: ${message(error)}`);
        deps.log.warn('failed to redeliver a webhook', { repository: hook.repository, hookId: hook.hookId, guid, retried: !permanent, error: message(error) });
      }
    }
  }
  return summary;
}

async function listRecent(deps: SweepDeps, hook: { repository: string; hookId: number }, since: number): Promise<HookDelivery[]> {
  const out: HookDelivery[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < (deps.maxPages ?? 10); page++) {
    const { deliveries, next } = await deps.github.listDeliveries(hook.repository, hook.hookId, cursor);
    let pastLookback = false;
    for (const delivery of deliveries) {
      if (delivery.deliveredAt && Date.parse(delivery.deliveredAt) < since) {
        pastLookback = true;
        continue;
      }
      out.push(delivery);
    }
    if (pastLookback || !next || deliveries.length === 0) break;
    cursor = next;
  }
  return out;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
