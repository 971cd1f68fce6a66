/**
 * How chart-repo git commands authenticate. With `chart.auth: google` (the default for https
 * remotes) git gets the runtime's OAuth access token as an `http.extraHeader`, passed through
 * the `GIT_CONFIG_COUNT/KEY/VALUE` environment: never in argv (visible in `ps`) or in the remote
 * URL (which lands in `.git/config` and in git's error messages, git-sync #851).
 */
export type GitAuthMode = 'google' | 'none';

/** `google` for https remotes unless configured otherwise; local paths and file:// need nothing. */
export function gitAuthMode(url: string, configured: GitAuthMode | undefined): GitAuthMode {
  return configured ?? (/^https:\/\//i.test(url) ? 'google' : 'none');
}

// Only these pass from the ambient environment to git: ambient GIT_* variables (an inherited
// GIT_DIR, say) would point the command somewhere else entirely.
const PASSED_THROUGH = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];

/** Names of the git variables `gitEnvironment` may set, for simple-git's environment guard. */
export const GIT_AUTH_ENV_KEYS = ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0', 'GIT_TERMINAL_PROMPT'];

export function gitEnvironment(accessToken: string | undefined, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
  for (const name of PASSED_THROUGH) if (base[name] !== undefined) env[name] = base[name]!;
  if (accessToken) {
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = 'http.extraHeader';
    env.GIT_CONFIG_VALUE_0 = `Authorization: Bearer ${accessToken}`;
  }
  return env;
}
