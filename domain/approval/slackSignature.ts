import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack's request signing (v0): `X-Slack-Signature: v0=<hex HMAC-SHA256(secret,
 * "v0:" + X-Slack-Request-Timestamp + ":" + rawBody)>`, refused when the timestamp is more than
 * five minutes away from now (replays). Checked over the raw bytes, before anything is parsed.
 */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 300;

export type SlackVerification = 'ok' | 'missing' | 'stale' | 'bad' | 'unconfigured';

export function slackSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * `secrets`: `SLACK_SIGNING_SECRET`, several comma-separated while one is rotated. Every
 * candidate is compared in constant time.
 */
export function verifySlackRequest(
  headers: Record<string, string | undefined>,
  rawBody: Buffer,
  secrets: string | undefined,
  now: Date,
): SlackVerification {
  const signature = headers['x-slack-signature'];
  const timestamp = headers['x-slack-request-timestamp'];
  if (!signature || !timestamp) return 'missing';
  const candidates = (secrets ?? '').split(',').map((part) => part.trim()).filter(Boolean);
  if (candidates.length === 0) return 'unconfigured';
  if (!/^\d{1,12}$/.test(timestamp)) return 'bad';
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_TIMESTAMP_TOLERANCE_SECONDS) return 'stale';
  const given = Buffer.from(signature);
  const matches = candidates.some((secret) => {
    const wanted = Buffer.from(slackSignature(secret, timestamp, rawBody));
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  });
  return matches ? 'ok' : 'bad';
}
