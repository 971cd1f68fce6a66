import type { HttpRequest, HttpResponse } from '../adapters/http.js';
import type { Pipeline } from '../config/pipelineConfig.js';
import type { Environment } from '../../domain/environments/config.js';
import type { PlainEnvName, SecretEnvName } from '../config/envVars.js';
import type { BatonTopic, EventOf, TopicName } from '../contracts/index.js';
import type { RunRecord } from '../ledger/runRecord.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Manifest } from './manifest.js';
import type { Outcome } from './outcome.js';
import type { Publisher } from './publisher.js';
import type { CrashPoint } from './crashPoint.js';

/**
 * A stage's whole declaration (DESIGN.md, "Stage runtime"): everything about a stage is said
 * once, in `functions/<stage>/stage.ts`, and everything else derives from the list of them
 * (`functions/stages.ts`): the functions-framework registration, the embedded stack, the ledger's
 * stage order, the CLI's `await` stages, the env table, the Jenkins check and Terraform's
 * `stages.json`. Declarations are data plus a lazy loader, so importing them costs nothing.
 */

export type PipelineKind = 'app' | 'terraform';

/** Google roles and resources a stage needs beyond the ledger (every stage gets `roles/datastore.user`). */
export type StageRoles = {
  /** Project-level roles, e.g. `roles/cloudbuild.builds.editor`. */
  project?: readonly string[];
  /** Service accounts, by label, that the stage starts work as (`roles/iam.serviceAccountUser` on each). */
  actAs?: readonly ServiceAccountLabel[];
  /** Cloud Storage buckets, by label, and the role the stage has on each. */
  buckets?: Readonly<Partial<Record<BucketLabel, string>>>;
  /** Artifact Registry repositories, by label, and the role the stage has on each. */
  repositories?: Readonly<Partial<Record<RepositoryLabel, string>>>;
};

/** The labels Terraform maps to real resources (`terraform/modules/functions`, variables of the same names). */
export type ServiceAccountLabel = 'builds' | 'terraform';
export type BucketLabel = 'plans';
export type RepositoryLabel = 'images' | 'charts';

export type TopicTrigger<T extends TopicName> = { kind: 'topic'; topics: readonly T[] };
/** `public`: callable without Google credentials (git hosts, Slack), which the handler authenticates by signature. */
export type HttpTrigger = { kind: 'http'; public: boolean };
/** Cloud Scheduler deployed (a cron in UTC); a timer in the embedded stack, which also runs it at start-up. */
export type ScheduleTrigger = { kind: 'schedule'; cron: string; embeddedEverySeconds: number };
export type Trigger = TopicTrigger<TopicName> | HttpTrigger | ScheduleTrigger;

/** A stage that people follow in Jenkins: `baton await <runId> --stage <as>` waits for it. */
export type Watch = { as: string; topic: BatonTopic; defaultTimeoutSeconds: number };

type Common<P extends TopicName> = {
  /** The target name: the functions-framework entry point and the function's name. */
  name: string;
  /** One line: what the stage does. */
  doc: string;
  /** The stage of the run's timeline this stage records. */
  ledgerStage?: string;
  /**
   * The ledger stage repeats per environment of the pipeline, as `<ledgerStage>:<environment>`
   * (`deploy:dev`, `deploy:prod`), for the environments `when` holds for (default all); an
   * event's `environment` picks which one a delivery records. The one implicit environment of
   * a pipeline without `environments` keeps the plain name.
   */
  perEnvironment?: { when?: (environment: Environment) => boolean };
  /** Pipeline kinds the stage serves (default both); other runs' events are acknowledged untouched. */
  kinds?: readonly PipelineKind[];
  /** The topics it may publish: the only ones its publisher accepts, and its publisher grants. */
  publishes: readonly P[];
  roles?: StageRoles;
  /** Plain environment variables it reads (`GOOGLE_CLOUD_PROJECT` and `BATON_CONFIG` are every stage's). */
  env?: readonly PlainEnvName[];
  /** Secret environment variables it reads. */
  secrets?: readonly SecretEnvName[];
  /** How long one invocation may run (Cloud Run functions' `timeout_seconds`). */
  timeoutSeconds: number;
  /** Egress through the VPC connector (reaching a private Argo CD). */
  network?: 'vpc';
  watch?: Watch;
  /**
   * How long the run may stay in this ledger stage (running or waiting) before the reconciler
   * fails it, with the reason. Default: the timeout plus the time Pub/Sub takes to retry it.
   */
  stuckAfterSeconds?: number | ((pipeline: Pipeline | undefined, environment: Environment | undefined) => number);
};

/** What a stage's handler gets from the runtime: everything but the raw bus, and a publisher for its own topics. */
export type StageRuntime<P extends TopicName> = Omit<Runtime, 'bus'> & {
  publisher: Publisher<P>;
  /**
   * Records an outcome for a run the way the runner records a topic stage's (stage, run changes
   * and outbox in one write, then publishes), for HTTP and scheduled stages. `applied` is false
   * when the run has ended or the outcome's `when` did not hold. `afterWrite`: the crash point
   * between the write and the publish, where only the outbox and the reconciler save the events.
   */
  record(runId: string, outcome: Outcome<P>, options?: { afterWrite?: CrashPoint }): Promise<{ run: RunRecord | undefined; applied: boolean }>;
  /** What the list of stages says (the ledger's stage order, each topic's consumers): for stages that reason about the whole chain. */
  manifest: Manifest;
  /** The declaration's facts the handler may need (its retry limit, its name). */
  stage: { name: string; ledgerStage?: string; maxDeliveryAttempts?: number };
};

