import type { ChartPublished } from '../../shared/contracts/index.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import { MANIFEST } from '../../functions/stages.js';

export type RunSummary = {
  runId: string;
  status: 'succeeded' | 'failed';
  /** Services built in this run. */
  services: string[];
  stages: Record<string, { status: string; start?: string; end?: string; durationMs?: number; detail?: string }>;
  chart?: { name: string; version: string; ociRef: string; digest: string; commit: string };
  /** The run's commit statuses (`baton/<stage>` → state) as the GitHub stand-in shows them at the end of the run. */
  commitStatuses?: Record<string, string>;
  timings: {
    /** Webhook delivered → chart-published. */
    pushToChartMs?: number;
    /** Build stage: first build started → last build finished. */
    buildMs?: number;
    /** Approval requested → decided. */
    approvalWaitMs?: number;
    /** The pipeline's own cost: push to chart-published, minus build time and approval wait. */
    overheadMs?: number;
  };
};

const span = (start?: string, end?: string) => (start && end ? Date.parse(end) - Date.parse(start) : undefined);

/** A deploy that was skipped because no Argo CD is configured (the demo) counts as done. */
function stageOk(stage: string, status: string | undefined): boolean {
  return status === 'succeeded' || (stage === 'deploy' && status === 'skipped');
}

export function summarize(run: RunRecord, pushedAt: Date, chart?: ChartPublished): RunSummary {
  const stages: RunSummary['stages'] = {};
  for (const stage of MANIFEST.plan(run)) {
    const record = run.stages[stage];
    stages[stage] = record
      ? { status: record.status, start: record.startedAt, end: record.endedAt, durationMs: span(record.startedAt, record.endedAt), ...(record.detail ? { detail: record.detail } : {}) }
      : { status: 'pending' };
  }
  const chartAt = chart?.at ?? run.stages.chart?.endedAt;
  const pushToChartMs = chartAt ? Date.parse(chartAt) - pushedAt.getTime() : undefined;
  const buildMs = span(run.stages.build?.startedAt, run.stages.build?.endedAt);
  const approvalWaitMs = span(run.stages.approval?.startedAt, run.stages.approval?.endedAt);
  const overheadMs = pushToChartMs !== undefined && buildMs !== undefined && approvalWaitMs !== undefined ? pushToChartMs - buildMs - approvalWaitMs : undefined;
  return {
    runId: run.runId,
    status: MANIFEST.plan(run).every((stage) => stageOk(stage, run.stages[stage]?.status)) ? 'succeeded' : 'failed',
    services: Object.keys(run.builds).length ? Object.keys(run.builds).sort() : run.services,
    stages,
    ...(chart ? { chart: { name: chart.chart, version: chart.chartVersion, ociRef: chart.ociRef, digest: chart.manifestDigest, commit: chart.chartCommit } } : {}),
    timings: { pushToChartMs, buildMs, approvalWaitMs, overheadMs },
  };
}
