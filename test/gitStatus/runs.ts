import type { RunSnapshot, StageSnapshot, StageStatus } from '../../functions/gitStatus/types.js';

/**
 * Run snapshots as the ledger would hold them along a run: `timeline` gives every snapshot of a
 * run in order, one per stage transition, the way the gitStatus stage sees them.
 */
export const SHA = 'a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d';
const T0 = Date.parse('2026-12-01T10:00:00Z');

export function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

export function run(overrides: Partial<RunSnapshot> = {}, stages: Record<string, StageSnapshot> = {}): RunSnapshot {
  return {
    runId: 'shop-7-a84d88e',
    pipeline: 'shop',
    provider: 'github',
    repository: 'acme/shop',
    after: SHA,
    status: 'running',
    stages,
    ...overrides,
  };
}

type Step = [stage: string, status: StageStatus, detail?: string];

/** Applies steps one by one and returns every snapshot (each one a fresh object). */
export function timeline(steps: Step[], overrides: Partial<RunSnapshot> = {}, end?: { status: RunSnapshot['status']; reason?: string }): RunSnapshot[] {
  const snapshots: RunSnapshot[] = [];
  let stages: Record<string, StageSnapshot> = {};
  steps.forEach(([name, status, detail], i) => {
    const previous = stages[name];
    const open = status === 'running' || status === 'waiting';
    stages = {
      ...stages,
      [name]: {
        status,
        startedAt: previous?.startedAt ?? at(i * 10),
        ...(open ? {} : { endedAt: at(i * 10 + 5) }),
        ...(detail ? { detail } : {}),
      },
    };
    snapshots.push(run(overrides, stages));
  });
  if (end) snapshots.push(run({ ...overrides, status: end.status, ...(end.reason ? { reason: end.reason } : {}) }, stages));
  return snapshots;
}

/** A whole successful run: intake → mirror → build → approval → chart → deploy. */
export const happySteps: Step[] = [
  ['intake', 'succeeded'],
  ['mirror', 'running'],
  ['mirror', 'succeeded'],
  ['build', 'running', 'frontend'],
  ['build', 'succeeded', 'frontend'],
  ['approval', 'waiting', 'waiting for approval in #deploys'],
  ['approval', 'succeeded', 'approved by U123'],
  ['chart', 'running'],
  ['chart', 'succeeded', 'online-boutique 0.3.8'],
  ['deploy', 'running'],
  ['deploy', 'succeeded', 'Synced and Healthy'],
];