/** One message as a topic stage receives it: which topic, and its validated event. */
export type Delivery<T extends TopicName> = { [K in T]: { topic: K; event: EventOf<K> } }[T];

export type DeliveryContext = {
  messageId: string;
  /** 1 on the first delivery. */
  deliveryAttempt: number;
  /** The declared retry limit: the deployed subscription's `max_delivery_attempts`. */
  maxDeliveryAttempts: number;
  /** Records the stage as running, with what it is doing (the one write a handler may ask for before its outcome). */
  progress(detail: string, links?: Record<string, string>): Promise<void>;
};

export type TopicHandler<T extends TopicName, P extends TopicName> = (delivery: Delivery<T>, context: DeliveryContext) => Promise<Outcome<P>>;
export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse>;
/** A scheduled tick; `startup` when the embedded stack has just started. Resolves with a summary for the log. */
export type ScheduledHandler = (tick: { now: Date; startup: boolean }) => Promise<Record<string, unknown>>;

/** Each factory runs once per runtime (setup apart from work) and returns the handler. */
export type TopicStage<T extends TopicName = TopicName, P extends TopicName = TopicName> = Common<P> & {
  trigger: TopicTrigger<T>;
  /** Deliveries before a message is dead-lettered (Pub/Sub allows 5 to 100): Terraform sets exactly this. */
  maxDeliveryAttempts: number;
  /** Also handle events of runs that have ended (reporters). Default: such events are acknowledged untouched. */
  afterRunEnds?: boolean;
  load: () => Promise<(runtime: StageRuntime<P>) => TopicHandler<T, P>>;
};
export type HttpStage<P extends TopicName = TopicName> = Common<P> & {
  trigger: HttpTrigger;
  load: () => Promise<(runtime: StageRuntime<P>) => HttpHandler>;
};
export type ScheduledStage<P extends TopicName = TopicName> = Common<P> & {
  trigger: ScheduleTrigger;
  load: () => Promise<(runtime: StageRuntime<P>) => ScheduledHandler>;
};

/* eslint-disable @typescript-eslint/no-explicit-any -- a declaration's topics, erased: what the generic code (registration, the runner, Terraform) walks. */
export type AnyTopicStage = TopicStage<any, any>;
export type AnyHttpStage = HttpStage<any>;
export type AnyScheduledStage = ScheduledStage<any>;
/* eslint-enable @typescript-eslint/no-explicit-any */
export type AnyStage = AnyTopicStage | AnyHttpStage | AnyScheduledStage;

/**
 * Declares a stage. The generic parameters are inferred from `trigger.topics` and `publishes`,
 * so the handler the loader returns is checked against them: an event of an undeclared topic
 * in its outcome, or a publish of one, does not compile.
 */
export function defineStage<const T extends TopicName, const P extends TopicName = never>(stage: TopicStage<T, P>): TopicStage<T, P>;
export function defineStage<const P extends TopicName = never>(stage: HttpStage<P>): HttpStage<P>;
export function defineStage<const P extends TopicName = never>(stage: ScheduledStage<P>): ScheduledStage<P>;
export function defineStage(stage: AnyStage): AnyStage {
  if (stage.trigger.kind === 'topic') {
    if (stage.trigger.topics.length === 0) throw new Error(`stage ${stage.name}: a topic trigger needs at least one topic`);
    const attempts = (stage as TopicStage).maxDeliveryAttempts;
    if (!Number.isInteger(attempts) || attempts < 5 || attempts > 100) throw new Error(`stage ${stage.name}: maxDeliveryAttempts must be 5..100 (Pub/Sub's dead-letter range), not ${attempts}`);
  }
  return stage;
}

/** `trigger` helpers, so declarations read as what they mean. */
export const on = {
  topics: <const T extends TopicName>(...topics: T[]): TopicTrigger<T> => ({ kind: 'topic', topics }),
  http: (options: { public: boolean }): HttpTrigger => ({ kind: 'http', public: options.public }),
  schedule: (cron: string, options: { embeddedEverySeconds: number }): ScheduleTrigger => ({ kind: 'schedule', cron, embeddedEverySeconds: options.embeddedEverySeconds }),
};

export function isTopicStage(stage: AnyStage): stage is AnyTopicStage {
  return stage.trigger.kind === 'topic';
}

export function isHttpStage(stage: AnyStage): stage is AnyHttpStage {
  return stage.trigger.kind === 'http';
}

export function isScheduledStage(stage: AnyStage): stage is AnyScheduledStage {
  return stage.trigger.kind === 'schedule';
}

/**
 * A stage that owns no stage of the run's timeline (gitStatus): it only reports on runs. No run
 * ever waits on it, so it never writes the run (not even the mark that it handled an event), the
 * reconciler never re-drives an event to it or fails a run for it (the bus retries it and
 * dead-letters what keeps failing), and it cannot end a run. Scheduled stages without a ledger
 * stage (the reconciler, the webhook sweep) are sweeps, not reporters.
 */
export function isReporter(stage: AnyStage): boolean {
  return isTopicStage(stage) && stage.ledgerStage === undefined;
}
