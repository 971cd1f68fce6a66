import { githubHooksApi, nextCursor } from '../../functions/webhookSweep/githubHooks.js';
import { gitlabReceiver } from '../../functions/webhookIntake/gitlab.js';
import { gitlabHooksApi } from '../../functions/webhookSweep/gitlabHooks.js';
import { sweepWebhooks } from '../../functions/webhookSweep/sweep.js';
import type { SweepDeps } from '../../functions/webhookSweep/sweep.js';
import { FakeGitHub } from '../../standins/githubApi.js';
import { FakeGitLab } from '../../standins/gitlabApi.js';

/**
 * The missed-webhook sweep against the GitHub stand-in (every request checked against GitHub's
 * OpenAPI description) and the GitLab one: exactly the failed deliveries are redelivered, once
 * each, however many sweeps run.
 */
const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
const REPO = 'acme/shop';
const HOOK = 12345678;
const NOW = Date.now();
const hoursAgo = (hours: number) => new Date(NOW - hours * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const quiet = { info: () => {}, warn: () => {} };

function claims() {
  const taken = new Set<string>();
  return {
    taken,
    claim: async (key: string) => (taken.has(key) ? false : (taken.add(key), true)),
    release: async (key: string) => {
      taken.delete(key);
    },
  };
}

let github: FakeGitHub;
beforeEach(async () => {
  github = await FakeGitHub.start({ token: TOKEN });
});
afterEach(async () => {
  expect(github.violations).toEqual([]);
  expect(github.unhandled).toEqual([]);
  await github.close();
});

function deps(overrides: Partial<SweepDeps> = {}): SweepDeps {
  return {
    github: githubHooksApi({ token: TOKEN, baseUrl: github.url, writeIntervalMs: 0, retries: 0 }),
    hooks: [{ repository: REPO, hookId: HOOK }],
    isKnownDelivery: async () => false,
    claims: claims(),
    log: quiet,
    now: () => NOW,
    ...overrides,
  };
}

describe('webhook sweep on GitHub', () => {
  beforeEach(() => {
    github.addDeliveries(REPO, HOOK, [
      { guid: 'ok-1', status_code: 202, delivered_at: hoursAgo(1) },
      { guid: 'failed-502', status_code: 502, delivered_at: hoursAgo(2) },
      { guid: 'timed-out', status_code: 0, delivered_at: hoursAgo(3) },
      { guid: 'failed-then-redelivered-ok', status_code: 500, delivered_at: hoursAgo(4) },
      { guid: 'failed-then-redelivered-ok', status_code: 202, redelivery: true, delivered_at: hoursAgo(3.5) },
      { guid: 'held-by-intake', status_code: 504, delivered_at: hoursAgo(5) },
      { guid: 'a-ping', status_code: 500, event: 'ping', delivered_at: hoursAgo(5) },
      { guid: 'too-old', status_code: 500, delivered_at: hoursAgo(30) },
    ]);
  });

  test('two sweeps redeliver exactly the failed deliveries, once each', async () => {
    const shared = deps({ isKnownDelivery: async (guid) => guid === 'held-by-intake' });
    const first = await sweepWebhooks(shared);
    expect(first).toEqual({ listed: 7, failed: 3, redelivered: ['failed-502', 'timed-out'], skipped: 1, errors: [] });
    expect(github.redeliveries.map((r) => r.guid)).toEqual(['failed-502', 'timed-out']);
    // The redeliveries reached intake this time (the stand-in records them as 200).
    const second = await sweepWebhooks(shared);
    expect(second.redelivered).toEqual([]);
    expect(github.redeliveries).toHaveLength(2);
  });

  test('a redelivery that fails again is not redelivered a second time', async () => {
    await github.close();
    github = await FakeGitHub.start({ token: TOKEN, redeliveryStatusCode: 503 });
    github.addDeliveries(REPO, HOOK, [{ guid: 'down', status_code: 503, delivered_at: hoursAgo(1) }]);
    const shared = deps();
    expect((await sweepWebhooks(shared)).redelivered).toEqual(['down']);
    expect(await sweepWebhooks(shared)).toMatchObject({ failed: 1, redelivered: [], skipped: 1 });
    expect(github.redeliveries).toHaveLength(1);
  });

  test('pages are followed by cursor until the lookback', async () => {
    await github.close();
    github = await FakeGitHub.start({ token: TOKEN });
    // 250 deliveries, one a minute, every tenth one failed: three pages of 100.
    github.addDeliveries(
      REPO,
      HOOK,
      Array.from({ length: 250 }, (_, i) => ({ guid: `g-${i}`, status_code: i % 10 === 0 ? 500 : 202, delivered_at: new Date(NOW - i * 60_000).toISOString() })),
    );
    const summary = await sweepWebhooks(deps());
    expect(summary.listed).toBe(250);
    expect(summary.redelivered).toHaveLength(25);
    const pages = github.requests.filter((r) => r.operationId === 'repos/list-webhook-deliveries');
    expect(pages).toHaveLength(3);
    expect(pages[1]!.query.cursor).toMatch(/^v1_\d+$/);
    const short = await sweepWebhooks(deps({ lookbackHours: 1 }));
    // The last hour's 61, plus the first sweep's 25 redeliveries (which succeeded: nothing to do).
    expect(short).toMatchObject({ listed: 61 + 25, failed: 0, redelivered: [] });
  });

  test('a redelivery that fails transiently is given back and retried by the next sweep', async () => {
    const shared = deps();
    github.failNext({ status: 502, operationId: 'repos/redeliver-webhook-delivery' });
    const first = await sweepWebhooks(shared);
    expect(first.errors).toHaveLength(1);
    expect(first.redelivered).toEqual(['timed-out', 'held-by-intake']);
    const second = await sweepWebhooks(shared);
    expect(second.redelivered).toEqual(['failed-502']);
    expect(github.redeliveries.map((r) => r.guid).sort()).toEqual(['failed-502', 'held-by-intake', 'timed-out']);
  });

  test('a hook that cannot be listed is reported, not thrown', async () => {
    const summary = await sweepWebhooks(deps({ hooks: [{ repository: REPO, hookId: HOOK }, { repository: 'not-a-repo', hookId: 1 }] }));
    expect(summary.redelivered).toHaveLength(3);
    expect(summary.errors).toEqual(['failed to list deliveries of not-a-repo hook 1: invalid GitHub repository "not-a-repo": expected owner/name']);
  });

  test('the next-page cursor comes from the link header', () => {
    expect(nextCursor('<https://api.github.com/repositories/1/hooks/2/deliveries?per_page=100&cursor=v1_42>; rel="next"')).toBe('v1_42');
    expect(nextCursor(undefined)).toBeUndefined();
  });
});

describe('webhook sweep on GitLab (17.4+: list webhook events, resend)', () => {
  let gitlab: FakeGitLab;
  beforeEach(async () => {
    gitlab = await FakeGitLab.start({ token: 'glpat-0123456789abcdefghij' });
  });
  afterEach(async () => {
    expect(gitlab.violations).toEqual([]);
    await gitlab.close();
  });

  test('an event intake accepted but whose answer was lost is not resent: both name it by its Idempotency-Key', async () => {
    const project = 'acme/platform/shop';
    const [held] = gitlab.addHookEvents(project, 9, [{ eventUuid: 'event-uuid-1', idempotencyKey: 'idempotency-key-1', responseStatus: 504 }]);
    // The delivery id intake recorded for those very request headers (it reads them lower-cased).
    const headers = Object.fromEntries(Object.entries(held!.request_headers).map(([name, value]) => [name.toLowerCase(), value]));
    const recorded = gitlabReceiver('token').deliveryId(headers);
    const result = await sweepWebhooks(deps({ github: gitlabHooksApi({ token: 'glpat-0123456789abcdefghij', baseUrl: gitlab.url }), hooks: [{ repository: project, hookId: 9 }], isKnownDelivery: async (guid) => guid === recorded }));
    expect(recorded).toBe('idempotency-key-1');
    expect(result.redelivered).toEqual([]);
    expect(gitlab.resent).toEqual([]);
  });

  test('failed events are resent once each across two sweeps; GitLab limits resends to five a minute', async () => {
    const project = 'acme/platform/shop';
    gitlab.addHookEvents(project, 9, [
      { eventUuid: 'ok', responseStatus: 202 },
      ...Array.from({ length: 7 }, (_, i) => ({ eventUuid: `failed-${i}`, responseStatus: i % 2 ? 500 : 'internal error' })),
    ]);
    const shared = deps({ github: gitlabHooksApi({ token: 'glpat-0123456789abcdefghij', baseUrl: gitlab.url }), hooks: [{ repository: project, hookId: 9 }] });
    const first = await sweepWebhooks(shared);
    expect(first.redelivered).toHaveLength(5);
    expect(first.errors).toHaveLength(2); // 429: given back for the next sweep
    const second = await sweepWebhooks(shared);
    expect(second).toMatchObject({ failed: 2, redelivered: [], errors: expect.arrayContaining([expect.stringContaining('resend')]) });
    expect(gitlab.resent).toHaveLength(5);
    expect(new Set(gitlab.resent.map((r) => r.eventId)).size).toBe(5);
  });
});
