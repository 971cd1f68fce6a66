import type { Octokit } from '@octokit/rest';
import { redact } from '../../shared/log/redact.js';
import { PermanentGitHostError, TransientGitHostError } from './types.js';
import type { ReportLog } from './types.js';

/**
 * One Octokit for GitHub (or GitHub Enterprise), the way GitHub asks clients to behave:
 * `@octokit/plugin-throttling` queues writes a second apart and, on a rate limit, waits what the
 * answer says (`retry-after` for a secondary limit, `x-ratelimit-reset` for the primary one)
 * and retries, a bounded number of times; `@octokit/plugin-retry` retries 5xx and network
 * errors with a short backoff. Past those, `hostError` sorts what is left into a permanent or
 * a transient error. The SDKs are imported on first use, not at cold start.
 *
 * Auth: a token (`GITHUB_TOKEN`), or a GitHub App installation (`@octokit/auth-app`, which
 * trades the App's JWT for an installation token at `POST /app/installations/{id}/access_tokens`
 * and renews it before it expires).
 */
export type GitHubAuth = { token: string } | { app: { appId: string | number; privateKey: string; installationId: string | number } };

export type GitHubClientOptions = GitHubAuth & {
  /** `GITHUB_API_URL`; default `https://api.github.com`. GitHub Enterprise: `https://HOST/api/v3`. */
  baseUrl?: string;
  log?: ReportLog;
  /** Retries after a rate limit (primary or secondary). Default 2. */
  rateLimitRetries?: number;
  /**
   * A rate limit that asks for a longer wait than this is not waited for in-process: the call
   * fails transiently and the bus retries later. Default 60 s.
   */
  maxRateLimitWaitSeconds?: number;
  /** plugin-retry's retries for 5xx and network errors. Default 2 (after 1 s, then 4 s). */
  retries?: number;
  /** plugin-retry's base delay (its waits are base × 1, × 4, × 9, …). Default 1000 ms. */
  retryBaseMs?: number;
  /** GitHub asks for a second between content-creating requests. Default 1000 ms. */
  writeIntervalMs?: number;
};

/** Every status the throttling plugin owns (rate limits) plus the 4xx that never heal. */
const DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 422, 429, 451];

export async function createGitHubClient(options: GitHubClientOptions): Promise<Octokit> {
  const [{ Octokit: RestOctokit }, { throttling }, { retry }, { default: Bottleneck }] = await Promise.all([
    import('@octokit/rest'),
    import('@octokit/plugin-throttling'),
    import('@octokit/plugin-retry'),
    import('bottleneck'),
  ]);
  const log = options.log;
  const rateLimitRetries = options.rateLimitRetries ?? 2;
  const maxWait = options.maxRateLimitWaitSeconds ?? 60;
  const onLimit = (kind: string) => (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    const retrying = retryCount < rateLimitRetries && retryAfter <= maxWait;
    log?.warn(`GitHub ${kind} rate limit`, { method: request.method, url: request.url, retryAfterSeconds: retryAfter, retryCount, retrying });
    return retrying;
  };
  const Client = RestOctokit.plugin(throttling, retry);
  const auth =
    'token' in options
      ? { auth: options.token }
      : { authStrategy: (await import('@octokit/auth-app')).createAppAuth, auth: { appId: options.app.appId, privateKey: options.app.privateKey, installationId: options.app.installationId } };
  return new Client({
    ...auth,
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, '') } : {}),
    userAgent: 'baton',
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => log?.warn(redact(message)),
      error: (message: string) => log?.error(redact(message)),
    },
    retry: { retries: options.retries ?? 2, retryAfterBaseValue: options.retryBaseMs ?? 1000, doNotRetry: DO_NOT_RETRY },
    throttle: {
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
      // Its own queue per client, so the second between writes is per credential.
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeIntervalMs ?? 1000 }),
    },
  });
}

type RequestErrorLike = { status?: number; message?: string; response?: { headers?: Record<string, string | number | undefined>; data?: unknown } };

/** A 403 or 429 is a rate limit when GitHub says so: remaining 0, a `retry-after`, or the message. */
function isRateLimit(error: RequestErrorLike): boolean {
  const headers = error.response?.headers ?? {};
  return String(headers['x-ratelimit-remaining']) === '0' || headers['retry-after'] !== undefined || /rate limit/i.test(error.message ?? '');
}

/** `failed to <what>: <cause>` as a permanent (4xx) or transient (5xx, network, rate limit) error. */
export function hostError(what: string, error: unknown): PermanentGitHostError | TransientGitHostError {
  if (error instanceof PermanentGitHostError || error instanceof TransientGitHostError) return error;
  const e = (error ?? {}) as RequestErrorLike;
  const status = typeof e.status === 'number' && e.status > 0 ? e.status : undefined;
  const message = redact(`failed to ${what}: ${status ? `HTTP ${status} ` : ''}${e.message ?? String(error)}`);
  if (status !== undefined && status >= 400 && status < 500 && !((status === 403 || status === 429) && isRateLimit(e))) {
    return new PermanentGitHostError(message, status);
  }
  return new TransientGitHostError(message, status);
}

/** `owner/name` → its two parts, or a permanent error naming the value. */
export function splitRepository(repository: string): { owner: string; repo: string } {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(repository);
  if (!match) throw new PermanentGitHostError(`invalid GitHub repository "${repository}": expected owner/name`);
  return { owner: match[1]!, repo: match[2]! };
}
