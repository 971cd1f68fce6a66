import type { Octokit } from '@octokit/rest';
import { redact } from '../../shared/log/redact.js';
import { PermanentHookError } from './sweep.js';
import type { HookDelivery, HooksApi } from './sweep.js';

/**
 * GitHub's webhook deliveries API as a `HooksApi`: `GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries`
 * (newest first, 100 a page, the next page's `cursor` in the `link` header) and
 * `POST …/deliveries/{delivery_id}/attempts` (202). Needs `admin:repo_hook` read for a token, or
 * "Webhooks: read and write" for a GitHub App (a redelivery is a write).
 *
 * The client is built like gitStatus's (`functions/gitStatus/githubClient.ts`: throttling with
 * bounded rate-limit waits, retries for 5xx, App or token auth); stages do not import each
 * other, so this is its own small copy until both move to `shared/`.
 */
export type GitHubHooksOptions = (
  | { token: string }
  | { app: { appId: string | number; privateKey: string; installationId: string | number } }
) & { baseUrl?: string; rateLimitRetries?: number; maxRateLimitWaitSeconds?: number; retries?: number; retryBaseMs?: number; writeIntervalMs?: number; log?: { warn(message: string, fields?: Record<string, unknown>): void } };

async function createClient(options: GitHubHooksOptions): Promise<Octokit> {
  const [{ Octokit: RestOctokit }, { throttling }, { retry }, { default: Bottleneck }] = await Promise.all([
    import('@octokit/rest'),
    import('@octokit/plugin-throttling'),
    import('@octokit/plugin-retry'),
    import('bottleneck'),
  ]);
  const onLimit = (retryAfter: number, _request: unknown, _octokit: unknown, retryCount: number) => {
    const retrying = retryCount < (options.rateLimitRetries ?? 2) && retryAfter <= (options.maxRateLimitWaitSeconds ?? 60);
    options.log?.warn('GitHub rate limit', { retryAfterSeconds: retryAfter, retryCount, retrying });
    return retrying;
  };
  const auth =
    'token' in options
      ? { auth: options.token }
      : { authStrategy: (await import('@octokit/auth-app')).createAppAuth, auth: { ...options.app } };
  return new (RestOctokit.plugin(throttling, retry))({
    ...auth,
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, '') } : {}),
    userAgent: 'baton',
    log: { debug: () => {}, info: () => {}, warn: (m: string) => options.log?.warn(redact(m)), error: (m: string) => options.log?.warn(redact(m)) },
    retry: { retries: options.retries ?? 2, retryAfterBaseValue: options.retryBaseMs ?? 1000, doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451] },
    throttle: { onRateLimit: onLimit, onSecondaryRateLimit: onLimit, write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeIntervalMs ?? 1000 }) },
  });
}

function split(repository: string): { owner: string; repo: string } {
  const [owner, repo, ...rest] = repository.split('/');
  if (!owner || !repo || rest.length) throw new PermanentHookError(`invalid GitHub repository "${repository}": expected owner/name`);
  return { owner, repo };
}

function hookError(what: string, error: unknown): Error {
  const e = (error ?? {}) as { status?: number; message?: string; response?: { headers?: Record<string, unknown> } };
  const text = redact(`failed to ${what}: ${e.status ? `HTTP ${e.status} ` : ''}${e.message ?? String(error)}`);
  const rateLimited = (e.status === 403 || e.status === 429) && (e.response?.headers?.['x-ratelimit-remaining'] === '0' || e.response?.headers?.['retry-after'] !== undefined || /rate limit/i.test(e.message ?? ''));
  return typeof e.status === 'number' && e.status >= 400 && e.status < 500 && !rateLimited ? new PermanentHookError(text, e.status) : new Error(text);
}

/** The `cursor` of the `rel="next"` link, if any. */
export function nextCursor(link: string | undefined): string | undefined {
  const next = link?.split(',').find((part) => /rel="next"/.test(part));
  const url = next && /<([^>]+)>/.exec(next)?.[1];
  return url ? (new URL(url).searchParams.get('cursor') ?? undefined) : undefined;
}

export function githubHooksApi(options: GitHubHooksOptions): HooksApi {
  let client: Promise<Octokit> | undefined;
  const octokit = () => (client ??= createClient(options));
  return {
    async listDeliveries(repository, hookId, cursor) {
      const { owner, repo } = split(repository);
      try {
        const response = await (await octokit()).rest.repos.listWebhookDeliveries({ owner, repo, hook_id: hookId, per_page: 100, ...(cursor ? { cursor } : {}) });
        const deliveries: HookDelivery[] = response.data.map((d) => ({
          id: d.id,
          guid: d.guid,
          deliveredAt: d.delivered_at,
          redelivery: d.redelivery,
          statusCode: d.status_code,
          event: d.event,
        }));
        const next = nextCursor(response.headers.link);
        return { deliveries, ...(next ? { next } : {}) };
      } catch (error) {
        throw hookError(`list deliveries of ${repository} hook ${hookId}`, error);
      }
    },
    async redeliver(repository, hookId, deliveryId) {
      const { owner, repo } = split(repository);
      try {
        await (await octokit()).rest.repos.redeliverWebhookDelivery({ owner, repo, hook_id: hookId, delivery_id: deliveryId });
      } catch (error) {
        throw hookError(`redeliver delivery ${deliveryId} of ${repository} hook ${hookId}`, error);
      }
    },
  };
}
