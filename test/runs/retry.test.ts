import { jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from '../../shared/bus/bus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import type { PushReceived } from '../../shared/contracts/index.js';
import { RunOrder } from '../../shared/contracts/envelope.js';
import { embeddedRuntime } from '../../shared/runtime/embeddedRuntime.js';
import { httpStageTarget } from '../../shared/stage/runner.js';
import { MANIFEST } from '../../functions/stages.js';
import { webhookIntake } from '../../functions/webhookIntake/stage.js';
import { pushAttempts, retryOrder, retryRunId } from '../../functions/webhookIntake/retry.js';
import { formatStatus } from '../../cli/runs/format.js';
import { EXIT_REFUSED } from '../../cli/commands/approve.js';
import { runRetry } from '../../cli/commands/retry.js';
import { githubHeaders, githubPushPayload } from '../../standins/gitHost.js';
import { newRun } from '../support/stages.js';
import { CONFIG_YAML, emulatorEnv, memoryLogger, waitFor } from '../approval/harness.js';

jest.setTimeout(60_000);

const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);
const SECRET = 'retry-test-webhook-secret';

function output() {
  const lines: string[] = [];
  return { text: () => lines.join(''), write: (text: string) => lines.push(text) };
}

describe('retry ids and orders', () => {
  test("an attempt sorts right after the push's first run and before any later push, attempt 10 after attempt 9", () => {
    const first = '2026-12-01T10:00:00.000Z~shop-abc1234-0badf00d';
    const later = '2026-12-01T10:00:00.001Z~shop-def5678-00000001';
    const orders = [later, retryOrder(first, 10), retryOrder(first, 2), first, retryOrder(first, 9)];
    expect([...orders].sort()).toEqual([first, retryOrder(first, 2), retryOrder(first, 9), retryOrder(first, 10), later]);
    expect(RunOrder.safeParse(retryOrder(first, 2)).success).toBe(true);
    expect(retryRunId('shop-abc1234-0badf00d', 2)).toBe('shop-abc1234-0badf00d-r2');
  });
});

