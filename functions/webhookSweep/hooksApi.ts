import { registerSecrets } from '../../shared/log/redact.js';
import { githubHooksApi } from './githubHooks.js';
import type { GitHubHooksOptions } from './githubHooks.js';
import { gitlabHooksApi } from './gitlabHooks.js';
import type { HooksApi } from './sweep.js';

/**
 * The hooks API of a provider from the environment (same variables as gitStatus: a GitHub App,
 * else `GITHUB_TOKEN`; `GITLAB_TOKEN`; `GITHUB_API_URL`, `GITLAB_API_URL`), or `undefined`
 * without credentials: the sweep then logs once that it is off.
 */
export type HooksEnv = Partial<
  Record<'GITHUB_TOKEN' | 'GITHUB_API_URL' | 'GITHUB_APP_ID' | 'GITHUB_APP_PRIVATE_KEY' | 'GITHUB_APP_INSTALLATION_ID' | 'GITLAB_TOKEN' | 'GITLAB_API_URL', string | undefined>
>;

export function hooksApiFor(env: HooksEnv, provider: 'github' | 'gitlab', tuning: Partial<GitHubHooksOptions> = {}): HooksApi | undefined {
  if (provider === 'gitlab') {
    const token = env.GITLAB_TOKEN?.trim();
    if (!token) return undefined;
    registerSecrets(token);
    return gitlabHooksApi({ token, ...(env.GITLAB_API_URL ? { baseUrl: env.GITLAB_API_URL } : {}) });
  }
  const baseUrl = env.GITHUB_API_URL?.trim() ? { baseUrl: env.GITHUB_API_URL.trim() } : {};
  const [appId, privateKey, installationId] = [env.GITHUB_APP_ID?.trim(), env.GITHUB_APP_PRIVATE_KEY?.trim(), env.GITHUB_APP_INSTALLATION_ID?.trim()];
  if (appId && privateKey && installationId) {
    registerSecrets(privateKey);
    return githubHooksApi({ app: { appId, privateKey: privateKey.replace(/\\n/g, '\n'), installationId }, ...baseUrl, ...tuning } as GitHubHooksOptions);
  }
  const token = env.GITHUB_TOKEN?.trim();
  if (!token) return undefined;
  registerSecrets(token);
  return githubHooksApi({ token, ...baseUrl, ...tuning } as GitHubHooksOptions);
}
