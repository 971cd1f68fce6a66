import { isApprover, isPusher } from '../../domain/approval/identity.js';
import { approvalRequestMessage, buildFailedMessage } from '../../domain/approval/messages.js';
import { slackSignature, verifySlackRequest } from '../../domain/approval/slackSignature.js';
import { digestFingerprint, signToken, verifyToken } from '../../domain/approval/token.js';
import type { ApprovalAction } from '../../domain/approval/token.js';
import { FakeSlack } from '../../standins/slackApi.js';

const now = new Date('2026-11-26T10:00:00Z');
const nowSeconds = now.getTime() / 1000;
const images = [
  { service: 'frontend', digest: `sha256:${'a'.repeat(64)}` },
  { service: 'cart', digest: `sha256:${'b'.repeat(64)}` },
];

describe('approval token', () => {
  const secret = 'approval-secret-one';
  const fingerprint = digestFingerprint(images);
  const claims = { run: 'shop-1-abc', act: 'approve' as ApprovalAction, dig: fingerprint, exp: nowSeconds + 60 };
  const expected = { runId: 'shop-1-abc', action: 'approve' as ApprovalAction, fingerprint, now };

  test('the fingerprint ignores order and changes with any digest', () => {
    expect(digestFingerprint([...images].reverse())).toBe(fingerprint);
    expect(digestFingerprint([images[0]!, { service: 'cart', digest: `sha256:${'c'.repeat(64)}` }])).not.toBe(fingerprint);
  });

  test('a token signed with the secret verifies, and with a rotated-in secret too', () => {
    expect(verifyToken(signToken(claims, secret), [secret], expected)).toEqual({ ok: true, claims });
    expect(verifyToken(signToken(claims, secret), ['new-secret', secret], expected).ok).toBe(true);
  });

  const tamperPayload = (token: string, change: Record<string, unknown>) => {
    const [v, body, mac] = token.split('.');
    const next = { ...JSON.parse(Buffer.from(body!, 'base64url').toString()), ...change };
    return `${v}.${Buffer.from(JSON.stringify(next)).toString('base64url')}.${mac}`;
  };
  test.each([
    ['another key', () => signToken(claims, 'attacker-key'), 'bad-signature'],
    ['claims edited after signing', () => tamperPayload(signToken(claims, secret), { exp: nowSeconds + 9999 }), 'bad-signature'],
    ['signature cut', () => signToken(claims, secret).slice(0, -4), 'bad-signature'],
    ['not a token', () => 'hello', 'malformed'],
    ['another run', () => signToken({ ...claims, run: 'shop-2-def' }, secret), 'wrong-run'],
    ['the other button', () => signToken({ ...claims, act: 'reject' }, secret), 'wrong-action'],
    ['other digests', () => signToken({ ...claims, dig: digestFingerprint(images.slice(1)) }, secret), 'wrong-digests'],
    ['expired', () => signToken({ ...claims, exp: nowSeconds }, secret), 'expired'],
  ])('%s → %s', (_name, token, reason) => {
    expect(verifyToken(token(), [secret], expected)).toEqual({ ok: false, reason });
  });

  test('no secret configured verifies nothing', () => {
    expect(verifyToken(signToken(claims, secret), [], expected).ok).toBe(false);
  });
});

describe('Slack request signature', () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const body = Buffer.from('payload=%7B%22type%22%3A%22block_actions%22%7D');
  const ts = String(nowSeconds);
  const headers = (signature: string, timestamp = ts) => ({ 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp });

  test("matches Slack's documented example", () => {
    // From Slack's "Verifying requests from Slack" guide.
    const example = Buffer.from(
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    );
    expect(slackSignature(secret, '1531420618', example)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });

  test.each([
    ['good', () => headers(slackSignature(secret, ts, body)), body, secret, 'ok'],
    ['good with a rotated secret list', () => headers(slackSignature(secret, ts, body)), body, `old-secret-xx,${secret}`, 'ok'],
    ['wrong secret', () => headers(slackSignature('another-secret', ts, body)), body, secret, 'bad'],
    ['tampered body', () => headers(slackSignature(secret, ts, body)), Buffer.from(`${body}&x=1`), secret, 'bad'],
    ['301 s old', () => headers(slackSignature(secret, String(nowSeconds - 301), body), String(nowSeconds - 301)), body, secret, 'stale'],
    ['301 s ahead', () => headers(slackSignature(secret, String(nowSeconds + 301), body), String(nowSeconds + 301)), body, secret, 'stale'],
    ['299 s old', () => headers(slackSignature(secret, String(nowSeconds - 299), body), String(nowSeconds - 299)), body, secret, 'ok'],
    ['timestamp changed after signing', () => headers(slackSignature(secret, ts, body), String(nowSeconds - 1)), body, secret, 'bad'],
    ['non-numeric timestamp', () => headers(slackSignature(secret, ts, body), '1e9'), body, secret, 'bad'],
    ['different length signature', () => headers('v0=abc'), body, secret, 'bad'],
    ['missing headers', () => ({}), body, secret, 'missing'],
    ['no secret configured', () => headers(slackSignature(secret, ts, body)), body, undefined, 'unconfigured'],
  ] as const)('%s → %s', (_name, make, raw, secrets, result) => {
    expect(verifySlackRequest(make(), raw, secrets, now)).toBe(result);
  });
});

