/**
 * `npm run bench:intake`: webhook intake throughput and p99 latency on loopback, measured in one
 * run beside the limit (a bare node:http server that only computes the same HMAC), plus the time
 * to load the package's `main` and each target's time to first response under functions-framework.
 * Targets: ≥ 50% of the limit's throughput, p99 ≤ 10 ms, ≤ 250 ms to load and first respond.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serveHttp } from '../shared/adapters/http.js';
import { parseConfig } from '../shared/config/pipelineConfig.js';
import { githubHeaders, githubPushPayload } from '../standins/gitHost.js';
import { setLogSink } from '../shared/log/logger.js';
import { embeddedRuntime } from '../shared/runtime/embeddedRuntime.js';
import { MANIFEST, STAGES } from '../functions/stages.js';
import { webhookIntake } from '../functions/webhookIntake/stage.js';
import { httpStageTarget } from '../shared/stage/runner.js';
import type { AnyStage } from '../shared/stage/declaration.js';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const SECRET = 'bench-webhook-secret';
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const CONFIG = `
pipelines:
  - name: shop
    repository: acme/shop
    branches: ["main"]
    services:
      - { name: frontend, path: src/frontend/ }
      - { name: cartservice, path: src/cartservice/ }
`;

const body = Buffer.from(
  JSON.stringify(
    githubPushPayload({
      repository: 'acme/shop',
      cloneUrl: 'https://github.com/acme/shop.git',
      ref: 'refs/heads/main',
      before: 'a'.repeat(40),
      after: 'b'.repeat(40),
      commits: [{ id: 'b'.repeat(40), message: 'frontend: faster ✓', author: { name: 'dev', email: 'dev@example.com' }, modified: ['src/frontend/main.go'] }],
    }),
  ),
);

type LoadResult = { rps: number; p50: number; p99: number; statuses: Record<number, number> };

/** Sends REQUESTS signed pushes (each a new delivery) with CONCURRENCY connections kept alive. */
async function load(url: string, requests: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(url);
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const headers = githubHeaders(SECRET, body, 'push', randomUUID());
      const started = performance.now();
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - started);
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < requests) await one();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { rps: requests / seconds, p50: at(0.5), p99: at(0.99), statuses };
}

