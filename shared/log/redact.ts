/**
 * Removes credentials from any text before it reaches a log line, an error message or an
 * event: userinfo in URLs (git-sync #851 leaked a token that way), bearer and basic
 * credentials, Slack and Google OAuth tokens, token-like query parameters, and any secret value
 * registered at start-up (webhook secrets, signing secrets).
 */
const knownSecrets = new Set<string>();

/** Registers secret values (e.g. from the environment) so they are masked wherever they appear. */
export function registerSecrets(...values: Array<string | undefined>): void {
  for (const value of values) {
    for (const part of (value ?? '').split(',')) {
      const secret = part.trim();
      // Very short values would mask ordinary words; real secrets are long.
      if (secret.length >= 6) knownSecrets.add(secret);
    }
  }
}

const MASK = '***';
const PATTERNS: Array<[RegExp, string]> = [
  [/([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi, `$1${MASK}@`],
  [/\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${MASK}`],
  [/\bxox[abposr]-[A-Za-z0-9-]+/g, MASK],
  [/\bya29\.[A-Za-z0-9._-]+/g, MASK],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, MASK],
  [/\bglpat-[A-Za-z0-9_-]{20,}/g, MASK],
  [/([?&](?:access_token|token|password|secret|sig|signature)=)[^&\s]+/gi, `$1${MASK}`],
  [/(authorization:\s*)[^\r\n]+/gi, `$1${MASK}`],
];

/** Text that none of the patterns could match skips them: most log strings are plain words. */
const MAY_HOLD_CREDENTIALS = /:\/\/|bearer|basic|token|authorization|xox|ya29\.|gh[pousr]_|glpat-|[?&][a-z_]+=/i;

export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  if (!MAY_HOLD_CREDENTIALS.test(out)) return out;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Redacts every string inside a JSON-like value. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item)])) as T;
  }
  return value;
}

/** An error whose message (and cause chain) has been redacted; use when wrapping git or HTTP failures. */
export function redactedError(message: string, cause?: unknown): Error {
  const causeText = cause instanceof Error ? cause.message : cause === undefined ? '' : String(cause);
  return new Error(redact(causeText ? `${message}: ${causeText}` : message));
}
