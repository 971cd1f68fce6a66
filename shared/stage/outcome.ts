import type { BatonTopic, EventInput, TopicName } from '../contracts/index.js';
import type { RunRecord, StageStatus } from '../ledger/runRecord.js';

/**
 * What a stage's handler returns: what became of the stage, and the events that follow from it.
 * The stage runner records it in one atomic write of the run (stage, run changes and outbox
 * together), then publishes the events; handlers never write the timeline or publish themselves.
 * This follows Kargo's promotion steps, which return a result that the engine persists.
 */
export type Emit<P extends TopicName> = {
  [T in Extract<P, BatonTopic>]: {
    topic: T;
    /** The outbox key: one event per key and run, however often the stage runs. Default: the topic. */
    key?: string;
    input: EventInput<T>;
  };
}[Extract<P, BatonTopic>];

export type Outcome<P extends TopicName> = {
  /** What the stage's timeline entry becomes; omit to leave it as it is (a duplicate, or waiting on other events). */
  status?: StageStatus;
  /** One line for people: what happened, or why not. */
  detail?: string;
  links?: Record<string, string>;
  /** The ledger stage this is for, when not the declared one. */
  stage?: string;
  /** The environment whose instance of the declared ledger stage this is for (`deploy:prod`), when not the event's. */
  environment?: string;
  /** The run, when the event does not name one (Cloud Build's notifications). */
  runId?: string;
  /** Events to publish, written to the run's outbox with the stage change. */
  emit?: ReadonlyArray<Emit<P>>;
  /** The run ends here, as succeeded: every later stage is recorded as skipped, with this reason. */
  skipRest?: string;
  /** Other changes to the run (its services, its builds), made in the same write; returns whether it changed anything. */
  update?: (run: RunRecord) => boolean;
  /**
   * The stage's status worked out from the run as `update` left it, in the same write: for a
   * stage that ends when the last of several events arrives (every service's build).
   */
  settle?: (run: RunRecord) => { status: StageStatus; detail?: string } | undefined;
  /** Records the outcome only if this holds for the run as it is at the time of the write (a compare-and-set). */
  when?: (run: RunRecord) => boolean;
  /**
   * Runs once the outcome is recorded, only for the delivery whose events were written (a
   * duplicate delivery's outcome adds nothing, so it announces nothing): one log line per deploy.
   */
  onRecorded?: () => Promise<void> | void;
  /** For the log: why nothing was recorded. */
  note?: string;
};

type Extra<P extends TopicName> = Omit<Outcome<P>, 'status' | 'detail'>;

/** Outcome constructors: `return result.succeeded('mirrored abc1234', { emit: [...] })`. */
export const result = {
  succeeded: <P extends TopicName = never>(detail: string, extra: Extra<P> = {}): Outcome<P> => ({ status: 'succeeded', detail, ...extra }),
  failed: <P extends TopicName = never>(reason: string, extra: Extra<P> = {}): Outcome<P> => ({ status: 'failed', detail: reason, ...extra }),
  waiting: <P extends TopicName = never>(detail: string, extra: Extra<P> = {}): Outcome<P> => ({ status: 'waiting', detail, ...extra }),
  running: <P extends TopicName = never>(detail: string, extra: Extra<P> = {}): Outcome<P> => ({ status: 'running', detail, ...extra }),
  skipped: <P extends TopicName = never>(reason: string, extra: Extra<P> = {}): Outcome<P> => ({ status: 'skipped', detail: reason, ...extra }),
  /** Nothing to record: a duplicate, an event for someone else, or one of several the stage waits for. */
  none: <P extends TopicName = never>(note: string, extra: Omit<Outcome<P>, 'status' | 'detail' | 'note'> = {}): Outcome<P> => ({ note, ...extra }),
};

/**
 * The one error that means "don't retry": a missing config key, a commit the source does not
 * have, a refspec git refuses. Every adapter records the stage as failed with the message and
 * acknowledges the event. Any other error is transient: the bus redelivers it, up to the
 * stage's declared limit.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentError;
}
