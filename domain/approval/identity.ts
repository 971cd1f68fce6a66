import type { Decider } from '../../shared/contracts/index.js';

/**
 * Who may decide, and who counts as the pusher.
 *
 * Approvers (`approval.approvers`, else `SLACK_APPROVERS`) are a list of identities:
 * - a Slack user id (`U024BE7LH`), or `slack:U024BE7LH`: that user clicking in Slack;
 * - `jenkins:<user id>`: that Jenkins user submitting the input step (`baton approve --via jenkins --as <id>`);
 * - `cli:<name>`: that person running `baton approve --as <name>`.
 * A Slack id never matches a CLI or Jenkins decider, so typing someone's Slack id into `--as`
 * does not make you them. An empty list allows nobody.
 *
 * Self-approval (`approval.allowSelfApproval: false`): the decider is the pusher when their
 * e-mail (Slack `users.info`, needs the `users:read.email` scope) equals the pusher's, or when
 * one of their handles (Slack username, CLI/Jenkins id) equals the pusher's login, name or
 * e-mail, case-insensitively. When a Slack user's identity cannot be looked up, or either side has no
 * e-mail to compare, the rule fails closed (refused as self-approval).
 */
export type DeciderIdentity = { email?: string; username?: string; realName?: string };

export function isApprover(approvers: readonly string[], decider: Decider): boolean {
  const keys = decider.via === 'slack' ? [decider.id, `slack:${decider.id}`] : decider.via === 'system' ? [] : [`${decider.via}:${decider.id}`];
  return approvers.some((entry) => keys.includes(entry.trim()));
}

const norm = (value: string | undefined) => value?.trim().toLowerCase() || undefined;

/** True when the decider is the pusher, false when not, `unknown` when it cannot be told. */
export function isPusher(
  pusher: { name: string; email?: string; username?: string },
  decider: Decider,
  identity: DeciderIdentity | 'unknown' | undefined,
): boolean | 'unknown' {
  const pusherKeys = new Set([norm(pusher.name), norm(pusher.username), norm(pusher.email)].filter(Boolean));
  if (decider.via !== 'slack') {
    const handles = [norm(decider.id), norm(identity === 'unknown' ? undefined : identity?.email), norm(identity === 'unknown' ? undefined : identity?.username)];
    return handles.some((handle) => handle !== undefined && pusherKeys.has(handle));
  }
  if (identity === 'unknown' || identity === undefined) return 'unknown';
  const email = norm(identity.email);
  const username = norm(identity.username);
  if (email && email === norm(pusher.email)) return true;
  if (username !== undefined && (username === norm(pusher.username) || username === norm(pusher.name))) return true;
  // Without an e-mail on both sides (scope missing, or a host that sends none) a match cannot be ruled out.
  return email && norm(pusher.email) ? false : 'unknown';
}
