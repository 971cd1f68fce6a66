/**
 * `npm run bench:chart`: chartBump's costs against their limits, in one run.
 *
 * 1. Bump, commit and push (one service's tag and digest, Chart.yaml version and appVersion,
 *    through ChartRepo on a kept clone) against a raw `git commit && git push` of a one-line
 *    change in a plain clone of the same bare repo. Target: at most 1.5×.
 * 2. Publish the chart (package + OCI push with Helm's media types) against a raw upload of the
 *    same bytes: POST/PUT of both blobs and a PUT of the manifest. Target: at most 1.5×.
 * 3. 20 concurrent bumps of different services, from 20 separate instances, on one chart repo:
 *    the total time, and a check that all 20 landed.
 *
 * Needs git and Debian's docker-registry: it starts a registry of its own unless BATON_REGISTRY names one.
 */
import { execFileSync, execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { parse } from 'yaml';
import { readChartTexts, writeChartTexts } from '../domain/chart/chartDir.js';
import { applyImagesToChart } from '../domain/chart/chartEdit.js';
import { ChartRepo } from '../domain/chart/chartRepo.js';
import type { PreparedChange } from '../domain/chart/chartRepo.js';
import { OCI_MANIFEST_MEDIA_TYPE, helmConfigJson, helmManifest, publishChart } from '../domain/chart/ociPublish.js';
import { packageChart } from '../domain/chart/package.js';
import { botCommitMessage } from '../shared/git/botCommit.js';
import { OciRegistry, sha256Digest } from '../shared/oci/registryClient.js';
import { startLocalRegistry } from '../local/registry.js';

const run = promisify(execFile);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 15);
const CONCURRENT = 20;
const TARGET_RATIO = 1.5;
const BOT = { name: 'baton-bot', email: 'baton-bot@users.noreply.baton.dev' };
const CHART_PATH = 'charts/online-boutique';
const work = mkdtempSync(join(tmpdir(), 'baton-bench-chart-'));
// Its own registry unless one is given, as the tests do: nothing needs to be running first.
const ownRegistry = process.env.BATON_REGISTRY ? undefined : await startLocalRegistry(join(work, 'registry'));
const REGISTRY = process.env.BATON_REGISTRY ?? ownRegistry!.host;

const digest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
const unique = () => randomBytes(4).toString('hex');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** A bare repo seeded with `fill(seedDir)`, with the given branches. */
function seedRepo(name: string, fill: (dir: string) => void, branches = ['main']): string {
  const bare = join(work, `${name}.git`);
  const seed = join(work, `${name}-seed`);
  mkdirSync(bare, { recursive: true });
  git(bare, 'init', '--quiet', '--bare', '--initial-branch', 'main');
  git(bare, 'config', 'receive.denyNonFastForwards', 'true');
  mkdirSync(seed, { recursive: true });
  git(seed, 'init', '--quiet', '--initial-branch', 'main');
  fill(seed);
  git(seed, 'add', '--all');
  git(seed, 'commit', '--quiet', '-m', 'seed');
  for (const branch of branches) git(seed, 'push', '--quiet', bare, `HEAD:refs/heads/${branch}`);
  return bare;
}

function syntheticChart(dir: string, services: number): void {
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: bench\nversion: 0.1.0\nappVersion: "0000000"\n');
  const blocks = Array.from({ length: services }, (_, index) => `  # service ${index}\n  svc-${index}:\n    image:\n      repository: registry.test/svc-${index}\n      tag: "0000000"\n      digest: ""\n`);
  writeFileSync(join(dir, 'values.yaml'), `services:\n${blocks.join('')}`);
  writeFileSync(join(dir, 'templates', 'x.yaml'), 'kind: ConfigMap\n');
}

function sourceChart(): string {
  const real = resolve('charts/online-boutique');
  if (existsSync(join(real, 'Chart.yaml'))) return real;
  const fallback = join(work, 'fallback-chart');
  syntheticChart(fallback, 11);
  return fallback;
}

function bumpOne(chartPath: string, service: string, tag: string, runId: string) {
  return async (workTree: string): Promise<PreparedChange<string>> => {
    const dir = join(workTree, chartPath);
    const result = applyImagesToChart(await readChartTexts(dir), [{ service, tag, digest: digest(`${service}:${tag}`) }]);
    if (!result.changed) return { kind: 'none', value: result.version };
    await writeChartTexts(dir, result.texts);
    return { kind: 'commit', message: botCommitMessage(`chart: ${service} to ${tag}`, runId), paths: [join(chartPath, 'values.yaml'), join(chartPath, 'Chart.yaml')], value: result.version };
  };
}

async function benchBump(): Promise<{ ours: number; raw: number }> {
  const chart = sourceChart();
  // baton pushes to main, the raw baseline to its own branch: neither makes the other retry.
  const bare = seedRepo('bump', (dir) => cpSync(chart, join(dir, CHART_PATH), { recursive: true }), ['main', 'raw']);
  const service = Object.keys((parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as { services: Record<string, unknown> }).services)[0]!;
  const repo = new ChartRepo({ url: bare, branch: 'main', bot: BOT, cacheDir: join(work, 'bump-cache') });
  const rawClone = join(work, 'raw-clone');
  git(work, 'clone', '--quiet', '--branch', 'raw', bare, rawClone);
  git(rawClone, 'config', 'user.name', 'Bench');
  git(rawClone, 'config', 'user.email', 'bench@example.com');
  const rawValues = join(rawClone, CHART_PATH, 'values.yaml');

  await repo.update(bumpOne(CHART_PATH, service, 'warmup', 'bench-warmup')); // clone once, as a warm instance has
  const ours: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    let started = performance.now();
    await repo.update(bumpOne(CHART_PATH, service, `t${i}`, `bench-${i}`));
    ours.push(performance.now() - started);

    // The equivalent one-line change, edited outside the timing, then committed and pushed raw.
    writeFileSync(rawValues, readFileSync(rawValues, 'utf8').replace(/digest: "[^"\n]*"/, `digest: "${digest(`raw-${i}`)}"`));
    started = performance.now();
    await run('git', ['commit', '-q', '-a', '-m', `raw ${i}`], { cwd: rawClone });
    await run('git', ['push', '-q', 'origin', 'HEAD:raw'], { cwd: rawClone });
    raw.push(performance.now() - started);
  }
  await repo.close();
  return { ours: median(ours), raw: median(raw) };
}

