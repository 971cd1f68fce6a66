import type { RunRecord } from '../../shared/ledger/runLedger.js';
import { MANIFEST } from '../../functions/stages.js';

const ICON: Record<string, string> = {
  running: '…',
  waiting: '⏸',
  succeeded: '✓',
  skipped: '–',
  failed: '✗',
  rejected: '✗',
  expired: '✗',
  superseded: '✗',
  canceled: '✗',
  'rolled-back': '↩',
};

function duration(startedAt?: string, endedAt?: string, now = Date.now()): string {
  if (!startedAt) return '';
  const ms = (endedAt ? Date.parse(endedAt) : now) - Date.parse(startedAt);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function stageLine(run: RunRecord, stage: string): string {
  const record = run.stages[stage];
  if (!record) return `  · ${stage.padEnd(14)} pending`;
  const detail = record.detail ? `  ${record.detail}` : '';
  return `  ${ICON[record.status] ?? '?'} ${stage.padEnd(14)} ${record.status.padEnd(11)} ${duration(record.startedAt, record.endedAt).padStart(8)}${detail}`;
}

/**
 * The live stage timeline. On a terminal it redraws its lines in place; anywhere else it prints
 * one plain line each time a stage changes, so logs and CI output stay readable.
 */
export class Timeline {
  private drawn = 0;
  private readonly printed = new Map<string, string>();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly live = Boolean(out.isTTY),
  ) {}

  update(run: RunRecord): void {
    if (this.live) {
      const lines = [`run ${run.runId} · ${run.status}`, ...MANIFEST.plan(run).map((stage) => stageLine(run, stage))];
      if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
      for (const line of lines) this.out.write(`\x1b[2K${line}\n`);
      this.drawn = lines.length;
      return;
    }
    for (const stage of MANIFEST.plan(run)) {
      const record = run.stages[stage];
      if (!record) continue;
      const key = `${run.runId}:${stage}`;
      const state = `${record.status}:${record.endedAt ?? ''}`;
      if (this.printed.get(key) === state) continue;
      this.printed.set(key, state);
      this.out.write(`${run.runId}${stageLine(run, stage)}\n`);
    }
  }

  /** Stops redrawing: the next output starts below the timeline. */
  done(): void {
    this.drawn = 0;
  }
}
