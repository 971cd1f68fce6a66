import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Subscription } from '../../shared/bus/bus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import type { RunFinished } from '../../shared/contracts/index.js';
import { RUN_FINISHED_KEY, cancelRun, newRunRecord } from '../../shared/ledger/runLedger.js';
import { embeddedRuntime } from '../../shared/runtime/embeddedRuntime.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { MANIFEST } from '../../functions/stages.js';
import { EXIT_REFUSED, runDecision } from '../../cli/commands/approve.js';
import { runCancel } from '../../cli/commands/cancel.js';
import { deliver, newRun } from '../support/stages.js';
import { CONFIG_YAML, emulatorEnv, frontendBuilt, memoryLogger, runWaitingForApproval, waitFor } from '../approval/harness.js';

jest.setTimeout(60_000);

const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);

function output() {
  const lines: string[] = [];
  return { lines, text: () => lines.join(''), write: (text: string) => lines.push(text) };
}

/** A run of `shop` whose build succeeded and which now waits for its approval (no Slack: the request is only recorded). */
async function waitingRun(runtime: Runtime): Promise<string> {
  const runId = await runWaitingForApproval(runtime);
  expect((await runtime.ledger().getRun(runId))?.stages.approval?.status).toBe('waiting');
  return runId;
}

describe('cancelRun, the rule', () => {
  const plan = MANIFEST.plan;
  const at = '2026-12-01T10:00:00.000Z';
  const running = () => {
    const run = newRunRecord(newRun({ runId: 'shop-abc1234-1', after: 'a'.repeat(40), services: ['frontend'] }), new Date(at), { intake: { status: 'succeeded', startedAt: at, endedAt: at } });
    run.stages.mirror = { status: 'succeeded', startedAt: at, endedAt: at };
    run.stages.build = { status: 'running', startedAt: at, detail: 'frontend building' };
    return run;
  };

  test('ends a running run canceled: the open stage canceled, the ones never reached skipped, who and why in its reason and history, and its run-finished in the outbox', () => {
    const run = running();
    expect(cancelRun(run, 'cli:alice', 'wrong branch', plan(run), at)).toEqual({ outcome: 'canceled', status: 'canceled', reason: 'canceled by cli:alice: wrong branch' });
    expect(run).toMatchObject({ status: 'canceled', reason: 'canceled by cli:alice: wrong branch', finishPending: true, history: [{ at, by: 'cli:alice', note: 'canceled by cli:alice: wrong branch' }] });
    expect(run.stages.mirror).toEqual({ status: 'succeeded', startedAt: at, endedAt: at });
    expect(run.stages.build).toMatchObject({ status: 'canceled', endedAt: at, detail: 'frontend building; stopped: canceled by cli:alice: wrong branch' });
    const later = plan(run).slice(plan(run).indexOf('build') + 1);
    expect(later.length).toBeGreaterThan(0);
    for (const stage of later) expect(run.stages[stage]).toMatchObject({ status: 'skipped', detail: 'not run: canceled by cli:alice: wrong branch' });
    expect(run.outbox[RUN_FINISHED_KEY]?.event).toMatchObject({ type: 'run-finished', runId: run.runId, status: 'canceled', reason: 'canceled by cli:alice: wrong branch' });
  });

  test('leaves a run that has ended as it was, and says how it ended', () => {
    const run = running();
    cancelRun(run, 'cli:alice', undefined, plan(run), at);
    const canceled = structuredClone(run);
    expect(cancelRun(run, 'jenkins:bob', 'again', plan(run), at)).toEqual({ outcome: 'already-canceled', status: 'canceled', reason: 'canceled by cli:alice' });
    expect(run).toEqual(canceled);
    const failed = { ...running(), status: 'failed' as const, reason: 'build: frontend failed' };
    expect(cancelRun(failed, 'cli:alice', undefined, plan(failed), at)).toEqual({ outcome: 'ended', status: 'failed', reason: 'build: frontend failed' });
    expect(failed.history).toEqual([]);
  });
});