describe('baton retry against Pub/Sub + Firestore (emulators)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-retry-'));
  const configFile = join(dir, 'baton.yaml');
  writeFileSync(configFile, CONFIG_YAML);
  const env = { ...emulatorEnv(), BATON_CONFIG: configFile, GITHUB_WEBHOOK_SECRET: SECRET };
  // The fixture runtime shares the CLI's Firestore collections and Pub/Sub topics; run ids are unique.
  const runtime = embeddedRuntime({ env, local: { workDir: dir, registry: '127.0.0.1:5000' }, log: memoryLogger() });
  const intake = httpStageTarget(webhookIntake, runtime, MANIFEST);
  const pushes: PushReceived[] = [];
  let subscription: Subscription;
  beforeAll(async () => {
    subscription = await runtime.bus().subscribe('push-received', `retry-watch-${hex(10)}`, async (message) => {
      const decoded = decodeEvent('push-received', message.data);
      if (decoded.ok) pushes.push(decoded.event);
    });
  });
  afterAll(async () => {
    await subscription?.close({ remove: true });
    await runtime.bus().close();
    await runtime.ledger().close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A push of frontend to shop, through intake as a webhook starts it; resolves with its run id once its push-received arrived. */
  async function pushed(): Promise<string> {
    const after = hex(40);
    const body = Buffer.from(
      JSON.stringify(
        githubPushPayload({
          repository: 'acme/shop',
          cloneUrl: 'https://github.com/acme/shop.git',
          ref: 'refs/heads/main',
          before: hex(40),
          after,
          commits: [{ id: after, message: 'frontend: retry me', author: { name: 'erin', email: 'erin@example.com' }, modified: ['src/frontend/main.go'] }],
        }),
      ),
    );
    const headers = Object.fromEntries(Object.entries(githubHeaders(SECRET, body, 'push', randomUUID())).map(([name, value]) => [name.toLowerCase(), String(value)]));
    const response = await intake({ method: 'POST', path: '/webhookIntake', headers, rawBody: body }, runtime);
    expect(response.status).toBe(202);
    const { runId } = response.body as { runId: string };
    await waitFor(() => pushes.some((event) => event.runId === runId), 'the push-received');
    return runId;
  }

  const fail = (runId: string) => runtime.ledger().recordStage(runId, 'build', { status: 'failed', detail: 'frontend: step 3 exited 1' }, MANIFEST.plan);
  const published = (runId: string) => pushes.filter((event) => event.runId === runId);

  test('a failed run is run again as attempt 2: the same push under a new id, ordered right after it, published once, planned from the config of today', async () => {
    const first = await pushed();
    await fail(first);
    const original = (await runtime.ledger().getRun(first))!;
    expect(original.status).toBe('failed');

    const out = output();
    expect(await runRetry({ runId: first, as: 'alice', via: 'cli', reason: 'flaky test' }, env, out)).toBe(0);
    const retryId = `${first}-r2`;
    expect(out.text()).toBe(`run ${retryId} started: attempt 2 of ${first}, retried by cli:alice: flaky test\n`);
    const retry = (await runtime.ledger().getRun(retryId))!;
    expect(retry).toMatchObject({
      status: 'running',
      pipeline: 'shop',
      order: `${original.order}~0002`,
      after: original.after,
      before: original.before,
      deliveryId: original.deliveryId,
      services: ['frontend'],
      plan: MANIFEST.runPlan(runtime.config().pipelines.find((p) => p.name === 'shop')!),
      retry: { runId: first, attempt: 2, by: 'cli:alice', reason: 'flaky test' },
      stages: { intake: { status: 'succeeded', detail: `attempt 2 of ${first}, retried by cli:alice: flaky test` } },
    });
    expect(retry.stages.build).toBeUndefined();
    expect(retry.outbox['push-received']?.publishedAt).toBeDefined();
    // The original is left as it ended.
    expect(await runtime.ledger().getRun(first)).toEqual(original);

    await waitFor(() => published(retryId).length > 0, 'the retry\'s push-received');
    const [event] = published(retryId);
    const [before] = published(first);
    expect(event).toEqual({ ...before, runId: retryId, order: `${original.order}~0002`, at: retry.createdAt });

    // Asked again while attempt 2 runs: the same attempt, nothing published twice.
    const again = output();
    expect(await runRetry({ runId: first, as: 'bob', via: 'cli', json: true }, env, again)).toBe(0);
    expect(JSON.parse(again.text())).toEqual({ ok: true, outcome: 'already-retrying', runId: retryId, retryOf: first, attempt: 2, message: `run ${first} is already being retried as ${retryId}` });
    const itself = output();
    expect(await runRetry({ runId: retryId, as: 'bob', via: 'cli' }, env, itself)).toBe(EXIT_REFUSED);
    expect(itself.text()).toBe(`refused (running): run ${retryId} is still running: cancel it first (baton cancel ${retryId})\n`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(published(retryId)).toHaveLength(1);

    // Attempt 2 fails too: a retry of either attempt is attempt 3 of the first run, still ordered after it.
    await fail(retryId);
    const third = output();
    expect(await runRetry({ runId: retryId, as: 'bob', via: 'jenkins', json: true }, env, third)).toBe(0);
    expect(JSON.parse(third.text())).toMatchObject({ ok: true, outcome: 'started', runId: `${first}-r3`, retryOf: first, attempt: 3 });
    expect(await runtime.ledger().getRun(`${first}-r3`)).toMatchObject({ order: `${original.order}~0003`, retry: { runId: first, attempt: 3, by: 'jenkins:bob' } });
    await waitFor(() => published(`${first}-r3`).length > 0, 'attempt 3\'s push-received');

    // baton status lists every attempt of the push, from any of them.
    const attempts = await pushAttempts(runtime.ledger(), (await runtime.ledger().getRun(retryId))!);
    expect(attempts.map(({ attempt, run }) => [attempt, run.runId, run.status])).toEqual([
      [1, first, 'failed'],
      [2, retryId, 'failed'],
      [3, `${first}-r3`, 'running'],
    ]);
    expect(formatStatus((await runtime.ledger().getRun(retryId))!, new Date(), attempts)).toContain(`\nattempts: 1. ${first} failed · 2. ${retryId} failed (this one) · 3. ${first}-r3 running\n`);
    expect(formatStatus(original, new Date(), [attempts[0]!])).not.toContain('attempts:');
  });

  test('an attempt whose start a crash cut off (written, never published) is published when the retry is asked again', async () => {
    const first = await pushed();
    await fail(first);
    const original = (await runtime.ledger().getRun(first))!;
    const second = `${first}-r2`;
    // As retryRun leaves it when its process dies right after the write (retry:after-ledger-write).
    const event = { ...original.outbox['push-received']!.event, runId: second, order: `${original.order}~0002` };
    const at = new Date();
    await runtime.ledger().createRun(
      newRun({ runId: second, after: original.after, services: ['frontend'], order: `${original.order}~0002`, retry: { runId: first, attempt: 2, by: 'cli:alice' } }),
      at,
      { intake: { status: 'succeeded', startedAt: at.toISOString(), endedAt: at.toISOString() } },
      { 'push-received': { topic: 'push-received', event, at: at.toISOString() } },
    );
    const out = output();
    expect(await runRetry({ runId: first, as: 'alice', via: 'cli' }, env, out)).toBe(0);
    expect(out.text()).toBe(`run ${first} is already being retried as ${second} (its start, cut off, was published again)\n`);
    await waitFor(() => published(second).length > 0, 'the attempt\'s push-received');
    expect((await runtime.ledger().getRun(second))?.outbox['push-received']?.publishedAt).toBeDefined();
    // Published now, it is the bus's: asking once more publishes nothing.
    const again = output();
    expect(await runRetry({ runId: first, as: 'alice', via: 'cli' }, env, again)).toBe(0);
    expect(again.text()).toBe(`run ${first} is already being retried as ${second}\n`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(published(second)).toHaveLength(1);
  });

  test('a run still running, a rollback, a pipeline no longer configured and an unknown run are refused with exit 2, and nothing is written', async () => {
    const running = await pushed();
    const out = output();
    expect(await runRetry({ runId: running, as: 'alice', via: 'cli' }, env, out)).toBe(EXIT_REFUSED);
    expect(out.text()).toBe(`refused (running): run ${running} is still running: cancel it first (baton cancel ${running})\n`);
    expect(await runtime.ledger().getRun(`${running}-r2`)).toBeUndefined();

    const rollbackId = `shop-rollback-prod-${hex(8)}`;
    await runtime.ledger().createRun(newRun({ runId: rollbackId, after: hex(40), rollback: { environment: 'prod', toRunId: running, reason: 'errors', by: { id: 'alice', via: 'cli' } } }), new Date(), {}, {});
    await runtime.ledger().updateRun(rollbackId, (run) => ((run.status = 'succeeded'), true));
    const rollback = output();
    expect(await runRetry({ runId: rollbackId, as: 'alice', via: 'cli' }, env, rollback)).toBe(EXIT_REFUSED);
    expect(rollback.text()).toBe(`refused (not-a-push): run ${rollbackId} is a rollback, not a push: start another with baton rollback\n`);

    const retired = await pushed();
    await fail(retired);
    await runtime.ledger().updateRun(retired, (run) => ((run.pipeline = 'retired'), true));
    const gone = output();
    expect(await runRetry({ runId: retired, as: 'alice', via: 'cli' }, env, gone)).toBe(EXIT_REFUSED);
    expect(gone.text()).toBe(`refused (no-pipeline): pipeline retired is not in ${configFile}\n`);

    const missing = output();
    expect(await runRetry({ runId: 'shop-nosuchrun', as: 'alice', via: 'cli' }, env, missing)).toBe(EXIT_REFUSED);
    expect(missing.text()).toBe('refused (not-found): run shop-nosuchrun not found\n');
    for (const runId of [rollbackId, retired, 'shop-nosuchrun']) expect(await runtime.ledger().getRun(`${runId}-r2`)).toBeUndefined();
  });
});
