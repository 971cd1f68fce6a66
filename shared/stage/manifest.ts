import type { Pipeline } from '../config/pipelineConfig.js';
import type { TopicName } from '../contracts/topics.js';
import type { RunRecord, StagePlan } from '../ledger/runRecord.js';
import type { AnyStage, AnyTopicStage, PipelineKind } from './declaration.js';
import { environmentsOf } from '../../domain/environments/resolve.js';
import type { Environment } from '../../domain/environments/resolve.js';
import { isTopicStage } from './declaration.js';

/**
 * What the generic machinery reads off the list of stages (`functions/stages.ts`): the ledger's
 * stage order per pipeline kind, which stages consume a topic, and how long a run may stay in
 * each ledger stage. Built once from the list; nothing here is written by hand elsewhere.
 */
export type Manifest = {
  readonly stages: readonly AnyStage[];
  /** The ledger stages a run goes through, in order: the run's own plan (`runPlan`, written at intake), else its kind's. */
  readonly plan: StagePlan;
  /** The ledger stages a new run of `pipeline` goes through: the per-environment ones once per environment, in order. */
  runPlan(pipeline: Pick<Pipeline, 'kind'> & Partial<Pipeline>): string[];
  /**
   * The ledger stage a delivery records: `deploy:dev` for an event of environment `dev` when the
   * run's plan has it, else the plain one; undefined when the plan has neither (an `auto`
   * environment has no approval stage).
   */
  ledgerStageFor(ledgerStage: string, environment: string | undefined, run: Pick<RunRecord, 'kind' | 'pipeline' | 'plan'>): string | undefined;
  /** The ledger stages that repeat per environment, in order (`approval`, `chart`, `deploy`, `verify`). */
  readonly perEnvironmentStages: readonly string[];
  /** The ledger stages in order, over every kind (the timeline's columns). */
  readonly ledgerStages: readonly string[];
  /** The topic stages triggered by `topic` that serve runs of `kind`. */
  consumers(topic: string, kind: PipelineKind): readonly AnyTopicStage[];
  /** How long a run may stay in `ledgerStage` before the reconciler fails it. */
  stuckAfterSeconds(ledgerStage: string, pipeline: Pipeline | undefined): number;
  find(name: string): AnyStage | undefined;
};

/** Pub/Sub's retries of one message, at most: Terraform's maximum backoff between the declared attempts. */
const MAX_BACKOFF_SECONDS = 600;