/** The raw limit: the same three payloads, uploaded with plain fetch in sequence. */
async function rawUpload(repository: string, config: Buffer, layer: Buffer, manifest: Buffer, tag: string): Promise<void> {
  const base = `http://${REGISTRY}`;
  for (const blob of [config, layer]) {
    const started = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
    const url = new URL(started.headers.get('location')!, base);
    url.searchParams.set('digest', sha256Digest(blob));
    const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(blob) });
    if (put.status !== 201) throw new Error(`raw upload failed: HTTP ${put.status}`);
  }
  const put = await fetch(`${base}/v2/${repository}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST_MEDIA_TYPE }, body: new Uint8Array(manifest) });
  if (put.status !== 201) throw new Error(`raw manifest upload failed: HTTP ${put.status}`);
}

async function benchPublish(): Promise<{ ours: number; raw: number; packaging: number; bytes: number }> {
  const chartDir = sourceChart();
  const registry = new OciRegistry(REGISTRY);
  const prefix = `baton-bench-${unique()}`;
  const sample = await packageChart(chartDir);
  const config = helmConfigJson(sample.metadata);
  const manifest = helmManifest(sample, config);
  await publishChart(registry, `${prefix}/warmup`, sample); // connection set up, as in a warm instance
  await rawUpload(`${prefix}/warmup-raw/${sample.name}`, config, sample.bytes, manifest, sample.version);
  const ours: number[] = [];
  const raw: number[] = [];
  const packaging: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    // Fresh repositories each time, so neither side finds blobs already there.
    let started = performance.now();
    const chart = await packageChart(chartDir);
    packaging.push(performance.now() - started);
    await publishChart(registry, `${prefix}/ours-${i}`, chart);
    ours.push(performance.now() - started);
    started = performance.now();
    await rawUpload(`${prefix}/raw-${i}/${sample.name}`, config, sample.bytes, manifest, sample.version);
    raw.push(performance.now() - started);
  }
  return { ours: median(ours), raw: median(raw), packaging: median(packaging), bytes: sample.bytes.length };
}

async function benchConcurrent(): Promise<{ totalMs: number; landed: number; maxAttempts: number }> {
  const bare = seedRepo('concurrent', (dir) => syntheticChart(join(dir, 'charts/bench'), CONCURRENT));
  const repos = Array.from({ length: CONCURRENT }, (_, index) => new ChartRepo({ url: bare, branch: 'main', bot: BOT, cacheDir: join(work, `instance-${index}`) }));
  const started = performance.now();
  const outcomes = await Promise.all(repos.map((repo, index) => repo.update(bumpOne('charts/bench', `svc-${index}`, `c${index}`, `bench-c${index}`))));
  const totalMs = performance.now() - started;
  const values = parse(git(bare, 'show', 'main:charts/bench/values.yaml')) as { services: Record<string, { image: { tag: string; digest: string } }> };
  const landed = Array.from({ length: CONCURRENT }, (_, index) => values.services[`svc-${index}`]!.image).filter((image, index) => image.tag === `c${index}` && image.digest === digest(`svc-${index}:c${index}`)).length;
  await Promise.all(repos.map((repo) => repo.close()));
  return { totalMs, landed, maxAttempts: Math.max(...outcomes.map((outcome) => outcome.attempts)) };
}

const fmt = (ms: number) => `${ms.toFixed(1).padStart(7)} ms`;
const verdict = (ratio: number) => (ratio <= TARGET_RATIO ? `ok (target <= ${TARGET_RATIO}x)` : `OVER TARGET (<= ${TARGET_RATIO}x)`);

try {
  const bump = await benchBump();
  const publish = await benchPublish();
  const concurrent = await benchConcurrent();
  const bumpRatio = bump.ours / bump.raw;
  const publishRatio = publish.ours / publish.raw;
  process.stdout.write(
    [
      `baton chart bench: ${ITERATIONS} iterations each, medians; registry ${REGISTRY}`,
      `bump+commit+push     ${fmt(bump.ours)}   raw git commit && git push      ${fmt(bump.raw)}   ${bumpRatio.toFixed(2)}x  ${verdict(bumpRatio)}`,
      `publish chart        ${fmt(publish.ours)}   raw blob+manifest upload        ${fmt(publish.raw)}   ${publishRatio.toFixed(2)}x  ${verdict(publishRatio)}`,
      `  (of which packaging ${fmt(publish.packaging)}, ${publish.bytes} bytes .tgz)`,
      `${CONCURRENT} concurrent bumps  ${(concurrent.totalMs / 1000).toFixed(2)} s total, ${concurrent.landed}/${CONCURRENT} landed, max ${concurrent.maxAttempts} push attempts for one bump`,
      '',
    ].join('\n'),
  );
  if (concurrent.landed !== CONCURRENT) process.exitCode = 1;
} finally {
  await ownRegistry?.stop();
  rmSync(work, { recursive: true, force: true });
}
