import { verifyWithFallback } from '@octokit/webhooks-methods';
import { z } from 'zod';
import { ZERO_SHA } from '../../shared/contracts/index.js';
import { PayloadError } from './receiver.js';
import type { NormalizedPush, Verification, WebhookReceiver } from './receiver.js';

const Sha = z.string().regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/);
const GitHubCommit = z.object({
  id: Sha,
  message: z.string(),
  timestamp: z.string().optional(),
  url: z.string().optional(),
  author: z.object({ name: z.string(), email: z.string().nullish(), username: z.string().nullish() }),
  added: z.array(z.string()).default([]),
  modified: z.array(z.string()).default([]),
  removed: z.array(z.string()).default([]),
});

/** The fields of GitHub's `push` payload that baton reads (docs: webhook-events-and-payloads#push). */
const GitHubPush = z.object({
  ref: z.string(),
  before: Sha,
  after: Sha,
  created: z.boolean(),
  deleted: z.boolean(),
  forced: z.boolean(),
  compare: z.string().optional(),
  repository: z.object({ full_name: z.string(), clone_url: z.string(), html_url: z.string().optional() }),
  pusher: z.object({ name: z.string(), email: z.string().nullish() }),
  commits: z.array(GitHubCommit),
});

/** GitHub lists at most 20 commits in a push payload. */
const GITHUB_COMMIT_LIMIT = 20;

const optional = (value: string | null | undefined) => value ?? undefined;

/**
 * GitHub: `X-Hub-Signature-256` is an HMAC-SHA256 of the raw body. `GITHUB_WEBHOOK_SECRET`
 * may list several secrets, comma-separated, so a secret can be rotated without dropping
 * deliveries signed with the old one.
 */
export function githubReceiver(secrets: string | undefined): WebhookReceiver {
  const [primary, ...fallbacks] = (secrets ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    provider: 'github',
    matches: (headers) => headers['x-github-event'] !== undefined,
    async verify(headers, rawBody): Promise<Verification> {
      const signature = headers['x-hub-signature-256'];
      if (!signature) return 'missing';
      if (!primary) return 'unconfigured';
      try {
        return (await verifyWithFallback(primary, rawBody.toString('utf8'), signature, fallbacks)) ? 'ok' : 'bad';
      } catch {
        // The library throws on malformed input (e.g. a signature of the wrong length).
        return 'bad';
      }
    },
    deliveryId: (headers) => headers['x-github-delivery'],
    eventKind(headers) {
      const name = headers['x-github-event'] ?? '';
      return { kind: name === 'push' ? 'push' : name === 'ping' ? 'ping' : 'other', name };
    },
    parsePush(payload): NormalizedPush {
      const parsed = GitHubPush.safeParse(payload);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new PayloadError(`not a GitHub push payload: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      }
      const push = parsed.data;
      return {
        repository: push.repository.full_name,
        cloneUrl: push.repository.clone_url,
        webUrl: push.repository.html_url,
        ref: push.ref,
        before: push.before,
        after: push.after,
        forced: push.forced,
        created: push.created || push.before === ZERO_SHA,
        deleted: push.deleted || push.after === ZERO_SHA,
        pusher: { name: push.pusher.name, email: optional(push.pusher.email), username: push.pusher.name },
        commits: push.commits.map((commit) => ({
          id: commit.id,
          message: commit.message,
          timestamp: commit.timestamp,
          url: commit.url,
          author: { name: commit.author.name, email: optional(commit.author.email), username: optional(commit.author.username) },
          added: commit.added,
          modified: commit.modified,
          removed: commit.removed,
        })),
        truncated: push.commits.length >= GITHUB_COMMIT_LIMIT,
        compareUrl: push.compare,
      };
    },
  };
}
