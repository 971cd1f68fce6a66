import type { RunRecord, StageRecord } from '../../shared/ledger/runLedger.js';
import { MANIFEST } from '../../functions/stages.js';

/** The run's stages in order, as the stage manifest says for its kind. */
const stagesOf = (run: RunRecord) => MANIFEST.plan(run);

/** Plain-text tables for `baton runs` and `baton status`: fixed columns, no colour, so they read the same in a terminal and in Jenkins' console. */

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** `1.2s`, `4m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  if (ms < 0) return '-';
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** The furthest stage the run has reached, with its status. */
export function currentStage(run: RunRecord): { stage: string; record: StageRecord } | undefined {
  for (const stage of [...stagesOf(run)].reverse()) {
    const record = run.stages[stage];
    if (record) return { stage, record };
  }
  return undefined;
}

export function formatRuns(runs: RunRecord[]): string {
  if (runs.length === 0) return 'no runs yet\n';
  const rows = runs.map((run) => {
    const current = currentStage(run);
    return [
      run.runId,
      run.pipeline,
      run.status,
      current ? `${current.stage} ${current.record.status}` : '-',
      `${run.after.slice(0, 7)} ${run.branch}`,
      run.pusher.name,
      run.createdAt,
    ];
  });
  return `${table(['RUN', 'PIPELINE', 'STATUS', 'STAGE', 'COMMIT', 'PUSHER', 'CREATED'], rows).join('\n')}\n`;
}

/**
 * One run's stage timeline: stage, status, start, duration, detail, then each stage's links and
 * each service's build. `attempts`: every run of the run's push (`baton retry`), shown when there
 * is more than one.
 */
export function formatStatus(run: RunRecord, now: Date, attempts: ReadonlyArray<{ attempt: number; run: Pick<RunRecord, 'runId' | 'status'> }> = []): string {
  const lines = [
    `run ${run.runId}: ${run.status}${run.reason ? ` (${run.reason})` : ''}  (pipeline ${run.pipeline}, ${run.kind})`,
    `commit ${run.after.slice(0, 7)} on ${run.branch} of ${run.repository}, pushed by ${run.pusher.name}${run.headMessage ? `: ${run.headMessage}` : ''}`,
    `services: ${run.services.join(', ') || '(none yet)'}`,
    ...(attempts.length > 1 ? [`attempts: ${attempts.map(({ attempt, run: other }) => `${attempt}. ${other.runId} ${other.status}${other.runId === run.runId ? ' (this one)' : ''}`).join(' · ')}`] : []),
    '',
  ];
  const rows = stagesOf(run).map((stage) => {
    const record = run.stages[stage];
    if (!record) return [stage, '-', '', '', ''];
    const end = record.endedAt ? new Date(record.endedAt) : now;
    const duration = formatDuration(end.getTime() - new Date(record.startedAt).getTime());
    return [stage, record.status, record.startedAt, record.endedAt ? duration : `${duration}…`, record.detail ?? ''];
  });
  lines.push(...table(['STAGE', 'STATUS', 'START', 'DURATION', 'DETAIL'], rows));
  const builds = Object.entries(run.builds);
  if (builds.length > 0) {
    lines.push('', 'builds:');
    for (const [service, build] of builds) {
      const image = build.image ? ` ${build.image.repository}:${build.image.tag}@${build.image.digest}` : '';
      lines.push(`  ${service}: ${build.status}${image}${build.detail ? ` (${build.detail})` : ''}`);
      if (build.logUrl) lines.push(`    logs: ${build.logUrl}`);
    }
  }
  if (run.history.length > 0) {
    // Repairs, in words: "re-drove source-mirrored to buildTrigger (reconciler, 10:42:07)".
    lines.push('', 'history:', ...run.history.map((entry) => `  ${entry.at.slice(11, 19)} ${entry.note} (by the ${entry.by} at ${entry.at})`));
  }
  const links = stagesOf(run).flatMap((stage) => Object.entries(run.stages[stage]?.links ?? {}).map(([name, url]) => `  ${stage} ${name}: ${url}`));
  if (run.compareUrl) links.unshift(`  compare: ${run.compareUrl}`);
  if (links.length > 0) lines.push('', 'links:', ...links);
  return `${lines.join('\n')}\n`;
}
