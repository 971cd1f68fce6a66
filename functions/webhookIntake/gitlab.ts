import { timingSafeEqual, createHash } from 'node:crypto';
import { z } from 'zod';
import { ZERO_SHA } from '../../shared/contracts/index.js';
import { PayloadError } from './receiver.js';
import type { NormalizedPush, Verification, WebhookReceiver } from './receiver.js';
import { gitlabDeliveryId } from '../../shared/git/gitlabDelivery.js';

const Sha = z.string().regex(/^[0-9a-f]{40}$|^[0-9a-f]{64}$/);
const GitLabCommit = z.object({
  id: Sha,
  message: z.string(),
  timestamp: z.string().optional(),
  url: z.string().optional(),
  author: z.object({ name: z.string(), email: z.string().nullish() }),
  added: z.array(z.string()).nullish(),
  modified: z.array(z.string()).nullish(),
  removed: z.array(z.string()).nullish(),
});

/** The fields of GitLab's Push Hook payload that baton reads (docs: webhook_events#push-events). */
const GitLabPush = z.object({
  object_kind: z.literal('push'),
  before: Sha,
  after: Sha,
  ref: z.string(),
  user_name: z.string(),
  user_username: z.string().nullish(),
  user_email: z.string().nullish(),
  project: z.object({ path_with_namespace: z.string(), git_http_url: z.string(), web_url: z.string().optional() }),
  commits: z.array(GitLabCommit),
  total_commits_count: z.number().int().nonnegative(),
});

/** Constant-time comparison of a shared token; hashing first makes the lengths equal. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * GitLab: `X-Gitlab-Token` is the plain shared token, compared in constant time. GitLab sends
 * no `forced` or `deleted`: a deletion has `after` all zeros and a new branch `before` all
 * zeros. GitLab does not flag force pushes; the one the payload shows (the ref moved with no
 * new commits) is marked forced here, and the mirror stage checks ancestry in git for the rest.
 */
export function gitlabReceiver(token: string | undefined): WebhookReceiver {
  return {
    provider: 'gitlab',
    matches: (headers) => headers['x-gitlab-event'] !== undefined,
    async verify(headers): Promise<Verification> {
      const given = headers['x-gitlab-token'];
      if (!given) return 'missing';
      if (!token) return 'unconfigured';
      return sameToken(given, token) ? 'ok' : 'bad';
    },
    deliveryId: (headers) => gitlabDeliveryId((name) => headers[name]),
    eventKind(headers) {
      const name = headers['x-gitlab-event'] ?? '';
      return { kind: name === 'Push Hook' ? 'push' : 'other', name };
    },
    parsePush(payload): NormalizedPush {
      const parsed = GitLabPush.safeParse(payload);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new PayloadError(`not a GitLab push payload: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      }
      const push = parsed.data;
      const created = push.before === ZERO_SHA;
      const deleted = push.after === ZERO_SHA;
      const webUrl = push.project.web_url;
      return {
        repository: push.project.path_with_namespace,
        cloneUrl: push.project.git_http_url,
        webUrl,
        ref: push.ref,
        before: push.before,
        after: push.after,
        // GitLab lists the newest commits; an empty list on a non-deleting push means the
        // ref moved to commits it already had (e.g. a reset), which is a history rewrite.
        forced: !created && !deleted && push.total_commits_count === 0,
        created,
        deleted,
        pusher: { name: push.user_name, email: push.user_email ?? undefined, username: push.user_username ?? undefined },
        commits: push.commits.map((commit) => ({
          id: commit.id,
          message: commit.message,
          timestamp: commit.timestamp,
          url: commit.url,
          author: { name: commit.author.name, email: commit.author.email ?? undefined },
          added: commit.added ?? [],
          modified: commit.modified ?? [],
          removed: commit.removed ?? [],
        })),
        truncated: push.total_commits_count > push.commits.length,
        compareUrl: webUrl && !created ? `${webUrl}/-/compare/${push.before}...${push.after}` : undefined,
      };
    },
  };
}
