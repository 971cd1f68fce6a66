import { makeEvent } from '../../shared/contracts/index.js';
import type { ChartPublished } from '../../shared/contracts/index.js';
import { decodeEvent } from '../../shared/bus/events.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { defineStage, on } from '../../shared/stage/declaration.js';
import { manifestOf } from '../../shared/stage/manifest.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { STAGES } from '../../functions/stages.js';
import { testRuntime } from '../support/runtimes.js';
import { deliver, newRun } from '../support/stages.js';

/**
 * The stage runner owns the lifecycle: a handler returns its outcome and the runner records it
 * and publishes what it emitted, through a publisher typed to the declared topics. One error
 * type means "don't retry"; anything else is retried up to the declared limit, and the last
 * attempt fails the run, which then takes no more events.
 */
const CONFIG = 'pipelines:\n  - { name: shop, repository: acme/shop, branches: [main], services: [{ name: frontend, path: src/frontend/ }] }\n';

function chartPublished(runId: string): ChartPublished {
  return makeEvent('chart-published', {
    runId,
    pipeline: 'shop',
    chart: 'shop',
    chartVersion: '1.0.1',
    ociRef: 'oci://r/charts/shop:1.0.1',
    manifestDigest: `sha256:${'d'.repeat(64)}`,
    chartCommit: 'c'.repeat(40),
    images: [{ service: 'frontend', repository: 'r/frontend', tag: 'aaaaaaa', digest: `sha256:${'e'.repeat(64)}` }],
  });
}

/** A stage whose handler the test scripts, one behaviour per delivery. */
function scripted(behave: (attempt: number) => Promise<'ok' | 'transient' | 'permanent'>) {
  const handler = (_runtime: StageRuntime<'deploy-finished'>): TopicHandler<'chart-published', 'deploy-finished'> =>
    async ({ event }, context) => {
      const what = await behave(context.deliveryAttempt);
      if (what === 'transient') throw new Error('registry unavailable');
      if (what === 'permanent') throw new PermanentError('the chart names a registry that does not exist');
      return result.succeeded('done', { emit: [{ topic: 'deploy-finished', input: { runId: event.runId, pipeline: 'shop', status: 'synced' } }] });
    };
  return defineStage({
    name: 'scripted',
    doc: 'a stage for the runner tests',
    ledgerStage: 'deploy',
    trigger: on.topics('chart-published'),
    publishes: ['deploy-finished'],
    timeoutSeconds: 10,
    maxDeliveryAttempts: 5,
    load: async () => handler,
  });
}

async function setup(stage: ReturnType<typeof scripted>) {
  const runtime = testRuntime('in-process', CONFIG);
  const manifest = manifestOf([...STAGES.filter((s) => s.name !== 'deployWatch'), stage]);
  const published: string[] = [];
  await runtime.bus().subscribe('deploy-finished', 'watch', async (message) => {
    const decoded = decodeEvent('deploy-finished', message.data);
    if (decoded.ok) published.push(decoded.event.runId);
  });
  const runId = `shop-${Math.random().toString(36).slice(2, 8)}`;
  await runtime.ledger().createRun(newRun({ runId, after: 'a'.repeat(40), services: ['frontend'] }), new Date(), {}, {});
  const send = (attempt: number) => deliver(runtime, 'scripted', 'chart-published', chartPublished(runId), { deliveryAttempt: attempt, manifest });
  return { runtime, runId, published, send };
}

test('a transient error is retried until the declared limit; the last attempt fails the run, which then takes no more events', async () => {
  let succeed = false;
  const { runtime, runId, published, send } = await setup(scripted(async () => (succeed ? 'ok' : 'transient')));
  for (const attempt of [1, 2, 3, 4]) await expect(send(attempt)).rejects.toThrow('registry unavailable');
  expect((await runtime.ledger().getRun(runId))?.status).toBe('running');
  // The last attempt: the stage fails with the reason, and the message still goes on to the dead-letter topic.
  await expect(send(5)).rejects.toThrow('registry unavailable');
  const failed = await runtime.ledger().getRun(runId);
  expect(failed).toMatchObject({ status: 'failed', stages: { deploy: { status: 'failed', detail: 'gave up after 5 attempts: registry unavailable' } } });
  // A replay that would now succeed changes nothing and publishes nothing.
  succeed = true;
  await send(1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(published).toEqual([]);
  expect((await runtime.ledger().getRun(runId))?.outbox['deploy-finished']).toBeUndefined();
});

test('a PermanentError fails the stage at the first delivery, and is acknowledged', async () => {
  const { runtime, runId, send } = await setup(scripted(async () => 'permanent'));
  await send(1);
  expect(await runtime.ledger().getRun(runId)).toMatchObject({ status: 'failed', stages: { deploy: { status: 'failed', detail: 'the chart names a registry that does not exist' } } });
});

test('duplicate deliveries record one outcome and publish its event once', async () => {
  const { runtime, runId, published, send } = await setup(scripted(async () => 'ok'));
  await Promise.all([send(1), send(1), send(2)]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(published).toEqual([runId]);
  // The deploy was the run's last stage, so the same write announced the run's end.
  expect(Object.keys((await runtime.ledger().getRun(runId))!.outbox).sort()).toEqual(['deploy-finished', 'run-finished']);
});

test('publishing a topic the stage does not declare is refused at run time', async () => {
  const sneaky = defineStage({
    name: 'scripted',
    doc: 'declares nothing, publishes anyway',
    ledgerStage: 'deploy',
    trigger: on.topics('chart-published'),
    publishes: [],
    timeoutSeconds: 10,
    maxDeliveryAttempts: 5,
    // Cast past the compiler, as a declaration read as data could be: the runner still refuses.
    load: async () => () => async ({ event }) => result.succeeded('done', { emit: [{ topic: 'deploy-finished', input: { runId: event.runId, pipeline: 'shop', status: 'synced' } }] as never }),
  });
  const { runtime, runId, published, send } = await setup(sneaky as never);
  await expect(send(1)).rejects.toThrow('stage scripted may not publish deploy-finished: it may publish run-finished');
  expect(published).toEqual([]);
  expect((await runtime.ledger().getRun(runId))?.outbox['deploy-finished']).toBeUndefined();
});

// Type tests: these lines must not compile; `@ts-expect-error` fails the build if they do.
export const typeTests = [
  defineStage({
    name: 'typeTest',
    doc: 'publishes deploy-finished only',
    trigger: on.topics('chart-published'),
    publishes: ['deploy-finished'],
    timeoutSeconds: 10,
    maxDeliveryAttempts: 5,
    load: async () => (runtime: StageRuntime<'deploy-finished'>): TopicHandler<'chart-published', 'deploy-finished'> => async ({ event }) => {
      // @ts-expect-error approval-decided is not among the topics this stage declares
      runtime.publisher.event('approval-decided', { runId: event.runId });
      const outcome: Outcome<'deploy-finished'> = {
        status: 'succeeded',
        // @ts-expect-error an outcome cannot carry an event of an undeclared topic
        emit: [{ topic: 'chart-published', input: event }],
      };
      return outcome;
    },
  }),
];
