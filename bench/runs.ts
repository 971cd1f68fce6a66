/**
 * `npm run bench:runs`: `baton runs` (the CLI, a process of its own, as people and Jenkins run
 * it) against a ledger of 100 runs and one of 10,000, side by side: its time and its peak memory.
 * Ordered and limited by the store's index, it reads `--limit` runs however many there are.
 * Target: with 10,000 runs at most 1.2× its time with 100. Printed, not asserted.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LEDGER_INDEXES, RunLedger } from '../shared/ledger/runLedger.js';
import { SqliteDocStore } from '../shared/ledger/sqliteDocStore.js';
import { tempDir } from '../test/support/runtimes.js';
import { newRun } from '../test/support/stages.js';

async function seed(count: number): Promise<string> {
  const home = tempDir(`baton-bench-runs-${count}-`);
  const ledger = new RunLedger(new SqliteDocStore(join(home, 'ledger.sqlite'), LEDGER_INDEXES));
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < count; i++) {
    const at = new Date(start + i * 1000);
    const run = newRun({ runId: `shop-${i.toString(16).padStart(7, '0')}-bench`, after: i.toString(16).padStart(40, '0'), services: ['frontend'] }, at);
    await ledger.createRun(run, at, { intake: { status: 'succeeded', startedAt: at.toISOString(), endedAt: at.toISOString(), detail: 'github push' } }, {});
  }
  await ledger.close();
  return home;
}

/** One `baton runs` process: wall time, and its peak RSS (reported by a preloaded exit hook). */
function once(home: string, hook: string): Promise<{ ms: number; rssMb: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', '--import', hook, 'dist/cli/baton.js', 'runs', '--json'], { env: { ...process.env, BATON_HOME: home, PUBSUB_EMULATOR_HOST: '', FIRESTORE_EMULATOR_HOST: '', GOOGLE_CLOUD_PROJECT: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`baton runs failed: ${stderr}`));
      const rss = Number(/maxrss=(\d+)/.exec(stderr)?.[1] ?? 0);
      resolve({ ms: performance.now() - started, rssMb: rss / 1024 });
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const hook = join(tempDir('baton-bench-hook-'), 'rss.mjs');
writeFileSync(hook, "process.on('exit', () => process.stderr.write(`maxrss=${process.resourceUsage().maxRSS}\\n`));\n");
const small = await seed(100);
const large = await seed(10_000);
const results = { small: [] as Array<{ ms: number; rssMb: number }>, large: [] as Array<{ ms: number; rssMb: number }> };
await once(small, hook);
await once(large, hook);
// Alternate, so machine noise falls on both alike.
for (let i = 0; i < 7; i++) {
  results.small.push(await once(small, hook));
  results.large.push(await once(large, hook));
}
const ms = { small: median(results.small.map((r) => r.ms)), large: median(results.large.map((r) => r.ms)) };
const rss = { small: median(results.small.map((r) => r.rssMb)), large: median(results.large.map((r) => r.rssMb)) };
const ratio = ms.large / ms.small;
process.stdout.write(
  [
    'baton runs bench: `baton runs --json` (20 newest), a process each, median of 7, alternating',
    `  100 runs      ${ms.small.toFixed(0).padStart(5)} ms   peak RSS ${rss.small.toFixed(1)} MB`,
    `  10,000 runs   ${ms.large.toFixed(0).padStart(5)} ms   peak RSS ${rss.large.toFixed(1)} MB`,
    `  ratio ${ratio.toFixed(2)}x (target <= 1.2x: ${ratio <= 1.2 ? 'ok' : 'OVER TARGET'}); memory +${(rss.large - rss.small).toFixed(1)} MB`,
    '',
  ].join('\n'),
);
