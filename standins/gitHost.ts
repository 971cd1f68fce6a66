import { createHmac, randomUUID } from 'node:crypto';

/**
 * What a git host sends, for the demo and the tests: signed GitHub push webhooks built from
 * real commits. (Only the transport is imitated; the payload follows GitHub's documented push
 * event, and intake verifies it exactly as it verifies GitHub's own.)
 */
export type GithubCommitInput = {
  id: string;
  message: string;
  author: { name: string; email: string; username?: string };
  timestamp?: string;
  added?: string[];
  modified?: string[];
  removed?: string[];
};

export type GithubPushInput = {
  repository: string;
  cloneUrl: string;
  ref: string;
  before: string;
  after: string;
  commits: GithubCommitInput[];
  pusher?: { name: string; email?: string };
  forced?: boolean;
  created?: boolean;
  deleted?: boolean;
};

export function githubPushPayload(input: GithubPushInput): Record<string, unknown> {
  const web = `https://github.com/${input.repository}`;
  const commits = input.commits.map((commit) => ({
    id: commit.id,
    tree_id: commit.id,
    distinct: true,
    message: commit.message,
    timestamp: commit.timestamp ?? new Date().toISOString(),
    url: `${web}/commit/${commit.id}`,
    author: commit.author,
    committer: commit.author,
    added: commit.added ?? [],
    removed: commit.removed ?? [],
    modified: commit.modified ?? [],
  }));
  return {
    ref: input.ref,
    before: input.before,
    after: input.after,
    repository: { name: input.repository.split('/').pop(), full_name: input.repository, html_url: web, clone_url: input.cloneUrl, default_branch: 'main' },
    pusher: input.pusher ?? { name: input.commits.at(-1)?.author.username ?? 'developer', email: input.commits.at(-1)?.author.email },
    created: input.created ?? false,
    deleted: input.deleted ?? false,
    forced: input.forced ?? false,
    base_ref: null,
    compare: `${web}/compare/${input.before.slice(0, 12)}...${input.after.slice(0, 12)}`,
    commits,
    head_commit: commits.at(-1) ?? null,
  };
}

/** `X-Hub-Signature-256` for a body, as GitHub computes it. */
export function githubSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Headers of a GitHub webhook delivery. */
export function githubHeaders(secret: string, body: Buffer | string, event = 'push', deliveryId: string = randomUUID()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/baton-demo',
    'x-github-event': event,
    'x-github-delivery': deliveryId,
    'x-hub-signature-256': githubSignature(secret, body),
  };
}
