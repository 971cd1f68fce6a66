import { gitlabDeliveryId } from '../../shared/git/gitlabDelivery.js';
import { redact } from '../../shared/log/redact.js';
import { PermanentHookError } from './sweep.js';
import type { HookDelivery, HooksApi } from './sweep.js';

/**
 * GitLab's project webhook events as a `HooksApi`, for GitLab 17.4 and later:
 * - `GET /projects/:id/hooks/:hook_id/events` (added in GitLab 17.3): the hook's events of the
 *   past 7 days, newest first, `page`/`per_page` pagination (`x-next-page`). Each event has the
 *   request headers it sent, so its guid is the `Idempotency-Key` (kept by a resend; GitLab 17.4+)
 *   or else `X-Gitlab-Event-UUID`, and `response_status` is
 *   intake's status code as a string (or an error text when there was no answer: 0 here).
 *   Events carry no time, so the sweep's lookback cannot cut the list: GitLab's 7 days do.
 * - `POST /projects/:id/hooks/:hook_id/events/:hook_event_id/resend` (added in GitLab 17.4),
 *   limited by GitLab to five a minute per hook and user: past that GitLab answers 429, which is
 *   transient, so the next sweep picks the rest up.
 * Both need a token with the `api` scope and the Maintainer role. @gitbeaker/rest has no methods
 * for them yet, so they go through a gitbeaker resource's own requester (same auth, timeouts
 * and 429/502 retries as the rest of gitbeaker).
 */
export type GitLabHooksOptions = { token: string; baseUrl?: string; timeoutMs?: number };

type Requester = {
  get(endpoint: string, options?: { searchParams?: Record<string, unknown> }): Promise<{ body: unknown; headers: Record<string, string>; status: number }>;
  post(endpoint: string, options?: Record<string, unknown>): Promise<{ body: unknown; headers: Record<string, string>; status: number }>;
};

type HookEvent = { id: number; trigger?: string; request_headers?: Record<string, string>; response_status?: string | number };

function hookError(what: string, error: unknown): Error {
  const status = (error as { cause?: { response?: { status?: number } } })?.cause?.response?.status;
  const text = redact(`failed to ${what}: ${status ? `HTTP ${status} ` : ''}${error instanceof Error ? error.message : String(error)}`);
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 429 ? new PermanentHookError(text, status) : new Error(text);
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? headers![key] : undefined;
}

export function gitlabHooksApi(options: GitLabHooksOptions): HooksApi {
  let requester: Promise<Requester> | undefined;
  const api = () =>
    (requester ??= import('@gitbeaker/rest').then(({ ProjectHooks }) => {
      const host = (options.baseUrl ?? 'https://gitlab.com').replace(/\/+$/, '').replace(/\/api\/v4$/, '');
      return (new ProjectHooks({ host, token: options.token, queryTimeout: options.timeoutMs ?? 10_000 }) as unknown as { requester: Requester }).requester;
    }));
  // ProjectHooks' requester is rooted at `/api/v4/projects/`.
  const base = (repository: string, hookId: number) => `${encodeURIComponent(repository)}/hooks/${hookId}/events`;
  return {
    async listDeliveries(repository, hookId, cursor) {
      try {
        const page = cursor ? Number(cursor) : 1;
        const response = await (await api()).get(base(repository, hookId), { searchParams: { page, per_page: 100 } });
        const deliveries: HookDelivery[] = (response.body as HookEvent[]).map((event) => {
          const code = Number(event.response_status);
          return {
            id: event.id,
            // The id intake named the run by (a resend keeps it: see gitlabDeliveryId).
            guid: gitlabDeliveryId((name) => header(event.request_headers, name)) ?? `gitlab-event-${event.id}`,
            redelivery: false,
            statusCode: Number.isFinite(code) ? code : 0,
            event: header(event.request_headers, 'X-Gitlab-Event') ?? event.trigger ?? '',
          };
        });
        const next = response.headers['x-next-page'];
        return { deliveries, ...(next ? { next } : {}) };
      } catch (error) {
        throw hookError(`list events of ${repository} hook ${hookId}`, error);
      }
    },
    async redeliver(repository, hookId, deliveryId) {
      try {
        await (await api()).post(`${base(repository, hookId)}/${deliveryId}/resend`);
      } catch (error) {
        throw hookError(`resend event ${deliveryId} of ${repository} hook ${hookId}`, error);
      }
    },
  };
}