export function manifestOf(stages: readonly AnyStage[]): Manifest {
  const names = new Set<string>();
  for (const stage of stages) {
    if (names.has(stage.name)) throw new Error(`stage ${stage.name} is declared twice`);
    names.add(stage.name);
  }
  const ledgerStages = [...new Set(stages.flatMap((stage) => (stage.ledgerStage ? [stage.ledgerStage] : [])))];
  const servesKind = (stage: AnyStage, kind: PipelineKind) => !stage.kinds || stage.kinds.includes(kind);
  const byKind = new Map<PipelineKind, string[]>(
    (['app', 'terraform'] as const).map((kind) => [kind, ledgerStages.filter((ledgerStage) => stages.some((stage) => stage.ledgerStage === ledgerStage && servesKind(stage, kind)))]),
  );
  for (const stage of stages) {
    const twin = stages.find((other) => other !== stage && other.ledgerStage === stage.ledgerStage && other.perEnvironment && stage.perEnvironment);
    if (twin) throw new Error(`stages ${stage.name} and ${twin.name} both say how ledger stage ${stage.ledgerStage} repeats per environment; one declares it`);
  }
  const perEnvironment = new Map(stages.flatMap((stage) => (stage.ledgerStage && stage.perEnvironment ? [[stage.ledgerStage, stage.perEnvironment.when ?? (() => true)] as const] : [])));
  const runPlan = (pipeline: Pick<Pipeline, 'kind'> & Partial<Pipeline>): string[] => {
    const base = byKind.get(pipeline.kind) ?? ledgerStages;
    const first = base.findIndex((ledgerStage) => perEnvironment.has(ledgerStage));
    if (first < 0) return [...base];
    const repeated = base.filter((ledgerStage) => perEnvironment.has(ledgerStage));
    const forEnvironment = (environment: Environment) =>
      repeated.filter((ledgerStage) => perEnvironment.get(ledgerStage)!(environment)).map((ledgerStage) => (environment.implicit ? ledgerStage : `${ledgerStage}:${environment.name}`));
    const rest = base.slice(first).filter((ledgerStage) => !perEnvironment.has(ledgerStage));
    return [...base.slice(0, first), ...environmentsOf(pipeline).flatMap(forEnvironment), ...rest];
  };
  // A run recorded without a plan of its own (before environments) goes through its kind's stages in the one implicit environment.
  const implicitPlans = new Map((['app', 'terraform'] as const).map((kind) => [kind, runPlan({ kind })]));
  const plan: StagePlan = (run) => run.plan ?? implicitPlans.get(run.kind) ?? ledgerStages;
  return {
    stages,
    plan,
    runPlan,
    ledgerStageFor: (ledgerStage, environment, run) => {
      const stagesOfRun = plan(run);
      if (environment !== undefined && stagesOfRun.includes(`${ledgerStage}:${environment}`)) return `${ledgerStage}:${environment}`;
      return stagesOfRun.includes(ledgerStage) ? ledgerStage : undefined;
    },
    perEnvironmentStages: ledgerStages.filter((ledgerStage) => perEnvironment.has(ledgerStage)),
    ledgerStages,
    consumers: (topic, kind) => stages.filter((stage): stage is AnyTopicStage => isTopicStage(stage) && (stage.trigger.topics as readonly string[]).includes(topic) && servesKind(stage, kind)),
    stuckAfterSeconds(ledgerStage, pipeline) {
      // `deploy:prod` is the deploy stage's, in environment prod.
      const [base, environmentName] = ledgerStage.split(':');
      const environment = pipeline ? environmentsOf(pipeline).find((candidate) => (environmentName === undefined ? candidate.implicit : candidate.name === environmentName)) : undefined;
      const owners = stages.filter((stage) => stage.ledgerStage === base);
      const limits = owners.map((stage) => {
        if (typeof stage.stuckAfterSeconds === 'function') return stage.stuckAfterSeconds(pipeline, environment);
        if (typeof stage.stuckAfterSeconds === 'number') return stage.stuckAfterSeconds;
        const attempts = isTopicStage(stage) ? stage.maxDeliveryAttempts : 1;
        return attempts * (stage.timeoutSeconds + MAX_BACKOFF_SECONDS);
      });
      return limits.length ? Math.max(...limits) : Number.POSITIVE_INFINITY;
    },
    find: (name) => stages.find((stage) => stage.name === name),
  };
}

/** The topic every write that ends a run announces (`shared/ledger/runRecord.ts`, `announceEnd`). */
const RUN_FINISHED: TopicName = 'run-finished';

/**
 * The topics a stage may publish: its declared ones, plus `run-finished` for every stage that
 * owns a ledger stage. Such a stage can end the run (its stage failing does, and so do its last
 * delivery attempt, a `skipRest` and a rejected approval), and the write that ends a run puts
 * `run-finished` in the outbox, which that stage's runner then publishes. Derived here, once,
 * for the runner's publisher and Terraform's publisher grants, so no declaration lists it.
 */
export function publishesOf(stage: AnyStage): readonly TopicName[] {
  const declared = stage.publishes as readonly TopicName[];
  return stage.ledgerStage === undefined || declared.includes(RUN_FINISHED) ? declared : [...declared, RUN_FINISHED];
}

/** The topics a list of stages is triggered by. */
export function triggerTopics(stages: readonly AnyStage[]): TopicName[] {
  return [...new Set(stages.flatMap((stage) => (isTopicStage(stage) ? [...stage.trigger.topics] : [])))];
}
