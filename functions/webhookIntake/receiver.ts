import type { Person, PushedCommit } from '../../shared/contracts/index.js';

/** What one git host's webhook boils down to, whichever host sent it. */
export type NormalizedPush = {
  repository: string;
  cloneUrl: string;
  /** Web URL of the repository, for compare links. */
  webUrl?: string;
  ref: string;
  before: string;
  after: string;
  forced: boolean;
  created: boolean;
  deleted: boolean;
  pusher: Person;
  commits: PushedCommit[];
  /** True when the host left commits out of the payload (both cap the list at 20). */
  truncated: boolean;
  compareUrl?: string;
};

export type Verification = 'ok' | 'missing' | 'bad' | 'unconfigured';

/** The event a verified request carries. */
export type EventKind = 'push' | 'ping' | 'other';

/**
 * One git host's webhook format (Kargo's `WebhookReceiver`): recognise the request, verify it
 * against the raw body, name its delivery id and event, and normalise a push payload.
 */
export interface WebhookReceiver {
  readonly provider: 'github' | 'gitlab';
  /** Headers that mark a request as this host's (lower-case). */
  matches(headers: Record<string, string | undefined>): boolean;
  verify(headers: Record<string, string | undefined>, rawBody: Buffer): Promise<Verification>;
  deliveryId(headers: Record<string, string | undefined>): string | undefined;
  eventKind(headers: Record<string, string | undefined>): { kind: EventKind; name: string };
  /** Throws a `PayloadError` when the payload is not a push this host would send. */
  parsePush(payload: unknown): NormalizedPush;
}

export class PayloadError extends Error {}

export function uniquePaths(commits: PushedCommit[]): string[] {
  const paths = new Set<string>();
  for (const commit of commits) for (const path of [...commit.added, ...commit.modified, ...commit.removed]) paths.add(path);
  return [...paths];
}
