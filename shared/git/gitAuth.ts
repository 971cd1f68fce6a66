/**
 * How baton authenticates git to a Google-hosted remote (Secure Source Manager, Cloud Source
 * Repositories): the service account's access token as an `Authorization: Bearer` header.
 *
 * The header travels in git's environment config (`GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_n` /
 * `GIT_CONFIG_VALUE_n`), never in argv (visible in `ps` and in error messages that echo the
 * command) nor in the URL (git prints remote URLs in its own errors; git-sync #851). It is
 * scoped with `http.<origin>/.extraHeader`, so the token only ever goes to the mirror's host,
 * never to the git host the source is fetched from.
 */
export type GitAuthMode = 'google' | 'none';

/** Hosts where git accepts a Google access token: Secure Source Manager and Cloud Source Repositories. */
const GOOGLE_GIT_HOST = /(^|\.)(sourcemanager\.dev|source\.developers\.google\.com)$/i;

/**
 * The auth a remote needs: `mirror.auth` when set; otherwise `google` for https remotes on
 * Google's git hosts and `none` elsewhere, so a service-account token is never offered to a
 * third-party host unless the config asks for it.
 */
export function authModeFor(url: string, configured?: GitAuthMode): GitAuthMode {
  if (configured) return configured;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && GOOGLE_GIT_HOST.test(parsed.hostname) ? 'google' : 'none';
  } catch {
    return 'none';
  }
}

/** Environment variables that make git send `token` to `url`'s origin only. Empty without a token or for non-http URLs. */
export function gitAuthEnv(url: string, token: string | undefined): Record<string, string> {
  if (!token) return {};
  let origin: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return {};
    origin = parsed.origin;
  } catch {
    return {};
  }
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${origin}/.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Bearer ${token}`,
  };
}

/** The environment variable names `gitAuthEnv` may set (simple-git must be told to let them through). */
export const GIT_AUTH_ENV_NAMES = ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0'] as const;

/** A URL with any userinfo removed, fit for events, logs and the ledger. */
export function stripCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
}
