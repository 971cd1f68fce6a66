import type { ChartPublished } from '../../shared/contracts/index.js';
import type { RunRecord, RunStatus } from '../../shared/ledger/runLedger.js';
import type { EnvironmentSummary } from '../../domain/environments/phases.js';
import { MANIFEST } from '../../functions/stages.js';

/** One line of `baton demo --json` per run (the fixed fields of issue #15 included: `environments`). */
export type RunSummary = {
  runId: string;
  status: RunStatus;
  /** Services built in this run. */
  services: string[];
  stages: Record<string, { status: string; start?: string; end?: string; durationMs?: number; detail?: string }>;
  /** Each environment: its status, the release the run put there, and its verification's checks. */
  environments: Record<string, EnvironmentSummary>;
  /** The last chart the run published (its last environment's). */
  chart?: { name: string; version: string; ociRef: string; digest: string; commit: string };
  /** A rollback run: the environment it restored and the run whose release it restored. */
  rollback?: { environment: string; toRunId: string; fromRunId?: string };
  /** The run's commit statuses (`baton/<stage>` → state) as the GitHub stand-in shows them at the end of the run. */
  commitStatuses?: Record<string, string>;
  timings: {
    /** Webhook delivered → the first chart-published. */
    pushToChartMs?: number;
    /** Build stage: first build started → last build finished. */
    buildMs?: number;
    /** Every approval stage, requested → decided. */
    approvalWaitMs?: number;
    /** The pipeline's own cost up to the first chart: push to chart-published, minus build time and the approval wait before it. */
    overheadMs?: number;
  };
};

const span = (start?: string, end?: string) => (start && end ? Date.parse(end) - Date.parse(start) : undefined);

export function summarize(run: RunRecord, pushedAt: Date, charts: readonly ChartPublished[], environments: Record<string, EnvironmentSummary>): RunSummary {
  const plan = MANIFEST.plan(run);
  const stages: RunSummary['stages'] = {};
  for (const stage of plan) {
    const record = run.stages[stage];
    stages[stage] = record
      ? { status: record.status, start: record.startedAt, end: record.endedAt, durationMs: span(record.startedAt, record.endedAt), ...(record.detail ? { detail: record.detail } : {}) }
      : { status: 'pending' };
  }
  const firstChart = plan.find((stage) => stage.split(':')[0] === 'chart');
  const chartAt = charts[0]?.at ?? (firstChart ? run.stages[firstChart]?.endedAt : undefined);
  const pushToChartMs = chartAt ? Date.parse(chartAt) - pushedAt.getTime() : undefined;
  const buildMs = span(run.stages.build?.startedAt, run.stages.build?.endedAt);
  const approvals = plan.filter((stage) => stage.split(':')[0] === 'approval');
  const approvalWaitMs = approvals.length ? approvals.reduce((sum, stage) => sum + (span(run.stages[stage]?.startedAt, run.stages[stage]?.endedAt) ?? 0), 0) : undefined;
  const beforeChart = approvals.filter((stage) => firstChart && plan.indexOf(stage) < plan.indexOf(firstChart));
  const waitBeforeChart = beforeChart.reduce((sum, stage) => sum + (span(run.stages[stage]?.startedAt, run.stages[stage]?.endedAt) ?? 0), 0);
  const overheadMs = pushToChartMs !== undefined && buildMs !== undefined ? pushToChartMs - buildMs - waitBeforeChart : undefined;
  const chart = charts.at(-1);
  return {
    runId: run.runId,
    status: run.status,
    services: Object.keys(run.builds).length ? Object.keys(run.builds).sort() : run.services,
    stages,
    environments,
    ...(chart ? { chart: { name: chart.chart, version: chart.chartVersion, ociRef: chart.ociRef, digest: chart.manifestDigest, commit: chart.chartCommit } } : {}),
    ...(run.rollback ? { rollback: { environment: run.rollback.environment, toRunId: run.rollback.toRunId, ...(run.rollback.fromRunId ? { fromRunId: run.rollback.fromRunId } : {}) } } : {}),
    timings: { pushToChartMs, buildMs, approvalWaitMs, overheadMs },
  };
}
