import type { HttpTarget } from '../adapters/http.js';
import type { MessageHandler } from '../bus/bus.js';
import { decodeEvent } from '../bus/events.js';
import type { EventOf, TopicName } from '../contracts/index.js';
import type { RunRecord } from '../ledger/runRecord.js';
import { RUN_FINISHED_KEY, addToOutbox, applyStageUpdate, endRun, isRunEnding, markHandled } from '../ledger/runRecord.js';
import type { Logger } from '../log/logger.js';
import type { Runtime } from '../runtime/runtime.js';
import { crashPoint } from './crashPoint.js';
import type { CrashPoint } from './crashPoint.js';
import type { AnyHttpStage, AnyScheduledStage, AnyStage, AnyTopicStage, Delivery, DeliveryContext, ScheduledHandler, StageRuntime, TopicHandler } from './declaration.js';
import { isReporter } from './declaration.js';
import type { Manifest } from './manifest.js';
import { publishesOf } from './manifest.js';
import type { Outcome } from './outcome.js';
import { isPermanent } from './outcome.js';
import { OUTBOX_KEY_ATTRIBUTE, Publisher } from './publisher.js';
import type { OutboxItem } from './publisher.js';

/**
 * The stage runner owns every stage's lifecycle, in both runtimes: it validates the event,
 * skips runs that have ended and runs of kinds the stage does not serve, calls the handler,
 * records its outcome (stage, run changes and outbox in one atomic write of the run, plus the
 * mark that this stage handled the event), then publishes the new events. A `PermanentError`
 * fails the stage and is acknowledged; any other error is retried by the bus, and on the
 * declared last attempt the stage is failed with it before the message is dead-lettered.
 * A write that ends the run also holds its `run-finished` event, which is published right after
 * the stage's own. Reporters (`isReporter`) never write the run.
 */

/** The runtime a stage's handler sees: no raw bus, a publisher typed to its declared topics. */
export function stageRuntime<P extends TopicName>(runtime: Runtime, stage: AnyStage, manifest: Manifest): StageRuntime<P> {
  return runtime.service(`stageRuntime:${stage.name}`, () => {
    const log = runtime.log.child({ stage: stage.name });
    const publisher = new Publisher<P>(stage.name, publishesOf(stage) as readonly P[], () => runtime.bus(), log, (runId, keys) => runtime.ledger().markPublished(runId, keys, runtime.now()));
    return {
      mode: runtime.mode,
      env: runtime.env,
      log: runtime.log,
      ...(runtime.local ? { local: runtime.local } : {}),
      instanceId: runtime.instanceId,
      config: () => runtime.config(),
      ledger: () => runtime.ledger(),
      builder: (pipeline) => runtime.builder(pipeline),
      now: () => runtime.now(),
      accessToken: () => runtime.accessToken(),
      service: <T>(key: string, create: () => T) => runtime.service(key, create),
      publisher,
      manifest,
      record: async (runId, outcome, options) => {
        const { run, applied } = await commitOutcome(stage, outcome as Outcome<TopicName>, { runId }, runtime, manifest, publisher as Publisher<TopicName>, log, options?.afterWrite);
        return { run, applied };
      },
      stage: { name: stage.name, ...(stage.ledgerStage ? { ledgerStage: stage.ledgerStage } : {}), ...('maxDeliveryAttempts' in stage ? { maxDeliveryAttempts: stage.maxDeliveryAttempts } : {}) },
    } satisfies StageRuntime<P>;
  });
}

/** Builds a stage's handler once per runtime (its factory does the setup), on first use. */
function lazyHandler<H>(runtime: Runtime, stage: AnyStage, manifest: Manifest, build: (rt: StageRuntime<TopicName>) => Promise<H>): () => Promise<H> {
  let handler: Promise<H> | undefined;
  return () => {
    handler ??= build(stageRuntime(runtime, stage, manifest));
    handler.catch(() => (handler = undefined));
    return handler;
  };
}

