import { makeEvent } from '../../shared/contracts/index.js';
import { addToOutbox } from '../../shared/ledger/runLedger.js';
import { isReporter } from '../../shared/stage/declaration.js';
import { scheduledStageTick } from '../../shared/stage/runner.js';
import { MANIFEST } from '../../functions/stages.js';
import { gitStatus } from '../../functions/gitStatus/stage.js';
import { jenkinsTrigger } from '../../functions/jenkinsTrigger/stage.js';
import { reconciler } from '../../functions/reconciler/stage.js';
import { MAX_REDRIVES } from '../../functions/reconciler/reconcile.js';
import { testRuntime } from '../support/runtimes.js';
import { deliver, newRun } from '../support/stages.js';

/**
 * A reporter (gitStatus, jenkinsTrigger: a topic stage without a ledger stage) is never waited on: it does not
 * write the run, the reconciler does not re-drive events to it, and a git host that stays down
 * can never get a run failed as stuck.
 */
const CONFIG = 'pipelines:\n  - { name: shop, repository: acme/shop, branches: [main], services: [{ name: frontend, path: src/frontend/ }] }\n';

test('gitStatus and jenkinsTrigger are the reporters of the list', () => {
  expect(MANIFEST.stages.filter(isReporter).map((stage) => stage.name)).toEqual(['gitStatus', 'jenkinsTrigger']);
  expect(gitStatus.ledgerStage).toBeUndefined();
  expect(jenkinsTrigger.ledgerStage).toBeUndefined();
});

test('an event only a reporter has not handled is neither re-driven nor a reason to fail the run', async () => {
  const runtime = testRuntime('in-process', CONFIG);
  const runId = `shop-${Math.random().toString(36).slice(2, 8)}`;
  const run = newRun({ runId, after: 'a'.repeat(40), services: ['frontend'] });
  await runtime.ledger().createRun(run, new Date(), { intake: { status: 'succeeded', startedAt: new Date().toISOString(), endedAt: new Date().toISOString() }, build: { status: 'running', startedAt: new Date().toISOString() } }, {});
  // build-finished went out an hour ago, promotion took it; only gitStatus never said so.
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const event = makeEvent('build-finished', { runId, pipeline: 'shop', service: 'frontend', buildId: 'b-1', status: 'FAILURE', sha: 'a'.repeat(40), detail: 'step 1 failed' });
  await runtime.ledger().updateRun(runId, (current) => {
    addToOutbox(current, [{ key: 'build-finished:frontend', topic: 'build-finished', event }], hourAgo);
    current.outbox['build-finished:frontend']!.publishedAt = hourAgo;
    current.outbox['build-finished:frontend']!.handled = { promotion: hourAgo };
    return true;
  });
  const tick = scheduledStageTick(reconciler, runtime, MANIFEST);
  for (let pass = 0; pass <= MAX_REDRIVES + 1; pass++) expect(await tick({ now: new Date(), startup: false })).toMatchObject({ redriven: [], failed: [] });
  const after = await runtime.ledger().getRun(runId);
  expect(after?.status).toBe('running');
  expect(after?.outbox['build-finished:frontend']?.redrives).toBeUndefined();
  // A reporter's delivery leaves the run's document as it was (no handled mark, no updatedAt).
  await deliver(runtime, 'gitStatus', 'build-finished', event, { key: 'build-finished:frontend' });
  expect(await runtime.ledger().getRun(runId)).toEqual(after);
  await runtime.ledger().close();
});