describe('who may decide', () => {
  const approvers = ['U0ALICE', 'slack:U0BOB', 'cli:carol', 'jenkins:dave'];
  test.each([
    [{ id: 'U0ALICE', via: 'slack' }, true],
    [{ id: 'U0BOB', via: 'slack' }, true],
    [{ id: 'carol', via: 'cli' }, true],
    [{ id: 'dave', via: 'jenkins' }, true],
    [{ id: 'U0ALICE', via: 'cli' }, false],
    [{ id: 'carol', via: 'jenkins' }, false],
    [{ id: 'cli:carol', via: 'slack' }, true], // only a Slack user id could look like this, and Slack ids never do
    [{ id: 'U0MALLORY', via: 'slack' }, false],
    [{ id: 'baton', via: 'system' }, false],
  ] as const)('%o → %s', (decider, allowed) => {
    expect(isApprover(approvers, decider)).toBe(allowed);
  });
  test('an empty list allows nobody', () => {
    expect(isApprover([], { id: 'U0ALICE', via: 'slack' })).toBe(false);
  });

  const pusher = { name: 'alice-gh', email: 'Alice@Example.com', username: 'alice-gh' };
  test.each([
    ['slack, same e-mail', { id: 'U1', via: 'slack' }, { email: 'alice@example.com', username: 'al' }, true],
    ['slack, same handle', { id: 'U1', via: 'slack' }, { username: 'alice-gh' }, true],
    ['slack, other person', { id: 'U2', via: 'slack' }, { email: 'bob@example.com', username: 'bob' }, false],
    ['slack, no e-mail to compare', { id: 'U2', via: 'slack' }, { username: 'bob' }, 'unknown'],
    ['slack, lookup failed', { id: 'U2', via: 'slack' }, 'unknown', 'unknown'],
    ['cli, pusher login', { id: 'alice-gh', via: 'cli' }, undefined, true],
    ['jenkins, pusher e-mail', { id: 'alice@example.com', via: 'jenkins' }, undefined, true],
    ['jenkins, someone else', { id: 'dave', via: 'jenkins' }, undefined, false],
  ] as const)('pusher check: %s', (_name, decider, identity, result) => {
    expect(isPusher(pusher, decider, identity)).toBe(result);
  });
});

describe('messages', () => {
  const view = {
    runId: 'shop-7-abc1234',
    pipeline: 'shop',
    kind: 'terraform' as const,
    repository: 'acme/infra',
    branch: 'feature/<x>',
    sha: 'abc1234'.padEnd(40, '0'),
    seq: 7,
    pusher: { name: 'alice' },
    compareUrl: 'https://github.com/acme/infra/compare/a...b',
    services: [{ service: 'network', status: 'SUCCESS', image: { repository: 'r', tag: 'abc1234', digest: images[0]!.digest }, planSummary: { add: 1, change: 2, destroy: 1, destroyed: ['google_compute_network.old'] } }],
  };

  test('the question shows the plan summary, escapes pushed text, and carries both tokens', () => {
    const message = approvalRequestMessage(view, { approve: 'v1.a.b', reject: 'v1.c.d' }, '2026-11-27T10:00:00.000Z');
    const text = FakeSlack.textOf(message);
    expect(text).toContain('Terraform apply approval needed');
    expect(text).toContain('plan: +1 ~2 -1; destroys `google_compute_network.old`');
    expect(text).toContain('feature/&lt;x&gt;');
    expect(JSON.stringify(message.blocks)).toContain('"value":"v1.a.b"');
    expect(JSON.stringify(message.blocks)).toContain('"value":"v1.c.d"');
  });

  test("a retry's question says which attempt it is, who asked and why, escaped", () => {
    const retried = { ...view, runId: 'shop-7-abc1234-r2', retry: { runId: 'shop-7-abc1234', attempt: 2, by: 'cli:alice', reason: 'flaky <test>' } };
    expect(FakeSlack.textOf(approvalRequestMessage(retried, { approve: 'a', reject: 'r' }, '2026-11-27T10:00:00.000Z'))).toContain('run `shop-7-abc1234-r2` · attempt 2 of run `shop-7-abc1234`, retried by cli:alice: flaky &lt;test&gt;');
    expect(FakeSlack.textOf(approvalRequestMessage(view, { approve: 'a', reject: 'r' }, '2026-11-27T10:00:00.000Z'))).not.toContain('attempt');
  });

  test('a failure message has no actions block', () => {
    const message = buildFailedMessage({ ...view, services: [{ service: 'network', status: 'FAILURE', detail: 'plan failed' }] });
    expect(message.blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(FakeSlack.textOf(message)).toContain('plan failed');
  });
});