describe('baton cancel against Pub/Sub + Firestore (emulators)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-cancel-'));
  const configFile = join(dir, 'baton.yaml');
  writeFileSync(configFile, CONFIG_YAML);
  const env = { ...emulatorEnv(), BATON_CONFIG: configFile };
  // The fixture runtime shares the CLI's Firestore collections and Pub/Sub topics; run ids are unique.
  const runtime = embeddedRuntime({ env, local: { workDir: dir, registry: '127.0.0.1:5000' }, log: memoryLogger() });
  const finished: RunFinished[] = [];
  let subscription: Subscription;
  beforeAll(async () => {
    subscription = await runtime.bus().subscribe('run-finished', `cancel-watch-${hex(10)}`, async (message) => {
      const decoded = decodeEvent('run-finished', message.data);
      if (decoded.ok) finished.push(decoded.event);
    });
  });
  afterAll(async () => {
    await subscription?.close({ remove: true });
    await runtime.bus().close();
    await runtime.ledger().close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a run waiting for approval ends canceled, its run-finished goes out at once, and neither an approval nor a late event moves it again', async () => {
    const runId = await waitingRun(runtime);
    const out = output();
    expect(await runCancel({ runId, as: 'alice', via: 'cli', reason: 'wrong branch' }, env, out)).toBe(0);
    expect(out.text()).toBe(`run ${runId} canceled: canceled by cli:alice: wrong branch\n`);
    await waitFor(() => finished.some((event) => event.runId === runId), 'run-finished');
    expect(finished.filter((event) => event.runId === runId)).toEqual([expect.objectContaining({ status: 'canceled', reason: 'canceled by cli:alice: wrong branch' })]);
    const run = (await runtime.ledger().getRun(runId))!;
    expect(run).toMatchObject({ status: 'canceled', finishPending: false, stages: { approval: { status: 'canceled' }, chart: { status: 'skipped' }, deploy: { status: 'skipped' } } });

    const approve = output();
    expect(await runDecision({ runId, action: 'approve', as: 'carol', via: 'cli' }, env, approve)).toBe(EXIT_REFUSED);
    expect(approve.text()).toContain('(it has canceled)');
    // A redelivered build-finished: the runner skips an ended run's events, so no stage starts.
    await deliver(runtime, 'promotion', 'build-finished', frontendBuilt(runId, run.after, run.builds.frontend!.image!));
    expect((await runtime.ledger().getRun(runId))?.stages).toEqual(run.stages);

    const again = output();
    expect(await runCancel({ runId, as: 'bob', via: 'cli', json: true }, env, again)).toBe(0);
    expect(JSON.parse(again.text())).toMatchObject({ runId, outcome: 'already-canceled', status: 'canceled', reason: 'canceled by cli:alice: wrong branch' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(finished.filter((event) => event.runId === runId)).toHaveLength(1);
  });

  test('a build that cannot be stopped is reported, and the run stays canceled (here its pipeline has left the config)', async () => {
    const after = hex(40);
    const runId = `retired-${after.slice(0, 7)}-${hex(8)}`;
    await runtime.ledger().createRun(newRun({ runId, pipeline: 'retired', after, services: ['frontend'] }), new Date(), { build: { status: 'running', startedAt: new Date().toISOString() } }, {});
    await runtime.ledger().updateRun(runId, (run) => ((run.builds.frontend = { buildId: 'b-live', status: 'WORKING' }), true));
    const out = output();
    expect(await runCancel({ runId, as: 'alice', via: 'cli', json: true }, env, out)).toBe(0);
    expect(JSON.parse(out.text())).toMatchObject({ outcome: 'canceled', stoppedBuilds: [], problems: [`failed to stop the builds of frontend: pipeline retired is not in ${configFile}`] });
    expect(await runtime.ledger().getRun(runId)).toMatchObject({ status: 'canceled', stages: { build: { status: 'canceled' } }, builds: { frontend: { status: 'WORKING' } } });
    await waitFor(() => finished.some((event) => event.runId === runId), 'run-finished');
  });

  test("a Terraform run's plan build is left to finish (a killed terraform can keep its state lock)", async () => {
    const after = hex(40);
    const runId = `infra-${after.slice(0, 7)}-${hex(8)}`;
    await runtime.ledger().createRun(newRun({ runId, pipeline: 'infra', kind: 'terraform', after, services: ['terraform/envs/poc'] }), new Date(), { build: { status: 'running', startedAt: new Date().toISOString() } }, {});
    await runtime.ledger().updateRun(runId, (run) => ((run.builds['terraform/envs/poc'] = { buildId: 'plan-1', status: 'WORKING' }), true));
    const out = output();
    expect(await runCancel({ runId, as: 'alice', via: 'cli', json: true }, env, out)).toBe(0);
    const result = JSON.parse(out.text()) as Record<string, unknown>;
    expect(result).toMatchObject({ outcome: 'canceled', stoppedBuilds: [] });
    expect(result.problems).toBeUndefined();
    expect(await runtime.ledger().getRun(runId)).toMatchObject({ status: 'canceled', builds: { 'terraform/envs/poc': { status: 'WORKING' } } });
  });

  test('a run that ended otherwise, or none at all, is refused with exit 2 and nothing changes', async () => {
    const runId = await waitingRun(runtime);
    expect(await runDecision({ runId, action: 'reject', as: 'carol', via: 'cli', reason: 'no' }, env, output())).toBe(0);
    await waitFor(async () => (await runtime.ledger().getRun(runId))?.status === 'rejected', 'the rejection');
    const before = await runtime.ledger().getRun(runId);
    const out = output();
    expect(await runCancel({ runId, as: 'alice', via: 'cli' }, env, out)).toBe(EXIT_REFUSED);
    expect(out.text()).toMatch(new RegExp(`^refused \\(ended\\): run ${runId} had already ended \\(rejected: `));
    expect(await runtime.ledger().getRun(runId)).toEqual(before);
    const missing = output();
    expect(await runCancel({ runId: 'shop-nosuchrun', as: 'alice', via: 'cli' }, env, missing)).toBe(EXIT_REFUSED);
    expect(missing.text()).toBe('refused (not-found): run shop-nosuchrun not found\n');
  });
});

