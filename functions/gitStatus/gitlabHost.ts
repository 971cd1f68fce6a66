import { redact } from '../../shared/log/redact.js';
import { PermanentGitHostError, TransientGitHostError } from './types.js';
import type { DesiredStatus, GitHost } from './types.js';

/**
 * GitLab as a `GitHost`, through `@gitbeaker/rest`: commit statuses
 * (`POST /projects/:id/statuses/:sha`, with `name` = the context). GitLab's states are finer
 * than GitHub's: a running stage is `running` and a waiting one `pending`; `failure` and `error`
 * are both `failed`, except a superseded or canceled stage, which is `canceled`.
 *
 * No deployments: GitLab's deployments API (`POST /projects/:id/deployments`) needs the branch
 * or tag (`ref`, `tag`) besides the sha, which a run snapshot does not carry, and it ties
 * deployments to GitLab environments that baton does not manage. The reporter skips them for
 * a host without `deployments`.
 *
 * gitbeaker retries 429 and 502 itself (briefly); whatever still fails is sorted here: another
 * 4xx is permanent, a 429, a 5xx, a timeout or a network error transient.
 */
export type GitLabHostOptions = {
  token: string;
  /** `GITLAB_API_URL`: `https://gitlab.example.com` or `…/api/v4`; default `https://gitlab.com`. */
  baseUrl?: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
};

/** The host part of a GitLab API URL, as gitbeaker wants it (it appends `/api/v4`). */
export function gitlabHostUrl(baseUrl: string | undefined): string {
  return (baseUrl ?? 'https://gitlab.com').replace(/\/+$/, '').replace(/\/api\/v4$/, '');
}

type GitlabState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

export function gitlabState(status: DesiredStatus): GitlabState {
  if (status.state === 'pending') return status.stageStatus === 'running' ? 'running' : 'pending';
  if (status.state === 'success') return 'success';
  return status.stageStatus === 'superseded' || status.stageStatus === 'canceled' ? 'canceled' : 'failed';
}

type CommitsApi = {
  editStatus(projectId: string, sha: string, state: GitlabState, options: { name: string; description: string; targetUrl?: string }): Promise<unknown>;
};

export function gitlabError(what: string, error: unknown): PermanentGitHostError | TransientGitHostError {
  const cause = (error as { cause?: { response?: { status?: number } } })?.cause;
  const status = cause?.response?.status;
  const message = redact(`failed to ${what}: ${status ? `HTTP ${status} ` : ''}${error instanceof Error ? error.message : String(error)}`);
  if (typeof status === 'number' && status >= 400 && status < 500 && status !== 429) return new PermanentGitHostError(message, status);
  return new TransientGitHostError(message, status);
}

export function gitlabHost(options: GitLabHostOptions): GitHost {
  let commits: Promise<CommitsApi> | undefined;
  const api = () =>
    (commits ??= import('@gitbeaker/rest').then(
      ({ Commits }) => new Commits({ host: gitlabHostUrl(options.baseUrl), token: options.token, queryTimeout: options.timeoutMs ?? 10_000 }) as unknown as CommitsApi,
    ));
  return {
    provider: 'gitlab',
    async setStatus(repository: string, sha: string, status: DesiredStatus): Promise<void> {
      const state = gitlabState(status);
      try {
        await (await api()).editStatus(repository, sha, state, {
          name: status.context,
          description: status.description,
          ...(status.targetUrl ? { targetUrl: status.targetUrl } : {}),
        });
      } catch (error) {
        throw gitlabError(`set commit status ${status.context}=${state} on ${repository}@${sha.slice(0, 12)}`, error);
      }
    },
  };
}
