import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The value carried by an Approve or Reject button: a signed, expiring token bound to one run,
 * one action and the exact image digests the message showed. Anyone can read a Slack message's
 * button values, so the token is only worth anything because it is signed with
 * `BATON_APPROVAL_SECRET` and checked against the ledger again when it comes back.
 *
 * Format: `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(secret, "v1." + claims))>`.
 * Slack caps a button value at 2,000 characters, so the digests are carried as one
 * fingerprint (`digestFingerprint`) rather than listed.
 */
export type ApprovalAction = 'approve' | 'reject';

export type TokenClaims = {
  /** Run id. */
  run: string;
  /** What the button does. */
  act: ApprovalAction;
  /** `digestFingerprint` of the images shown. */
  dig: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** The environment, for a named one (its name is also in `dig`, which the signature covers). */
  env?: string;
};

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'wrong-run' | 'wrong-action' | 'wrong-digests' };

const VERSION = 'v1';

/**
 * What an approval is bound to: the images' digests, a Terraform run's saved plan by its
 * SHA-256, and the environment it deploys to (so a button for `dev` cannot approve `prod`; the
 * implicit environment adds nothing, which keeps the tokens of runs from before environments).
 */
export function boundArtifacts(images: ReadonlyArray<{ service: string; digest: string }>, plan?: { dir: string; sha256: string }, environment: string = IMPLICIT_ENVIRONMENT): Array<{ service: string; digest: string }> {
  return [
    ...images.map(({ service, digest }) => ({ service, digest })),
    ...(plan ? [{ service: `plan:${plan.dir}`, digest: `sha256:${plan.sha256}` }] : []),
    ...(environment === IMPLICIT_ENVIRONMENT ? [] : [{ service: 'environment', digest: environment }]),
  ];
}

/** A stable fingerprint of `service=digest` pairs, whatever order they come in. */
export function digestFingerprint(images: ReadonlyArray<{ service: string; digest: string }>): string {
  const canonical = images
    .map((image) => `${image.service}=${image.digest}`)
    .sort()
    .join('\n');
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The secrets in `BATON_APPROVAL_SECRET`: comma-separated; the first signs, any verifies (rotation). */
export function approvalSecrets(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

function mac(secret: string, signedPart: string): Buffer {
  return createHmac('sha256', secret).update(signedPart).digest();
}

export function signToken(claims: TokenClaims, secret: string): string {
  const body = `${VERSION}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

/** Reads the claims without checking anything: only to route a request to the run it names. */
export function peekToken(token: string): Partial<TokenClaims> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' ? (claims as Partial<TokenClaims>) : undefined;
  } catch {
    return undefined;
  }
}

function isClaims(value: Partial<TokenClaims> | undefined): value is TokenClaims {
  return (
    typeof value?.run === 'string' &&
    (value.act === 'approve' || value.act === 'reject') &&
    typeof value.dig === 'string' &&
    typeof value.exp === 'number' &&
    Number.isFinite(value.exp)
  );
}

export type ExpectedToken = { runId: string; action: ApprovalAction; fingerprint: string; now: Date };

/**
 * Verifies the signature (constant-time, against every configured secret) before trusting any
 * claim, then the run, the action, the digests and the expiry.
 */
export function verifyToken(token: string, secrets: readonly string[], expected: ExpectedToken): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION || secrets.length === 0) return { ok: false, reason: 'malformed' };
  const signedPart = `${parts[0]}.${parts[1]}`;
  const given = Buffer.from(parts[2]!, 'base64url');
  const signed = secrets.some((secret) => {
    const wanted = mac(secret, signedPart);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  });
  if (!signed) return { ok: false, reason: 'bad-signature' };
  const claims = peekToken(token);
  if (!isClaims(claims)) return { ok: false, reason: 'malformed' };
  if (claims.run !== expected.runId) return { ok: false, reason: 'wrong-run' };
  if (claims.act !== expected.action) return { ok: false, reason: 'wrong-action' };
  if (claims.dig !== expected.fingerprint) return { ok: false, reason: 'wrong-digests' };
  if (claims.exp * 1000 <= expected.now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
