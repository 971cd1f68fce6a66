import type { Bus, BusMessage, Subscription } from '../../shared/bus/bus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import type { EventOf } from '../../shared/contracts/index.js';
import type { RunLedger, RunRecord, StageRecord } from '../../shared/ledger/runLedger.js';
import { StageWatch } from './stageWatch.js';
import type { StageEnd } from './stageWatch.js';
import { AWAIT_STAGES } from './stages.js';
import type { AwaitStage, StageOutcome, StageTopic } from './stages.js';
import { awaitSubscriptionName } from './subscription.js';

export type AwaitRequest = {
  runId: string;
  stage: AwaitStage;
  /** Build stage only: wait for this service's build (one Jenkins parallel branch). */
  service?: string;
  /** A per-environment stage's environment (none: the implicit one). */
  environment?: string;
  timeoutMs: number;
  /** How often the run ledger is read while waiting. */
  pollMs: number;
  /** Aborts the wait (SIGINT/SIGTERM); the subscription is still deleted. */
  signal?: AbortSignal;
};

export type AwaitDeps = {
  ledger: RunLedger;
  /** The bus to listen on; absent when this process cannot reach it (embedded runtime): ledger only. */
  bus?: Bus;
  /**
   * Creates the named subscription before `bus.subscribe` attaches to it, and returns how to
   * delete it should attaching fail. Absent when the bus creates subscriptions itself.
   */
  createSubscription?: (topic: string, name: string) => Promise<() => Promise<void>>;
  /** Progress notes for people (stderr); never the result. */
  note?: (line: string) => void;
};

export type AwaitResult = {
  runId: string;
  stage: AwaitStage;
  service?: string;
  outcome: StageOutcome | 'timeout' | 'interrupted';
  /** Where the end was learned; `none` for a timeout or an interruption. */
  source: StageEnd['source'] | 'none';
  summary: string;
  /** This run's messages for the stage, as received. */
  events: Array<EventOf<StageTopic>>;
  /** The stage's ledger record at the end, when the run is in the ledger. */
  record?: StageRecord;
  /** The run as last read from the ledger. */
  run?: RunRecord;
  /** The subscription the wait read from (deleted by the time this returns). */
  subscription?: string;
};

/**
 * Waits for one stage of one run to end, the way a Jenkins stage follows the chain:
 * (1) subscribe first, so nothing published from now on is missed; (2) then read the ledger, in
 * case the stage ended before the wait began; (3) then take whichever comes first: a matching
 * message, a ledger poll that shows the end (stages that fail without publishing record it
 * there), the timeout, or an abort. The subscription is deleted on every way out.
 */
export async function awaitStage(request: AwaitRequest, deps: AwaitDeps): Promise<AwaitResult> {
  const { runId, stage, service, environment } = request;
  const { topic } = AWAIT_STAGES[stage]!;
  const note = deps.note ?? (() => undefined);
  const watch = new StageWatch(stage, service, environment);

  let settle!: (end: StageEnd | { outcome: 'timeout' | 'interrupted'; source: 'none'; summary: string }) => void;
  let fail!: (error: unknown) => void;
  const ended = new Promise<Parameters<typeof settle>[0]>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  // Awaited below; marked handled so an early rejection is never reported as unhandled.
  ended.catch(() => undefined);
  const decide = (step: () => StageEnd | undefined) => {
    try {
      const end = step();
      if (end) settle(end);
    } catch (error) {
      fail(error);
    }
  };

  const onMessage = async (message: BusMessage): Promise<void> => {
    // The emulator ignores subscription filters, and deployed the filter is only an optimisation:
    // the attribute and the data must both name this run.
    if (message.attributes.run_id !== runId) return;
    const decoded = decodeEvent(topic, message.data);
    if (!decoded.ok) {
      note(`ignored message ${message.id} on ${topic}: ${decoded.error}`);
      return;
    }
    const event = decoded.event as EventOf<StageTopic>;
    if (event.runId !== runId) return;
    decide(() => watch.onEvent(event));
    // The whole-stage build wait needs the run's service list, which lives in the ledger.
    if (stage === 'build' && service === undefined && !watch.run) void pollLedger();
  };

  let polling = false;
  const pollLedger = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      const run = await deps.ledger.getRun(runId);
      decide(() => watch.onLedger(run));
    } catch (error) {
      note(`failed to read run ${runId} from the ledger (will retry): ${(error as Error).message}`);
    } finally {
      polling = false;
    }
  };

  const timers: NodeJS.Timeout[] = [];
  const onAbort = () => settle({ outcome: 'interrupted', source: 'none', summary: `interrupted while waiting for ${stage}` });
  let subscription: Subscription | undefined;
  let removeUnattached: (() => Promise<void>) | undefined;
  const name = deps.bus ? awaitSubscriptionName(runId, environment ? `${stage}-${environment}` : stage, service) : undefined;
  try {
    if (request.signal?.aborted) onAbort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(
      setTimeout(
        () => settle({ outcome: 'timeout', source: 'none', summary: `timed out after ${Math.round(request.timeoutMs / 1000)} s waiting for ${stage}${service ? ` of ${service}` : ''}` }),
        request.timeoutMs,
      ),
    );
    if (deps.bus && name) {
      removeUnattached = await deps.createSubscription?.(topic, name);
      subscription = await deps.bus.subscribe(topic, name, onMessage, { deadLetter: false });
      removeUnattached = undefined;
      note(`waiting for ${topic} of run ${runId} on subscription ${name}`);
    } else {
      note(`waiting for ${stage} of run ${runId} in the run ledger (no bus reachable from here)`);
    }
    await pollLedger();
    timers.push(setInterval(() => void pollLedger(), request.pollMs));
    const end = await ended;
    return {
      runId,
      stage,
      ...(service ? { service } : {}),
      ...end,
      events: watch.events,
      ...(watch.record ? { record: watch.record } : {}),
      ...(watch.run ? { run: watch.run } : {}),
      ...(name ? { subscription: name } : {}),
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
    await subscription?.close({ remove: true }).catch((error: unknown) => note(`failed to delete subscription ${name}: ${(error as Error).message}`));
    await removeUnattached?.().catch(() => undefined);
  }
}
