import { decodeEvent } from '../../shared/bus/events.js';
import type { RunFinished } from '../../shared/contracts/index.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { defineStage, on } from '../../shared/stage/declaration.js';
import { manifestOf, publishesOf } from '../../shared/stage/manifest.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';
import { scheduledStageTick } from '../../shared/stage/runner.js';
import { STAGES } from '../../functions/stages.js';
import { reconciler } from '../../functions/reconciler/stage.js';
import { stagesJson } from '../../functions/stagesJson.js';
import { testRuntime } from '../support/runtimes.js';
import { deliver, newRun, pushReceivedFor } from '../support/stages.js';

/**
 * Every end of a run is announced once on `run-finished`, whoever ended it: the write that ends
 * the run puts the event in the run's outbox, and whoever wrote it publishes it (the stage runner,
 * the reconciler), or the reconciler does for a writer that did not.
 */
const CONFIG = 'pipelines:\n  - { name: shop, repository: acme/shop, branches: [main], services: [{ name: frontend, path: src/frontend/ }] }\n';

/** A mirror stage whose handler the test scripts: it owns the run's `mirror` ledger stage. */
function scripted(behave: () => 'ok' | 'transient' | 'permanent' | 'skip-rest') {
  const handler = (_runtime: StageRuntime<'source-mirrored'>): TopicHandler<'push-received', 'source-mirrored'> => async () => {
    const what = behave();
    if (what === 'transient') throw new Error('the mirror remote is down');
    if (what === 'permanent') throw new PermanentError('the pushed commit is not in the source');
    if (what === 'skip-rest') return result.succeeded('mirrored', { skipRest: 'the push affects no service' });
    return result.succeeded('mirrored');
  };
  return defineStage({
    name: 'repoMirror',
    doc: 'a scripted mirror',
    ledgerStage: 'mirror',
    trigger: on.topics('push-received'),
    publishes: ['source-mirrored'],
    timeoutSeconds: 10,
    maxDeliveryAttempts: 5,
    load: async () => handler,
  });
}

async function setup(behave: () => 'ok' | 'transient' | 'permanent' | 'skip-rest' = () => 'ok') {
  const runtime = testRuntime('in-process', CONFIG);
  const manifest = manifestOf([...STAGES.filter((stage) => stage.name !== 'repoMirror'), scripted(behave)]);
  const finished: RunFinished[] = [];
  await runtime.bus().subscribe('run-finished', 'watch-run-finished', async (message) => {
    const decoded = decodeEvent('run-finished', message.data);
    if (decoded.ok) finished.push(decoded.event);
  });
  const runId = `shop-${Math.random().toString(36).slice(2, 8)}`;
  const after = 'a'.repeat(40);
  const run = newRun({ runId, after, services: ['frontend'] });
  await runtime.ledger().createRun(run, new Date(), { intake: { status: 'succeeded', startedAt: new Date().toISOString(), endedAt: new Date().toISOString() } }, {});
  const push = pushReceivedFor(run);
  const send = (attempt: number) => deliver(runtime, 'repoMirror', 'push-received', push, { deliveryAttempt: attempt, manifest });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
  return { runtime, manifest, runId, finished, send, settle };
}

test('a stage that fails in the runner ends the run with exactly one run-finished, whatever is redelivered', async () => {
  const { runtime, runId, finished, send, settle } = await setup(() => 'permanent');
  await send(1);
  await send(2);
  await settle();
  expect(finished).toEqual([expect.objectContaining({ type: 'run-finished', runId, pipeline: 'shop', status: 'failed', reason: 'mirror: the pushed commit is not in the source' })]);
  expect(finished[0]!.order).toMatch(new RegExp(`~${runId}$`));
  const run = await runtime.ledger().getRun(runId);
  expect(run?.outbox['run-finished']?.publishedAt).toBeDefined();
  expect(run?.finishPending).toBe(false);
});

test('the last delivery attempt ends the run with exactly one run-finished', async () => {
  const { runId, finished, send, settle } = await setup(() => 'transient');
  for (const attempt of [1, 2, 3, 4]) await expect(send(attempt)).rejects.toThrow('the mirror remote is down');
  await settle();
  expect(finished).toEqual([]);
  await expect(send(5)).rejects.toThrow('the mirror remote is down');
  // A redelivery of the same message (the bus's at-least-once) meets an ended run: acknowledged untouched.
  await send(5);
  await settle();
  expect(finished).toEqual([expect.objectContaining({ runId, status: 'failed', reason: 'mirror: gave up after 5 attempts: the mirror remote is down' })]);
});

test('skipRest ends the run as succeeded, announced once', async () => {
  const { runId, finished, send, settle } = await setup(() => 'skip-rest');
  await Promise.all([send(1), send(1)]);
  await settle();
  expect(finished).toEqual([expect.objectContaining({ runId, status: 'succeeded' })]);
  expect(finished[0]!.reason).toBeUndefined();
});

test('the reconciler failing a stuck run yields exactly one run-finished', async () => {
  const { runtime, manifest, runId, finished, settle } = await setup();
  // The mirror has been running for a day: far past its limit.
  const dayAgo = new Date(Date.now() - 86_400_000);
  await runtime.ledger().recordStage(runId, 'mirror', { status: 'running', detail: 'cloning', at: dayAgo }, manifest.plan);
  const tick = scheduledStageTick(reconciler, runtime, manifest);
  const first = await tick({ now: new Date(), startup: false });
  await tick({ now: new Date(), startup: false });
  await settle();
  expect(first).toMatchObject({ failed: [runId] });
  expect(finished).toEqual([expect.objectContaining({ runId, status: 'failed', reason: expect.stringContaining('mirror has been running since') })]);
});

test('an end that its writer never announced is announced by the reconciler, once', async () => {
  const { runtime, manifest, runId, finished, settle } = await setup();
  // A writer outside the runner (the CLI, or a process that died right after its write) ended the run long ago.
  const past = new Date(Date.now() - 60_000);
  await runtime.ledger().recordStage(runId, 'mirror', { status: 'failed', detail: 'killed', at: past }, manifest.plan);
  expect((await runtime.ledger().getRun(runId))?.finishPending).toBe(true);
  const tick = scheduledStageTick(reconciler, runtime, manifest);
  expect(await tick({ now: new Date(), startup: false })).toMatchObject({ announced: [runId] });
  expect(await tick({ now: new Date(), startup: false })).toMatchObject({ announced: [] });
  await settle();
  expect(finished).toEqual([expect.objectContaining({ runId, status: 'failed', reason: 'mirror: killed' })]);
});

test('every stage that owns a ledger stage may publish run-finished, derived once for the runner and Terraform', () => {
  for (const stage of STAGES) {
    const grants = stagesJson().stages[stage.name]!.publishes;
    expect(grants).toEqual([...publishesOf(stage)]);
    if (stage.ledgerStage || stage.name === 'reconciler') expect(grants).toContain('run-finished');
    else expect(grants).not.toContain('run-finished');
  }
});
