import { jest } from '@jest/globals';
import { decide } from '../../domain/approval/decide.js';
import { expireStale } from '../../domain/approval/expiry.js';
import { signToken } from '../../domain/approval/token.js';
import { FakeSlack, blockActionsBody, slackSignedHeaders } from '../../standins/slackApi.js';
import type { FakeSlackMessage } from '../../standins/slackApi.js';
import { cancelRun, endRun } from '../../shared/ledger/runLedger.js';
import { MANIFEST } from '../../functions/stages.js';
import { MODES, SECRETS, USERS, startHarness } from './harness.js';
import type { Harness } from './harness.js';

jest.setTimeout(60_000);

const shuffle = <T>(items: T[]): T[] =>
  items
    .map((item) => ({ item, key: Math.random() }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);

describe.each(MODES)('approval on %s', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** What must hold after a refused request: no decision, no message change, still waiting. */
  async function expectUnchanged(runId: string, message: FakeSlackMessage): Promise<void> {
    await h.settle();
    expect(h.decided.of(runId)).toHaveLength(0);
    expect(await h.ledger.getClaim(`decision:${runId}`)).toBeUndefined();
    expect(message.updates).toBe(0);
    expect(h.fake.buttons(message)).toHaveLength(2);
    const run = await h.ledger.getRun(runId);
    expect(run?.stages.approval?.status).toBe('waiting');
    expect(run?.status).toBe('running');
  }

  test('a successful run posts exactly one message, even with duplicated and shuffled build-finished', async () => {
    const run = await h.createRun();
    const events = run.services.map((service) => h.buildEvent(run, service));
    for (const event of shuffle([...events, ...events, ...events])) await h.publishBuild(event);
    await h.settle(() => h.requested.of(run.runId).length > 0, 'approval-requested');
    // A late duplicate after the question is out changes nothing either.
    await h.publishBuild(events[0]!);
    await h.settle();

    const posts = h.fake.callsTo('chat.postMessage').filter((call) => String(call.args.text).includes(run.runId));
    expect(posts).toHaveLength(1);
    expect(posts[0]!.authorized).toBe(true);
    expect(posts[0]!.args.channel).toBe('C0DEPLOYS');
    const message = h.questionFor(run)!;
    const text = FakeSlack.textOf(message);
    expect(text).toContain('acme/shop');
    expect(text).toContain('main');
    expect(text).toContain(run.after.slice(0, 12));
    expect(text).toContain('alice');
    expect(text).toContain('&lt;cart&gt; &amp; checkout'); // pushed text is escaped for mrkdwn
    expect(text).toContain(`<${run.compareUrl}|Compare changes>`);
    for (const event of events) {
      expect(text).toContain(event.image!.digest);
      expect(text).toContain(`<${event.logUrl}|build logs>`);
    }
    const buttons = h.fake.buttons(message);
    expect(buttons.map((button) => button.text)).toEqual(['Approve', 'Reject']);
    expect(buttons.every((button) => button.value.startsWith('v1.') && button.value.length < 2000)).toBe(true);

    const requested = h.requested.of(run.runId);
    expect(requested).toHaveLength(1);
    expect(requested[0]).toMatchObject({ channel: 'C0DEPLOYS', ts: message.ts, pipeline: 'shop' });
    expect(requested[0]!.images.map((image) => image.digest).sort()).toEqual(events.map((event) => event.image!.digest).sort());
    const stored = await h.ledger.getRun(run.runId);
    expect(stored?.stages.build?.status).toBe('succeeded');
    expect(stored?.stages.approval?.status).toBe('waiting');
  });

  test('a failed build posts one failure message with no buttons, and nothing can be approved', async () => {
    const run = await h.createRun();
    const failed = h.buildEvent(run, 'cartservice', 'FAILURE');
    const ok = h.buildEvent(run, 'frontend');
    for (const event of shuffle([failed, failed, ok, ok])) await h.publishBuild(event);
    await h.settle(async () => (await h.ledger.getRun(run.runId))?.stages.approval?.status === 'skipped' && h.questionFor(run) !== undefined, 'the failure report');

    const messages = h.fake.messages.filter((message) => message.text.includes(run.after.slice(0, 7)));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.text).toMatch(/^Build failed/);
    expect(h.fake.buttons(messages[0]!)).toHaveLength(0);
    expect(FakeSlack.textOf(messages[0]!)).toContain('step 2 exited with 1');
    const stored = await h.ledger.getRun(run.runId);
    expect(stored?.stages.build?.status).toBe('failed');
    expect(stored?.stages.approval?.status).toBe('skipped');
    expect(stored?.status).toBe('failed');
    expect(h.requested.of(run.runId)).toHaveLength(0);
    const outcome = await decide({ runId: run.runId, action: 'approve', decider: { id: 'carol', via: 'cli' } }, h.decideDeps());
    expect(outcome.outcome).toBe('not-awaiting-approval');
  });

  test('a Slack error fails the delivery, the bus retries, and the question is still posted once', async () => {
    const run = await h.createRun('strict');
    h.fake.failNext('chat.postMessage', { error: 'internal_error' });
    const message = await h.requestApproval(run);
    await h.settle();
    const attempts = h.fake.callsTo('chat.postMessage').filter((call) => String(call.args.text).includes(run.runId));
    expect(attempts).toHaveLength(2);
    expect(h.fake.messages.filter((candidate) => candidate.text.includes(run.runId))).toEqual([message]);
    expect(h.requested.of(run.runId)).toHaveLength(1);
  });

  test('an approved click gives one approval-decided bound to the digests shown, and the message says who and when', async () => {
    const run = await h.createRun();
    const message = await h.requestApproval(run);
    const shown = h.requested.of(run.runId)[0]!.images;
    const doubleClick = h.laterClick(message, 'approve', USERS.bob);

    const response = await h.click(message, 'approve', USERS.alice);
    expect(response.status).toBe(200);
    expect(response.ms).toBeLessThan(3_000);
    await h.settle(() => h.decided.of(run.runId).length > 0, 'approval-decided');

    const decided = h.decided.of(run.runId);
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({ decision: 'approved', decidedBy: { id: 'U0ALICE', name: 'alice', via: 'slack' }, sha: run.after, order: run.order });
    expect(decided[0]!.images).toEqual(shown);
    expect(message.updates).toBe(1);
    expect(h.fake.buttons(message)).toHaveLength(0);
    const text = FakeSlack.textOf(message);
    expect(text).toContain('*Approved* by <@U0ALICE> at <!date^');
    const stored = await h.ledger.getRun(run.runId);
    expect(stored?.stages.approval).toMatchObject({ status: 'succeeded', detail: 'approved by alice via slack' });

    // A second click (the double click) changes nothing and says who decided.
    const again = await doubleClick();
    expect(again.status).toBe(200);
    await h.settle();
    expect(h.decided.of(run.runId)).toHaveLength(1);
    expect(message.updates).toBe(1);
    expect(h.fake.ephemerals.at(-1)).toMatchObject({ user: 'U0BOB', channel: 'C0DEPLOYS' });
    expect(h.fake.ephemerals.at(-1)!.text).toContain('already approved by alice via slack');
  });

  test('a rejected click records the rejection and publishes it once', async () => {
    const run = await h.createRun();
    const message = await h.requestApproval(run);
    expect((await h.click(message, 'reject', USERS.bob)).status).toBe(200);
    await h.settle(() => h.decided.of(run.runId).length > 0, 'approval-decided');
    expect(h.decided.of(run.runId)).toHaveLength(1);
    expect(h.decided.of(run.runId)[0]).toMatchObject({ decision: 'rejected', decidedBy: { id: 'U0BOB', via: 'slack' } });
    expect((await h.ledger.getRun(run.runId))?.status).toBe('rejected');
    expect(FakeSlack.textOf(message)).toContain('*Rejected* by <@U0BOB>');
  });

  describe('hostile callbacks change nothing and get the documented answer', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<{ name: string; status: number; ephemeral?: RegExp; request: (message: FakeSlackMessage, runId: string) => { headers: Record<string, string>; rawBody: string } }> = [
      {
        name: 'bad signature',
        status: 401,
        request: (message) => {
          const rawBody = bodyFor(message, 'approve');
          return { headers: slackSignedHeaders(rawBody, 'not-the-signing-secret'), rawBody };
        },
      },
      {
        name: 'timestamp 301 s in the past (replay)',
        status: 401,
        request: (message) => {
          const rawBody = bodyFor(message, 'approve');
          return { headers: slackSignedHeaders(rawBody, SECRETS.signing, now() - 301), rawBody };
        },
      },
      {
        name: 'timestamp 10 min in the future',
        status: 401,
        request: (message) => {
          const rawBody = bodyFor(message, 'approve');
          return { headers: slackSignedHeaders(rawBody, SECRETS.signing, now() + 600), rawBody };
        },
      },
      {
        name: 'body tampered after signing (user swapped for an approver)',
        status: 401,
        request: (message) => {
          const signed = bodyFor(message, 'approve', USERS.mallory);
          return { headers: slackSignedHeaders(signed, SECRETS.signing), rawBody: bodyFor(message, 'approve', USERS.alice) };
        },
      },
      {
        name: 'no signature headers',
        status: 401,
        request: (message) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: bodyFor(message, 'approve') }),
      },
      {
        name: 'signature without the v0= prefix',
        status: 401,
        request: (message) => {
          const rawBody = bodyFor(message, 'approve');
          const headers = slackSignedHeaders(rawBody, SECRETS.signing);
          return { headers: { ...headers, 'x-slack-signature': headers['x-slack-signature']!.slice(3) }, rawBody };
        },
      },
      {
        name: 'a user who is not an approver',
        status: 200,
        ephemeral: /not allowed/,
        request: (message) => signed(bodyFor(message, 'approve', USERS.mallory)),
      },
      {
        name: 'a token forged with another key',
        status: 200,
        ephemeral: /does not match run .* \(bad-signature\)/,
        request: (message, runId) => signed(rawClick(message, 'baton.approve', signToken({ run: runId, act: 'approve', dig: 'x', exp: now() + 600 }, 'guessed-key'))),
      },
      {
        name: 'a token for other digests',
        status: 200,
        ephemeral: /\(wrong-digests\)/,
        request: (message, runId) => signed(rawClick(message, 'baton.approve', signToken({ run: runId, act: 'approve', dig: 'other-images', exp: now() + 600 }, SECRETS.approval))),
      },
      {
        name: 'the Reject token sent as Approve',
        status: 200,
        ephemeral: /\(wrong-action\)/,
        request: (message) => signed(rawClick(message, 'baton.approve', h.fake.buttons(message)[1]!.value)),
      },
      {
        name: 'a button value that is no token',
        status: 200,
        ephemeral: /does not carry a baton token/,
        request: (message) => signed(rawClick(message, 'baton.approve', 'approve-please')),
      },
    ];

    function bodyFor(message: FakeSlackMessage, action: 'approve' | 'reject', user = USERS.alice): string {
      const button = h.fake.buttons(message)[action === 'approve' ? 0 : 1]!;
      return blockActionsBody({ user, actionId: button.action_id, value: button.value, channel: message.channel, messageTs: message.ts });
    }
    function rawClick(message: FakeSlackMessage, actionId: string, value: string): string {
      return blockActionsBody({ user: USERS.alice, actionId, value, channel: message.channel, messageTs: message.ts });
    }
    function signed(rawBody: string) {
      return { headers: slackSignedHeaders(rawBody, SECRETS.signing), rawBody };
    }

    test.each(cases)('$name → $status', async ({ request, status, ephemeral }) => {
      const run = await h.createRun();
      const message = await h.requestApproval(run);
      const before = h.fake.ephemerals.length;
      const { headers, rawBody } = request(message, run.runId);
      const response = await h.post(headers, rawBody);
      expect(response.status).toBe(status);
      await expectUnchanged(run.runId, message);
      if (ephemeral) {
        expect(h.fake.ephemerals.slice(before)).toHaveLength(1);
        expect(h.fake.ephemerals.at(-1)!.text).toMatch(ephemeral);
      } else {
        expect(h.fake.ephemerals.length).toBe(before);
      }
      // The run can still be approved properly afterwards.
      await h.click(message, 'approve', USERS.alice);
      await h.settle(() => h.decided.of(run.runId).length > 0, 'the legitimate approval');
      expect(h.decided.of(run.runId)).toHaveLength(1);
    });
  });

  test('the pusher may not approve their own run when self-approval is off; another approver may', async () => {
    const run = await h.createRun('strict');
    const message = await h.requestApproval(run);
    const response = await h.click(message, 'approve', USERS.alice);
    expect(response.status).toBe(200);
    await expectUnchanged(run.runId, message);
    expect(h.fake.ephemerals.at(-1)).toMatchObject({ user: 'U0ALICE' });
    expect(h.fake.ephemerals.at(-1)!.text).toContain('you pushed this run');
    expect(h.fake.callsTo('users.info').some((call) => call.args.user === 'U0ALICE')).toBe(true);
    // The CLI identity of the same person is refused the same way.
    const cli = await decide({ runId: run.runId, action: 'approve', decider: { id: 'alice', via: 'cli' } }, h.decideDeps());
    expect(cli.outcome).toBe('self-approval');

    await h.click(message, 'approve', USERS.bob);
    await h.settle(() => h.decided.of(run.runId).length > 0, 'the approval by bob');
    expect(h.decided.of(run.runId)[0]!.decidedBy.id).toBe('U0BOB');
  });

  test('N simultaneous clicks by two approvers give exactly one decision', async () => {
    const run = await h.createRun();
    const message = await h.requestApproval(run);
    const clicks = Array.from({ length: 12 }, (_, i) => h.click(message, i % 3 === 2 ? 'reject' : 'approve', i % 2 ? USERS.alice : USERS.bob));
    const responses = await Promise.all(clicks);
    expect(responses.every((response) => response.status === 200)).toBe(true);
    await h.settle(() => h.decided.of(run.runId).length > 0, 'the one decision');
    expect(h.decided.of(run.runId)).toHaveLength(1);
    expect(message.updates).toBe(1);
    const claim = (await h.ledger.getRun(run.runId))?.decisions?.default;
    expect(claim?.decision).toBe(h.decided.of(run.runId)[0]!.decision);
    expect(claim?.decidedBy.id).toBe(h.decided.of(run.runId)[0]!.decidedBy.id);
    expect(h.fake.ephemerals.filter((ephemeral) => ephemeral.text.includes(run.runId) && ephemeral.text.includes('already'))).toHaveLength(11);
  });

  test('a click after the request expired is refused, and the run is marked expired once', async () => {
    const run = await h.createRun('quick');
    const message = await h.requestApproval(run);
    const expiresAt = h.requested.of(run.runId)[0]!.expiresAt;
    const secondClick = h.laterClick(message, 'approve', USERS.alice);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiresAt) - Date.now()) + 50));

    expect((await h.click(message, 'approve', USERS.alice)).status).toBe(200);
    await h.settle(() => h.decided.of(run.runId).length > 0, 'the expiry');
    expect(h.decided.of(run.runId)).toHaveLength(1);
    expect(h.decided.of(run.runId)[0]).toMatchObject({ decision: 'expired', decidedBy: { via: 'system' } });
    expect(h.fake.ephemerals.at(-1)!.text).toContain('expired');
    const stored = await h.ledger.getRun(run.runId);
    expect(stored?.status).toBe('expired');
    expect(stored?.stages.approval?.status).toBe('expired');
    expect(FakeSlack.textOf(message)).toContain('*Expired* undecided');

    await secondClick();
    expect((await expireStale(h.decideDeps())).expired).not.toContain(run.runId);
    await h.settle();
    expect(h.decided.of(run.runId)).toHaveLength(1);
  });

  test('the expiry sweep expires requests nobody touched, once', async () => {
    const run = await h.createRun('quick');
    const message = await h.requestApproval(run);
    const deps = h.decideDeps();
    expect((await expireStale(deps)).expired).not.toContain(run.runId);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(h.requested.of(run.runId)[0]!.expiresAt) - Date.now()) + 50));
    const [first, second] = await Promise.all([expireStale(deps), expireStale(deps)]);
    expect([...first.expired, ...second.expired].filter((id) => id === run.runId)).toHaveLength(1);
    await h.settle(() => h.decided.of(run.runId).length > 0, 'the expiry');
    expect(h.decided.of(run.runId)).toHaveLength(1);
    expect(h.decided.of(run.runId)[0]!.decision).toBe('expired');
    expect((await h.ledger.getRun(run.runId))?.status).toBe('expired');
    expect(message.updates).toBe(1);
    expect((await h.ledger.approvals.listWaiting()).map((open) => open.runId)).not.toContain(run.runId);
  });

  test('a run canceled while it waits: one sweep closes its request, and the message says canceled instead of offering buttons', async () => {
    const run = await h.createRun();
    const message = await h.requestApproval(run);
    await h.ledger.updateRun(run.runId, (current) => cancelRun(current, 'cli:erin', 'wrong branch', MANIFEST.plan(current), new Date().toISOString()).outcome === 'canceled');
    const deps = h.decideDeps();
    const [first, second] = await Promise.all([expireStale(deps), expireStale(deps)]);
    expect([...first.closed, ...second.closed].filter((id) => id === run.runId)).toHaveLength(1);
    expect(message.updates).toBe(1);
    expect(h.fake.buttons(message)).toHaveLength(0);
    expect(FakeSlack.textOf(message)).toContain('*Canceled*: the run was stopped');
    expect(FakeSlack.textOf(message)).toContain('canceled by cli:erin: wrong branch');
    expect((await h.ledger.approvals.listWaiting()).map((open) => open.runId)).not.toContain(run.runId);
    expect((await expireStale(deps)).closed).not.toContain(run.runId);
    await h.settle();
    // The run stays as it ended, and nothing says a decision was made.
    expect(h.decided.of(run.runId)).toHaveLength(0);
    expect(await h.ledger.getRun(run.runId)).toMatchObject({ status: 'canceled', stages: { approval: { status: 'canceled' } } });
  });

  test('a run that ended otherwise while it waited (here failed by the reconciler): its request is closed as "the run ended first"', async () => {
    const run = await h.createRun();
    const message = await h.requestApproval(run);
    await h.ledger.updateRun(run.runId, (current) => (endRun(current, 'failed', 'approval: past its limit', MANIFEST.plan(current)), true));
    expect((await expireStale(h.decideDeps())).closed).toContain(run.runId);
    expect(FakeSlack.textOf(message)).toContain('*Closed*: the run ended first');
    expect(FakeSlack.textOf(message)).toContain('approval: past its limit');
  });

  test('a run superseded by a newer deploy is refused, and nothing is published', async () => {
    const run = await h.createRun();
    const message = await h.requestApproval(run);
    // Just after this run in the pipeline's order (and before any run created after it).
    await h.ledger.advanceDeployed('shop', 'cartservice', `${run.order}~a-newer-run`, 'a-newer-run');
    expect((await h.click(message, 'approve', USERS.alice)).status).toBe(200);
    await h.settle();
    expect(h.decided.of(run.runId)).toHaveLength(0);
    expect(h.fake.ephemerals.at(-1)!.text).toMatch(/superseded: cartservice already runs a newer deploy \(a-newer-run\)/);
    const stored = await h.ledger.getRun(run.runId);
    expect(stored?.status).toBe('superseded');
    expect(stored?.stages.approval?.status).toBe('superseded');
    expect(FakeSlack.textOf(message)).toContain('*Superseded*');
    expect(h.fake.buttons(message)).toHaveLength(0);
  });

  test('CLI and Jenkins deciders follow the same rules and are recorded by identity', async () => {
    const run = await h.createRun();
    const message = await h.requestApproval(run);
    const deps = h.decideDeps();
    const stranger = await decide({ runId: run.runId, action: 'approve', decider: { id: 'mallory', via: 'cli' } }, deps);
    expect(stranger.outcome).toBe('not-allowed');
    // A Slack approver's id typed into --as is not that approver.
    const impostor = await decide({ runId: run.runId, action: 'approve', decider: { id: 'U0ALICE', via: 'cli' } }, deps);
    expect(impostor.outcome).toBe('not-allowed');
    const jenkins = await decide({ runId: run.runId, action: 'approve', decider: { id: 'dave', name: 'Dave', via: 'jenkins' }, reason: 'input step' }, deps);
    expect(jenkins.outcome).toBe('decided');
    const late = await decide({ runId: run.runId, action: 'reject', decider: { id: 'carol', via: 'cli' } }, deps);
    expect(late).toMatchObject({ outcome: 'already-decided', decision: 'approved', decidedBy: { id: 'dave', via: 'jenkins' } });
    await h.settle(() => h.decided.of(run.runId).length > 0, 'the Jenkins approval');
    expect(h.decided.of(run.runId)).toHaveLength(1);
    expect(h.decided.of(run.runId)[0]).toMatchObject({ decidedBy: { id: 'dave', name: 'Dave', via: 'jenkins' }, reason: 'input step' });
    expect(FakeSlack.textOf(message)).toContain('*Approved* by Dave (jenkins)');
  });

  test('a slow Slack does not hold the answer past 3 s: the decision stands and the late update is logged', async () => {
    const run = await h.createRun();
    const message = await h.requestApproval(run);
    h.fake.delay('chat.update', 2_500);
    try {
      const response = await h.click(message, 'approve', USERS.alice);
      expect(response.status).toBe(200);
      expect(response.ms).toBeLessThan(2_500);
    } finally {
      h.fake.delay('chat.update', 0);
    }
    await h.settle(() => h.decided.of(run.runId).length > 0, 'approval-decided');
    expect(h.decided.of(run.runId)).toHaveLength(1);
    expect(h.logs.entries.some((entry) => entry.message === 'failed to show the decision in Slack' && entry.fields.runId === run.runId)).toBe(true);
  });

  test('no secret reaches a log line or an event', async () => {
    const logged = JSON.stringify(h.logs.entries);
    const published = JSON.stringify([...h.requested.all(), ...h.decided.all()]);
    for (const secret of Object.values(SECRETS)) {
      expect(logged).not.toContain(secret);
      expect(published).not.toContain(secret);
    }
    expect(h.logs.entries.length).toBeGreaterThan(0);
  });
});