/** The bus handler for one topic of a topic stage (both runtimes; functions-framework's CloudEvents come here too). */
export function topicStageHandler(stage: AnyTopicStage, topic: TopicName, runtime: Runtime, manifest: Manifest): MessageHandler {
  const log = runtime.log.child({ stage: stage.name });
  const handler = lazyHandler(runtime, stage, manifest, async (rt) => (await stage.load())(rt) as TopicHandler<TopicName, TopicName>);
  return async (message) => {
    const decoded = decodeEvent(topic, message.data);
    if (!decoded.ok) {
      log.warn('ignored a message that does not match its contract', { topic, messageId: message.id, runId: message.attributes.run_id, reason: decoded.error });
      return;
    }
    const event = decoded.event as { runId?: unknown };
    const runId = typeof event.runId === 'string' ? event.runId : undefined;
    // The emulator ignores subscription filters, and a message's attribute must agree with its data.
    if (runId !== undefined && message.attributes.run_id !== undefined && message.attributes.run_id !== runId) {
      log.warn('ignored a message whose run_id attribute does not match its data', { topic, messageId: message.id });
      return;
    }
    const key = message.attributes[OUTBOX_KEY_ATTRIBUTE];
    // Which environment's stage a delivery records (`deploy:dev`), when the event names one.
    const environment = typeof (decoded.event as { environment?: unknown }).environment === 'string' ? ((decoded.event as { environment: string }).environment) : undefined;
    const ledger = runtime.ledger();
    let run: RunRecord | undefined;
    if (runId !== undefined) {
      run = await ledger.getRun(runId);
      const skip = !run ? undefined : run.status !== 'running' && !stage.afterRunEnds ? `the run has ended (${run.status})` : stage.kinds && !stage.kinds.includes(run.kind) ? `not a ${stage.kinds.join('/')} run` : undefined;
      if (run && skip) {
        log.debug('acknowledged an event without handling it', { runId, topic, reason: skip });
        if (key && !isReporter(stage)) await ledger.updateRun(runId, (current) => markHandled(current, key, stage.name, runtime.now().toISOString()));
        return;
      }
    }
    const context: DeliveryContext = {
      messageId: message.id,
      deliveryAttempt: message.deliveryAttempt,
      maxDeliveryAttempts: stage.maxDeliveryAttempts,
      progress: async (detail, links) => {
        if (!runId || !stage.ledgerStage) return;
        const ledgerStage = run ? manifest.ledgerStageFor(stage.ledgerStage, environment, run) : stage.ledgerStage;
        if (!ledgerStage) return;
        await ledger.recordStage(runId, ledgerStage, { status: 'running', detail, ...(links ? { links } : {}) }, manifest.plan);
      },
    };
    let outcome: Outcome<TopicName>;
    let retryError: unknown;
    try {
      outcome = await (await handler())({ topic, event: decoded.event } as Delivery<TopicName>, context);
    } catch (error) {
      const last = message.deliveryAttempt >= stage.maxDeliveryAttempts;
      if (!isPermanent(error) && !last) {
        log.warn('failed to handle an event; it will be redelivered', { runId, topic, deliveryAttempt: message.deliveryAttempt, error });
        throw error;
      }
      const reason = isPermanent(error) ? (error as Error).message : `gave up after ${message.deliveryAttempt} attempts: ${(error as Error).message}`;
      log.error(isPermanent(error) ? 'failed; not retrying' : 'failed on the last delivery attempt', { runId, topic, reason });
      outcome = { status: 'failed', detail: reason };
      // The last attempt is still dead-lettered, for inspection; the run has ended with the reason.
      if (!isPermanent(error)) retryError = error;
    }
    if (isReporter(stage) && recordsNothing(stage, outcome)) {
      // Nothing to write, and a reporter does not mark what it handled: it leaves the run alone.
      if (outcome.note) log.debug(outcome.note, { runId, topic });
    } else {
      const publisher = stageRuntime<TopicName>(runtime, stage, manifest).publisher;
      await commitOutcome(stage, outcome, { runId, key, ...(environment ? { environment } : {}) }, runtime, manifest, publisher, log);
    }
    crashPoint('before-ack');
    if (retryError) throw retryError;
  };
}

/** An outcome that would change nothing in the run: no stage it may record, no events, no run changes. */
function recordsNothing(stage: AnyStage, outcome: Outcome<TopicName>): boolean {
  return !(outcome.status && (outcome.stage ?? stage.ledgerStage)) && !outcome.emit?.length && !outcome.update && !outcome.settle && !outcome.skipRest;
}

/**
 * Records an outcome in one write of the run and publishes what it added to the outbox.
 * Everything it does is conditional on the run's current state, so a duplicate delivery adds
 * nothing and publishes nothing, and a run that has ended takes no new events.
 */
