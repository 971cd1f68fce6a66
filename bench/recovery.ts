/**
 * `npm run bench:recovery`: how long a run stranded by a crash waits after `baton dev` starts
 * again: from the restart (spawn) until the stage the crash interrupted is taken up again. Two
 * strandings, on both runtimes: a crash right after intake's ledger write (until the mirror
 * starts), and one right after the approval is recorded (until the chart bump starts).
 * Targets: <= 5 s embedded, <= 15 s on the emulators. Printed, not asserted.
 */
import type { CrashPoint } from '../shared/stage/crashPoint.js';
import { startCrashStack } from '../test/crash/crashHarness.js';
import type { Kind } from '../test/crash/crashHarness.js';
import { startServices, stopServices } from '../test/support/services.js';

const CASES: Array<{ point: CrashPoint; stage: 'mirror' | 'chart' }> = [
  { point: 'intake:after-ledger-write', stage: 'mirror' },
  { point: 'approval:after-record', stage: 'chart' },
];

async function measure(kind: Kind, point: CrashPoint, stage: 'mirror' | 'chart'): Promise<number> {
  const stack = await startCrashStack(kind);
  try {
    await stack.start(point);
    const { runId } = await stack.push(2);
    if (point === 'approval:after-record') {
      // Drive it to the approval (the decision makes the process die at the point).
      const pushed = Date.now();
      for (;;) {
        const run = await stack.ledger.getRun(runId);
        if (run?.stages.approval?.status === 'waiting') break;
        // A run that ended first (a build that could not reach the registry) never waits: say why instead of waiting for ever.
        if (run && run.status !== 'running') throw new Error(`run ${runId} ${run.status} before its approval: ${run.reason ?? ''}`);
        if (Date.now() - pushed > 120_000) throw new Error(`run ${runId} never waited for its approval`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await stack.approve(runId);
    }
    await stack.dies(30_000);
    const restarted = Date.now();
    await stack.start();
    for (;;) {
      const record = (await stack.ledger.getRun(runId))?.stages[stage];
      if (record && Date.parse(record.startedAt) >= restarted - 50) return Date.parse(record.startedAt) - restarted;
      if (Date.now() - restarted > 120_000) throw new Error(`${stage} never started again`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await stack.stop();
  }
}

const started = startServices();
try {
  const lines = ['baton recovery bench: restart (spawn of baton dev) → the interrupted stage taken up again, median of 3'];
  for (const kind of ['embedded', 'emulators'] as const) {
    for (const { point, stage } of CASES) {
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) samples.push(await measure(kind, point, stage));
      samples.sort((a, b) => a - b);
      const target = kind === 'embedded' ? 5_000 : 15_000;
      lines.push(`  ${kind.padEnd(9)} killed at ${point.padEnd(26)} → ${stage} started ${(samples[1]! / 1000).toFixed(2)} s after the restart (samples ${samples.map((s) => (s / 1000).toFixed(2)).join(', ')}; target <= ${target / 1000} s: ${samples[1]! <= target ? 'ok' : 'OVER TARGET'})`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  stopServices(started);
}
