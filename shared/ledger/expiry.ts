import type { DocExpiry } from './docStore.js';

/** How long a document of an expiring collection outlives its last write. */
export const LEDGER_LIFETIME_DAYS = 30;

/**
 * What the ledger lets go of by itself: documents that matter only while their run goes on and
 * its events may still be redelivered (Pub/Sub keeps a message at most 31 days, and the stage
 * runner skips an ended run's events before any handler reads a claim). Each carries `expireAt`,
 * `LEDGER_LIFETIME_DAYS` after its last write.
 * - `git-reports/`: gitStatus's claims and records (see GitReports);
 * - `claims/`: the stages' once-only claims (build starts, chart commits, Slack messages sent,
 *   webhooks redelivered by the sweep).
 * Runs, approvals, builds and the deployed pointers stay: they are the history people read and
 * what a rollback goes back to.
 * Firestore deletes them through a TTL policy per entry (Terraform, from stages.json); the SQLite
 * ledger when it opens its file.
 */
export const LEDGER_EXPIRY: readonly DocExpiry[] = [
  { collection: 'git-reports', field: 'expireAt' },
  { collection: 'claims', field: 'expireAt' },
];

/** The `expireAt` of a document last written at `at`. */
export const expireAtFrom = (at: Date): string => new Date(at.getTime() + LEDGER_LIFETIME_DAYS * 86_400_000).toISOString();