describe('baton cancel beside a plain embedded baton dev (SQLite file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-cancel-dev-'));
  const configFile = join(dir, 'baton.yaml');
  writeFileSync(configFile, CONFIG_YAML);
  // baton dev's runtime, on the file the CLI opens under BATON_HOME.
  const runtime = embeddedRuntime({ env: { BATON_CONFIG: configFile }, local: { workDir: dir, registry: '127.0.0.1:5000' }, ledgerFile: join(dir, 'ledger.sqlite'), log: memoryLogger() });
  const env = { BATON_HOME: dir, BATON_CONFIG: configFile, PATH: process.env.PATH };
  afterAll(async () => {
    await runtime.bus().close();
    await runtime.ledger().close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the baton binary cancels through the shared ledger file (exit 0, then 2 for a run that ended otherwise), and leaves run-finished to baton dev\'s reconciler', async () => {
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['dist/cli/baton.js', ...args], { env }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
    const runId = await waitingRun(runtime);
    const canceled = await run('cancel', runId, '--as', 'cli:alice', '--reason', 'not now', '--json');
    expect(canceled.code).toBe(0);
    expect(JSON.parse(canceled.stdout)).toEqual({ runId, outcome: 'canceled', status: 'canceled', reason: 'canceled by cli:alice: not now', stoppedBuilds: [], message: `run ${runId} canceled: canceled by cli:alice: not now` });
    // Written by another process: this one reads it from the file, its end still to be announced.
    const record = await runtime.ledger().getRun(runId);
    expect(record).toMatchObject({ status: 'canceled', finishPending: true, stages: { approval: { status: 'canceled' } } });
    expect(record?.outbox[RUN_FINISHED_KEY]).toMatchObject({ event: { status: 'canceled' } });
    expect(record?.outbox[RUN_FINISHED_KEY]?.publishedAt).toBeUndefined();
    expect(await runtime.ledger().listRunsAwaitingFinish(10)).toEqual([expect.objectContaining({ runId })]);

    const other = await waitingRun(runtime);
    await runtime.ledger().updateRun(other, (current) => ((current.status = 'succeeded'), true));
    const refused = await run('cancel', other, '--as', 'alice');
    expect(refused).toEqual({ code: EXIT_REFUSED, stdout: `refused (ended): run ${other} had already ended (succeeded)\n` });
  });
});
