import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import { isTerminal } from '../../shared/contracts/index.js';
import type { BuildFinished, BuildStatus, EventOf } from '../../shared/contracts/index.js';
import { isRunEnding } from '../../shared/ledger/runRecord.js';
import type { RunRecord, ServiceBuild, StageRecord } from '../../shared/ledger/runLedger.js';
import { AWAIT_STAGES, eventOutcome, ledgerOutcome } from './stages.js';
import type { AwaitStage, StageOutcome, StageTopic } from './stages.js';

/** A stage's end, as learned from an event or from the run ledger. */
export type StageEnd = {
  outcome: StageOutcome;
  source: 'event' | 'ledger';
  /** One line for people: why it ended this way. */
  summary: string;
};

/** The wait cannot be satisfied as asked (e.g. a service the run does not build): exit 3, not 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Decides when one stage of one run has ended, from the two places that can say so: the stage's
 * messages (already checked to be this run's) and the run ledger. Pure state, no I/O, so every
 * rule is testable and the waiting loop stays small.
 */
export class StageWatch {
  /** The matching messages seen so far, in arrival order. */
  readonly events: Array<EventOf<StageTopic>> = [];
  /** The latest ledger view of the run, once seen. */
  run: RunRecord | undefined;
  /** Build stage without `--service`: each service's terminal build, from events or the ledger. */
  private readonly finishedBuilds = new Map<string, Pick<ServiceBuild, 'status'>>();

  constructor(
    readonly stage: AwaitStage,
    readonly service?: string,
    /** The environment of a per-environment stage (`--env prod` → `deploy:prod`); none for the implicit one. */
    readonly environment?: string,
  ) {}

  get ledgerStage() {
    const base = AWAIT_STAGES[this.stage]!.ledgerStage;
    return this.environment ? `${base}:${this.environment}` : base;
  }

  /** The stage's ledger record, when the run has been seen. */
  get record(): StageRecord | undefined {
    return this.run?.stages[this.ledgerStage];
  }

  /** Feeds one of this run's messages; returns the stage's end once it is known. */
  onEvent(event: EventOf<StageTopic>): StageEnd | undefined {
    // Another environment's event of the same topic says nothing about this one.
    const environment = (event as { environment?: string }).environment;
    if (environment !== undefined && environment !== (this.environment ?? IMPLICIT_ENVIRONMENT)) return undefined;
    if (this.stage === 'build') {
      const build = event as BuildFinished;
      if (this.service !== undefined && build.service !== this.service) return undefined;
      this.remember(event);
      if (this.service !== undefined) return { outcome: eventOutcome(event), source: 'event', summary: buildLine(build.service, build.status, build.detail) };
      this.finishedBuilds.set(build.service, { status: build.status });
      return this.allBuildsEnd('event');
    }
    this.remember(event);
    return { outcome: eventOutcome(event), source: 'event', summary: eventSummary(event) };
  }

  /** Feeds the latest ledger view of the run; returns the stage's end once it is known. */
  onLedger(run: RunRecord | undefined): StageEnd | undefined {
    if (!run) return undefined;
    this.run = run;
    const record = this.record;
    if (this.stage === 'build') {
      const end = this.service !== undefined ? this.serviceBuildFromLedger(run) : this.allBuildsFromLedger(run);
      if (end) return end;
    } else if (record && !(record.status === 'skipped' && isRunEnding(run.status))) {
      // (A stage skipped because the run ended before it is told below, with where it ended.)
      const outcome = ledgerOutcome(this.stage, record.status, isRunEnding(run.status));
      if (outcome) return { outcome, source: 'ledger', summary: `${this.ledgerStage} ${record.status}${record.detail ? `: ${record.detail}` : ''}` };
    }
    // A run that ended earlier will never reach this stage: fail now rather than at the timeout.
    if (isRunEnding(run.status) && !this.siblingBuildFailed(run)) {
      const where = Object.entries(run.stages).find(([, stage]) => stage && isRunEnding(stage.status));
      const because = where ? ` at ${where[0]}${where[1]!.detail ? `: ${where[1]!.detail}` : ''}` : '';
      return { outcome: 'failed', source: 'ledger', summary: `run ${run.runId} ended ${run.status}${because} before ${this.ledgerStage} finished` };
    }
    return undefined;
  }

