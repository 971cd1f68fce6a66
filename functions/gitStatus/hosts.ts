import { registerSecrets } from '../../shared/log/redact.js';
import { githubHost } from './githubHost.js';
import type { GitHubClientOptions } from './githubClient.js';
import { gitlabHost } from './gitlabHost.js';
import type { GitHost } from './types.js';

/**
 * The git host for a run's provider, from the environment (read once per process by the
 * caller): GitHub with a GitHub App installation (`GITHUB_APP_ID`, `GITHUB_APP_PRIVATE_KEY`,
 * `GITHUB_APP_INSTALLATION_ID`) or else `GITHUB_TOKEN`; GitLab with `GITLAB_TOKEN`. Base URLs
 * from `GITHUB_API_URL` and `GITLAB_API_URL`. `undefined` when the provider has no credentials:
 * the caller logs once that reporting is off and does nothing.
 */
export type GitHostEnv = Partial<
  Record<'GITHUB_TOKEN' | 'GITHUB_API_URL' | 'GITHUB_APP_ID' | 'GITHUB_APP_PRIVATE_KEY' | 'GITHUB_APP_INSTALLATION_ID' | 'GITLAB_TOKEN' | 'GITLAB_API_URL', string | undefined>
>;

/** GitHub client options from the environment, or `undefined` without credentials. */
export function githubOptionsFrom(env: GitHostEnv): GitHubClientOptions | undefined {
  const baseUrl = env.GITHUB_API_URL?.trim() || undefined;
  const appId = env.GITHUB_APP_ID?.trim();
  const privateKey = env.GITHUB_APP_PRIVATE_KEY?.trim();
  const installationId = env.GITHUB_APP_INSTALLATION_ID?.trim();
  if (appId && privateKey && installationId) {
    registerSecrets(privateKey);
    // Secret Manager and .env files often hold the PEM with literal "\n".
    return { app: { appId, privateKey: privateKey.includes('\\n') ? privateKey.replace(/\\n/g, '\n') : privateKey, installationId }, ...(baseUrl ? { baseUrl } : {}) };
  }
  const token = env.GITHUB_TOKEN?.trim();
  if (!token) return undefined;
  registerSecrets(token);
  return { token, ...(baseUrl ? { baseUrl } : {}) };
}

export function gitHostFor(env: GitHostEnv, provider: 'github' | 'gitlab', overrides: Partial<GitHubClientOptions> = {}): GitHost | undefined {
  if (provider === 'github') {
    const options = githubOptionsFrom(env);
    return options ? githubHost({ ...options, ...overrides } as GitHubClientOptions) : undefined;
  }
  const token = env.GITLAB_TOKEN?.trim();
  if (!token) return undefined;
  registerSecrets(token);
  const baseUrl = env.GITLAB_API_URL?.trim() || undefined;
  return gitlabHost({ token, ...(baseUrl ? { baseUrl } : {}) });
}
