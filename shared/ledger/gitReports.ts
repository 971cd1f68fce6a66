import type { Doc, DocStore } from './docStore.js';
import { docId } from './docStore.js';
import { expireAtFrom } from './expiry.js';

/**
 * What the gitStatus stage keeps to report each stage transition to the git host once and never
 * backwards (`functions/gitStatus/reporter.ts`), in a collection of its own, `git-reports/`:
 * - once-only claims (`git-status:<runId>:<context>:<state>`, `git-deployment:…`): taken before
 *   an API call, given back when the call failed transiently so the bus's retry can send it;
 * - small records updated atomically (`git-report:…`): per (run, context) the highest rank sent
 *   and the send in flight, a deployment's id, each environment's current deployment.
 *
 * Apart from the run's document and from `claims/`, so that a git host's pace never contends with
 * the run's own writes. Its shape is gitStatus's `ReportLedger`.
 *
 * Every document carries `expireAt`, `LEDGER_LIFETIME_DAYS` after its last write (LEDGER_EXPIRY),
 * so the collection does not grow with every run for ever: a run's reports matter while the run
 * goes on and its events may be redelivered, and an environment's current deployment moves its
 * own time on with every deploy. One idle for longer is simply reported afresh.
 */
export class GitReports {
  constructor(private readonly store: DocStore) {}

  /** True for the one caller that takes `key` first (a create-if-absent write). */
  claim(key: string): Promise<boolean> {
    const at = new Date();
    return this.store.create(path(key), { key, claimed: true, at: at.toISOString(), expireAt: expireAtFrom(at) });
  }

  release(key: string): Promise<void> {
    return this.store.delete(path(key));
  }

  /** Atomic read-modify-write of one record; `next` returns `undefined` to leave it, and may run more than once. */
  async update<T extends Record<string, unknown>>(key: string, next: (current: T | undefined) => T | undefined): Promise<{ value: T | undefined; changed: boolean }> {
    const { doc, changed } = await this.store.update<Doc>(path(key), (current) => {
      const value = next(current?.value as T | undefined);
      return value === undefined ? undefined : { key, value, expireAt: expireAtFrom(new Date()) };
    });
    return { value: doc?.value as T | undefined, changed };
  }
}

const path = (key: string) => `git-reports/${docId(key)}`;
