/**
 * `npm run bench:mirror`: how much a one-commit push costs baton's mirror on a repository with
 * a long history, against two references measured in the same run:
 *   (a) the limit: a plain `git push` of that commit from a full clone that already has it;
 *   (b) the naive way: clone everything from the source, then push.
 * baton is measured warm (its per-mirror cache already seeded, the usual case on a warm
 * instance or in the embedded runtime) and cold (a fresh instance: empty cache).
 * Targets: warm baton at most 2x the limit, and at least 10x faster than naive.
 * Every remote is a file:// URL, so git goes through its transport (no hardlinked clones).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mirrorRef } from '../functions/repoMirror/mirror.js';
import { createHistoryRepo } from './syntheticHistory.js';

const COMMITS = Number(process.env.BENCH_COMMITS ?? 20_000);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 5);
const NAIVE_TRIALS = Number(process.env.BENCH_NAIVE_TRIALS ?? 3);
const REF = 'refs/heads/main';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function time(run: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'baton-bench-mirror-'));
  try {
    const built = performance.now();
    const source = join(root, 'source.git');
    // Source-sized files (40 lines, about 2.5 KB) in a 1000-file tree: a clone then costs what a
    // real repository's does, while a commit's delta stays one small edit.
    const tip = createHistoryRepo(source, { commits: COMMITS, files: 1000, dirs: 10, lines: 40 });
    git(source, 'gc', '--quiet');
    const sourceUrl = pathToFileURL(source).href;
    // A mirror that already holds everything but the last commit, copied fresh for every trial.
    const template = join(root, 'mirror-template.git');
    git(root, 'init', '--quiet', '--bare', '--initial-branch', 'main', template);
    git(source, 'push', '--quiet', pathToFileURL(template).href, `${tip}~1:${REF}`);
    git(template, 'gc', '--quiet');
    // The full clone for the limit: it already has the new commit.
    const fullClone = join(root, 'full-clone.git');
    git(root, 'clone', '--quiet', '--bare', '--no-local', sourceUrl, fullClone);
    const size = git(source, 'count-objects', '-vH').match(/size-pack: (.+)/)?.[1] ?? '?';
    console.log(`history: ${COMMITS} commits (${size} packed) built in ${((performance.now() - built) / 1000).toFixed(1)} s; pushing ${tip.slice(0, 7)} (one commit) to a mirror at its parent`);

    let trial = 0;
    const freshMirror = () => {
      const dir = join(root, `mirror-${++trial}.git`);
      cpSync(template, dir, { recursive: true });
      return { dir, url: pathToFileURL(dir).href };
    };
    const check = (mirrorDir: string) => {
      if (git(mirrorDir, 'rev-parse', REF) !== tip) throw new Error(`mirror ${mirrorDir} does not hold ${tip}`);
    };

    const warm: number[] = [];
    const cold: number[] = [];
    const limit: number[] = [];
    const naive: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      {
        const mirror = freshMirror();
        const cacheRoot = join(root, `cache-warm-${i}`);
        // Seed the cache the way a previous push would have: it last saw the mirror at tip~1.
        await mirrorRef({ sourceUrl, mirrorUrl: mirror.url, ref: REF, after: git(source, 'rev-parse', `${tip}~1`), cacheRoot });
        warm.push(await time(() => mirrorRef({ sourceUrl, mirrorUrl: mirror.url, ref: REF, after: tip, cacheRoot })));
        check(mirror.dir);
      }
      {
        const mirror = freshMirror();
        cold.push(await time(() => mirrorRef({ sourceUrl, mirrorUrl: mirror.url, ref: REF, after: tip, cacheRoot: join(root, `cache-cold-${i}`) })));
        check(mirror.dir);
      }
      {
        const mirror = freshMirror();
        limit.push(await time(() => git(fullClone, 'push', '--quiet', mirror.url, `${tip}:${REF}`)));
        check(mirror.dir);
      }
    }
    for (let i = 0; i < NAIVE_TRIALS; i++) {
      const mirror = freshMirror();
      const clone = join(root, `naive-${i}.git`);
      naive.push(
        await time(() => {
          git(root, 'clone', '--quiet', '--bare', '--no-local', sourceUrl, clone);
          git(clone, 'push', '--quiet', mirror.url, `${tip}:${REF}`);
        }),
      );
      check(mirror.dir);
      rmSync(clone, { recursive: true, force: true });
    }

    const m = { warm: median(warm), cold: median(cold), limit: median(limit), naive: median(naive) };
    const row = (name: string, samples: number[], value: number) =>
      `  ${name.padEnd(44)} ${value.toFixed(1).padStart(8)} ms   (${samples.map((sample) => sample.toFixed(0)).join(', ')})`;
    console.log(`\nmedians over ${TRIALS} trials (naive: ${NAIVE_TRIALS}):`);
    console.log(row('baton mirror, warm cache', warm, m.warm));
    console.log(row('baton mirror, cold cache (fresh instance)', cold, m.cold));
    console.log(row('(a) limit: git push from a full clone', limit, m.limit));
    console.log(row('(b) naive: clone everything, then push', naive, m.naive));
    const warmVsLimit = m.warm / m.limit;
    const naiveVsWarm = m.naive / m.warm;
    console.log('\nratios:');
    console.log(`  warm / limit  = ${warmVsLimit.toFixed(2)}x   target <= 2x   ${warmVsLimit <= 2 ? 'OK' : 'MISSED'}`);
    console.log(`  naive / warm  = ${naiveVsWarm.toFixed(1)}x   target >= 10x  ${naiveVsWarm >= 10 ? 'OK' : 'MISSED'}`);
    console.log(`  cold / limit  = ${(m.cold / m.limit).toFixed(2)}x   naive / cold = ${(m.naive / m.cold).toFixed(1)}x   (for information)`);
    if (process.env.BENCH_JSON) console.log(JSON.stringify({ commits: COMMITS, medianMs: m, warmVsLimit, naiveVsWarm }));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