/** The limit: accept, read the body, compute the same HMAC, answer 202. */
function bareHmacServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const digest = `sha256=${createHmac('sha256', SECRET).update(Buffer.concat(chunks)).digest('hex')}`;
      res.writeHead(digest === req.headers['x-hub-signature-256'] ? 202 : 401, { 'content-type': 'application/json' });
      res.end('{"runId":"x"}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

/** Wall time for a fresh Node process to import the package main (minus a bare node start). */
async function timeChild(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
  return performance.now() - started;
}

/** Spawns functions-framework for a target and measures spawn → first HTTP response. */
async function firstResponse(target: string, kind: 'http' | 'topic' | 'schedule', env: NodeJS.ProcessEnv, port: number, source?: string): Promise<number> {
  const started = performance.now();
  const args = [`--target=${target}`, `--port=${port}`, ...(kind === 'topic' ? ['--signature-type=cloudevent'] : []), ...(source ? [`--source=${source}`] : [])];
  const child = spawn(process.execPath, ['node_modules/@google-cloud/functions-framework/build/src/main.js', ...args], {
    env,
    stdio: 'ignore',
  });
  // A request every target answers without touching a cloud SDK: an unsigned webhook (401), a
  // Pub/Sub push whose data breaks the contract (logged and acked), or a GET to a scheduled stage
  // (405; its POSTed tick reads the ledger, so its first answer includes loading Firestore).
  const payload = kind === 'http' ? '{}' : JSON.stringify({ subscription: 'projects/p/subscriptions/s', message: { data: Buffer.from('{}').toString('base64'), messageId: '1', attributes: {} } });
  const headers = kind === 'http' ? { 'content-type': 'application/json', 'x-github-event': 'push' } : { 'content-type': 'application/json' };
  try {
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const req = request({ host: '127.0.0.1', port, method: kind === 'schedule' ? 'GET' : 'POST', path: '/', headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(true));
        });
        req.on('error', () => resolve(false));
        req.end(payload);
      });
      if (ok) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (performance.now() - started > 15_000) throw new Error(`${target} did not answer`);
    }
  } finally {
    child.kill();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function main(): Promise<void> {
  setLogSink(() => undefined);
  const workDir = mkdtempSync(join(tmpdir(), 'baton-bench-intake-'));
  const runtimeEnv = { GITHUB_WEBHOOK_SECRET: SECRET, METADATA_SERVER_DETECTION: 'none' };
  // The embedded runtime's ledger as `baton dev` keeps it (a SQLite file), and the same in memory,
  // which shows what intake itself costs apart from the disk.
  const onDisk = embeddedRuntime({ env: runtimeEnv, config: parseConfig(CONFIG, 'bench.yaml'), local: { workDir, registry: '127.0.0.1:5000' } });
  const inMemory = embeddedRuntime({ env: runtimeEnv, config: parseConfig(CONFIG, 'bench.yaml'), local: { workDir, registry: '127.0.0.1:5000' }, ledgerFile: ':memory:' });
  const sides = [
    { name: 'baton intake, SQLite file', ...(await serveHttp([{ method: 'POST', path: '/webhookIntake', target: httpStageTarget(webhookIntake, onDisk, MANIFEST) }], onDisk)), path: 'webhookIntake', results: [] as LoadResult[] },
    { name: 'baton intake, SQLite :memory:', ...(await serveHttp([{ method: 'POST', path: '/webhookIntake', target: httpStageTarget(webhookIntake, inMemory, MANIFEST) }], inMemory)), path: 'webhookIntake', results: [] as LoadResult[] },
    { name: 'bare HMAC server (limit)', ...(await bareHmacServer()), path: '', results: [] as LoadResult[] },
  ];
  const urlOf = (side: (typeof sides)[number]) => `${side.url.replace(/\/$/, '')}/${side.path}`;

  // Warm every side, then alternate rounds so that machine noise falls on all alike.
  for (const side of sides) await load(urlOf(side), 300);
  const rounds = 3;
  for (let i = 0; i < rounds; i++) for (const side of sides) side.results.push(await load(urlOf(side), REQUESTS));
  for (const side of sides) {
    side.server.close();
    side.server.closeAllConnections();
  }

  const limitRps = median(sides[2]!.results.map((r) => r.rps));
  console.log(`intake throughput, ${REQUESTS} signed pushes (each a new delivery) x ${rounds} rounds, ${CONCURRENCY} connections, in-process bus:`);
  for (const side of sides) {
    const rps = median(side.results.map((r) => r.rps));
    console.log(
      `  ${side.name.padEnd(30)} ${fmt(rps, 0).padStart(6)} req/s  ${fmt((100 * rps) / limitRps).padStart(5)}% of the limit   p50 ${fmt(median(side.results.map((r) => r.p50)), 2)} ms   p99 ${fmt(median(side.results.map((r) => r.p99)), 2)} ms   statuses ${JSON.stringify(side.results[0]!.statuses)}`,
    );
  }
  console.log('  targets: >= 50% of the limit\'s throughput, p99 <= 10 ms');
  // A throughput of errors is no throughput: every push must have been accepted.
  const refused = sides.flatMap((side) => side.results.flatMap((result) => Object.entries(result.statuses).filter(([status]) => status !== '202').map(([status, count]) => `${side.name}: ${count} × HTTP ${status}`)));
  if (refused.length) {
    console.error(`bench:intake: not every push was accepted (${refused.join('; ')}); run it with npm run, which uses the pinned node`);
    process.exitCode = 1;
  }

  // Cold start: a fresh process per sample; the bare node start is measured beside it.
  const env = { ...process.env, METADATA_SERVER_DETECTION: 'none', GOOGLE_CLOUD_PROJECT: 'bench', BATON_CONFIG: join(workDir, 'baton.yaml'), GITHUB_WEBHOOK_SECRET: SECRET };
  writeFileSync(env.BATON_CONFIG, CONFIG);
  const samples = 5;
  const bareNode: number[] = [];
  const mainLoad: number[] = [];
  for (let i = 0; i < samples; i++) {
    bareNode.push(await timeChild(['-e', ''], env));
    mainLoad.push(await timeChild(['--input-type=module', '-e', `await import(${JSON.stringify(join(process.cwd(), 'dist/functions/index.js'))})`], env));
  }
  console.log(`\npackage main load: ${fmt(median(mainLoad) - median(bareNode), 0)} ms beyond a bare node start (${fmt(median(bareNode), 0)} ms); process total ${fmt(median(mainLoad), 0)} ms (target <= 250 ms)`);
  // The floor: functions-framework serving a one-line function, measured the same way.
  const hello = join(workDir, 'hello');
  mkdirSync(hello);
  writeFileSync(join(hello, 'index.js'), `require(${JSON.stringify(join(process.cwd(), 'node_modules/@google-cloud/functions-framework'))}).http('hello', (req, res) => res.send('hi'));\n`);
  writeFileSync(join(hello, 'package.json'), '{"type":"commonjs"}');
  let port = 18_400;
  const floorTimes: number[] = [];
  for (let i = 0; i < 3; i++) floorTimes.push(await firstResponse('hello', 'http', env, port++, hello));
  const floor = median(floorTimes);
  console.log(`time to first response under functions-framework (spawn to first answer, median of 3); floor: a one-line function, ${fmt(floor, 0)} ms:`);
  for (const { name, trigger } of STAGES as readonly AnyStage[]) {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push(await firstResponse(name, trigger.kind, env, port++));
    console.log(`  ${name.padEnd(17)} ${fmt(median(times), 0).padStart(5)} ms   baton's own share ${fmt(median(times) - floor, 0).padStart(4)} ms (target <= 250 ms)`);
  }
  await onDisk.ledger().close();
  await inMemory.ledger().close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