async function commitOutcome(
  stage: AnyStage,
  outcome: Outcome<TopicName>,
  delivery: { runId?: string; key?: string; environment?: string },
  runtime: Runtime,
  manifest: Manifest,
  publisher: Publisher<TopicName>,
  log: Logger,
  afterWrite?: CrashPoint,
): Promise<{ run: RunRecord | undefined; applied: boolean }> {
  const runId = outcome.runId ?? delivery.runId;
  if (!runId) {
    if (outcome.status || outcome.emit?.length) log.error('a stage outcome names no run; nothing recorded', { status: outcome.status });
    return { run: undefined, applied: false };
  }
  const items = (outcome.emit ?? []).map((emit) => publisher.event(emit.topic, emit.input as never, emit.key));
  const afterRunEnds = 'afterRunEnds' in stage && stage.afterRunEnds === true;
  let added: OutboxItem[] = [];
  let finished: OutboxItem<'run-finished'> | undefined;
  let applied = false;
  const { run } = await runtime.ledger().updateRun(runId, (current) => {
    added = [];
    finished = undefined;
    applied = false;
    const at = runtime.now();
    const wasRunning = current.status === 'running';
    let changed = false;
    if (delivery.key && !isReporter(stage)) changed = markHandled(current, delivery.key, stage.name, at.toISOString());
    if ((current.status !== 'running' && !afterRunEnds) || (outcome.when && !outcome.when(current))) return changed;
    applied = true;
    if (outcome.update) changed = outcome.update(current) || changed;
    const ledgerStage = outcome.stage ?? (stage.ledgerStage ? manifest.ledgerStageFor(stage.ledgerStage, outcome.environment ?? delivery.environment, current) : undefined);
    if (outcome.status && ledgerStage) {
      changed = applyStageUpdate(current, ledgerStage, { status: outcome.status, at, ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}), ...(outcome.links ? { links: outcome.links } : {}) }, manifest.plan) || changed;
    } else if (outcome.status && isRunEnding(outcome.status) && current.status === 'running') {
      // A failure with no stage of the run's plan to show it on (an environment's stage the event did not name): the run still ends, and says why.
      endRun(current, 'failed', `${stage.name}: ${outcome.detail ?? outcome.status}`, manifest.plan(current), at.toISOString());
      changed = true;
    }
    const settled = outcome.settle?.(current);
    if (settled && ledgerStage) changed = applyStageUpdate(current, ledgerStage, { status: settled.status, at, ...(settled.detail !== undefined ? { detail: settled.detail } : {}) }, manifest.plan) || changed;
    if (outcome.skipRest && current.status === 'running') {
      endRun(current, 'succeeded', outcome.skipRest, manifest.plan(current), at.toISOString());
      changed = true;
    }
    if (items.length) {
      const keys = addToOutbox(current, items, at.toISOString());
      added = items.filter((item) => keys.includes(item.key));
      changed = changed || keys.length > 0;
    }
    // This write ended the run, so it also holds the run's `run-finished` (runRecord's announceEnd).
    const end = wasRunning && current.status !== 'running' ? current.outbox[RUN_FINISHED_KEY] : undefined;
    if (end) finished = { key: RUN_FINISHED_KEY, topic: 'run-finished', event: end.event as EventOf<'run-finished'> };
    return changed;
  });
  if (!run) {
    log.warn('no such run in the ledger; the outcome is not recorded', { runId, status: outcome.status });
    return { run: undefined, applied: false };
  }
  if (outcome.note && !outcome.status && !added.length) log.debug(outcome.note, { runId });
  if (applied && afterWrite) crashPoint(afterWrite);
  if (added.length) {
    await publisher.send(added);
    await outcome.onRecorded?.();
  }
  // After the stage's own events: consumers hear of what the stage did before they hear the run ended.
  if (finished) await publisher.send([finished]);
  return { run, applied };
}

/** An HTTP stage as an `HttpTarget` (embedded server and functions-framework alike). */
export function httpStageTarget(stage: AnyHttpStage, runtime: Runtime, manifest: Manifest): HttpTarget {
  const handler = lazyHandler(runtime, stage, manifest, async (rt) => (await stage.load())(rt));
  return async (request) => (await handler())(request);
}

/** A scheduled stage's tick. */
export function scheduledStageTick(stage: AnyScheduledStage, runtime: Runtime, manifest: Manifest): ScheduledHandler {
  const handler = lazyHandler(runtime, stage, manifest, async (rt) => (await stage.load())(rt));
  return async (tick) => (await handler())(tick);
}

/**
 * A scheduled stage as an `HttpTarget`: Cloud Scheduler POSTs to it (with an OIDC token that
 * Cloud Run checks), and the embedded stack's timer calls the tick directly.
 */
export function scheduledTarget(stage: AnyScheduledStage, runtime: Runtime, manifest: Manifest): HttpTarget {
  const tick = scheduledStageTick(stage, runtime, manifest);
  return async (request) => {
    if (request.method !== 'POST') return { status: 405, body: { error: 'scheduled stages are POSTed (Cloud Scheduler)' } };
    return { status: 200, body: await tick({ now: runtime.now(), startup: false }) };
  };
}