  private remember(event: EventOf<StageTopic>): void {
    // Redelivered copies of one message are one event.
    if (!this.events.some((seen) => seen.at === event.at && JSON.stringify(seen) === JSON.stringify(event))) this.events.push(event);
  }

  private serviceBuildFromLedger(run: RunRecord): StageEnd | undefined {
    const service = this.service!;
    const build = run.builds[service];
    if (build && isTerminal(build.status as BuildStatus)) {
      return { outcome: build.status === 'SUCCESS' ? 'succeeded' : 'failed', source: 'ledger', summary: buildLine(service, build.status, build.detail) };
    }
    // Once the mirror has settled the service list, a service outside it will never be built.
    if (run.stages.mirror?.status === 'succeeded' && run.services.length > 0 && !run.services.includes(service)) {
      throw new UsageError(`run ${run.runId} does not build service ${service} (it builds ${run.services.join(', ')})`);
    }
    // The build stage failing as a whole (no build could start) ends every service's wait; a
    // sibling's failed build does not: this service's own result is still to come.
    const record = run.stages.build;
    if (!build && record?.status === 'failed' && !this.siblingBuildFailed(run)) {
      return { outcome: 'failed', source: 'ledger', summary: `build failed${record.detail ? `: ${record.detail}` : ''}` };
    }
    return undefined;
  }

  private allBuildsFromLedger(run: RunRecord): StageEnd | undefined {
    for (const [service, build] of Object.entries(run.builds)) {
      if (isTerminal(build.status as BuildStatus)) this.finishedBuilds.set(service, { status: build.status });
    }
    const end = this.allBuildsEnd('ledger');
    if (end) return end;
    // A failed build fails the stage at once in the ledger; keep waiting for the other services.
    const record = run.stages.build;
    const outcome = record && ledgerOutcome('build', record.status);
    if (outcome === 'failed' && this.siblingBuildFailed(run)) return undefined;
    return outcome ? { outcome, source: 'ledger', summary: `build ${record.status}${record.detail ? `: ${record.detail}` : ''}` } : undefined;
  }

  /** Every service the run builds has a terminal build: the stage is over. */
  private allBuildsEnd(source: StageEnd['source']): StageEnd | undefined {
    const services = this.run?.services ?? [];
    if (services.length === 0 || !services.every((service) => this.finishedBuilds.has(service))) return undefined;
    const failed = services.filter((service) => this.finishedBuilds.get(service)!.status !== 'SUCCESS');
    return failed.length === 0
      ? { outcome: 'succeeded', source, summary: `all ${services.length} builds succeeded (${services.join(', ')})` }
      : { outcome: 'failed', source, summary: `${failed.length} of ${services.length} builds failed: ${failed.map((s) => `${s} ${this.finishedBuilds.get(s)!.status}`).join(', ')}` };
  }

  /**
   * Another service's build failed, so a run or build-stage failure in the ledger says nothing
   * final about the builds still running: one service's wait goes on for its own result, and the
   * whole-stage wait for every service's.
   */
  private siblingBuildFailed(run: RunRecord): boolean {
    if (this.stage !== 'build') return false;
    return Object.entries(run.builds).some(
      ([service, build]) => service !== this.service && isTerminal(build.status as BuildStatus) && build.status !== 'SUCCESS',
    );
  }
}

function buildLine(service: string, status: string, detail?: string): string {
  return `build of ${service} ${status}${detail ? `: ${detail}` : ''}`;
}

/** One line per stage event, for the wait's result. */
export function eventSummary(event: EventOf<StageTopic>): string {
  switch (event.type) {
    case 'push-received':
      return `push ${event.after.slice(0, 7)} to ${event.branch} of ${event.repository} by ${event.pusher.name}`;
    case 'source-mirrored':
      return `mirrored ${event.sha.slice(0, 7)}; services: ${event.services.join(', ') || '(none)'}`;
    case 'build-finished':
      return buildLine(event.service, event.status, event.detail);
    case 'approval-decided':
      return `${event.decision} by ${event.decidedBy.name ?? event.decidedBy.id} via ${event.decidedBy.via}${event.reason ? `: ${event.reason}` : ''}`;
    case 'chart-published':
      return `chart ${event.chart} ${event.chartVersion} published`;
    case 'deploy-finished':
      return `deploy ${event.status}${event.reason ? `: ${event.reason}` : ''}`;
    default:
      return event.type;
  }
}
