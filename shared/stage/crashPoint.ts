/**
 * Named crash points at every side effect of the chain, for the crash-point suite: with
 * `BATON_CRASH_AT=<point>` in its environment, the process kills itself with SIGKILL when it
 * reaches that point, as a recycled Cloud Run instance or a closed laptop would. Off (one string
 * comparison) otherwise.
 */
export const CRASH_POINTS = [
  'intake:after-ledger-write',
  'mirror:before-push',
  'mirror:after-push',
  'build:after-start',
  'build:during',
  'approval:after-record',
  'chart:after-commit-push',
  'chart:after-registry-push',
  'before-ack',
] as const;

/** The points only a pipeline with environments reaches (test/crash/crashEnvironments.ts). */
export const ENVIRONMENT_CRASH_POINTS = ['verify:during', 'verify:after-rollback-started'] as const;
/** `baton retry`'s start of a run, which only the CLI reaches (test/runs/retry.dev.test.ts). */
export const RETRY_CRASH_POINTS = ['retry:after-ledger-write'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number] | (typeof ENVIRONMENT_CRASH_POINTS)[number] | (typeof RETRY_CRASH_POINTS)[number];

const target = process.env.BATON_CRASH_AT;

export function crashPoint(point: CrashPoint): void {
  if (target !== point) return;
  process.stderr.write(`baton: crashing at ${point} (BATON_CRASH_AT)\n`);
  process.kill(process.pid, 'SIGKILL');
}
