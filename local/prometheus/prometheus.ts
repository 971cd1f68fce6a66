import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';

/**
 * A real Prometheus on loopback, for the tests and the demo: Debian's `prometheus` package
 * (2.42 here), one process per call, scraping the given `host:port` targets every second so
 * that PromQL over `rate(...[10s])` answers within a few seconds of start-up.
 *
 * Everything it writes stays under `dataDir`: `prometheus.yml`, the TSDB in `data/`, and its
 * log in `prometheus.log` (the first place to look when `ready()` rejects). The process is
 * killed when this Node process exits, so a crashed test leaves nothing behind.
 */
export type PrometheusOptions = {
  /** Directory for the config, the TSDB and the log. Created when missing. */
  dataDir: string;
  /** Scrape targets, `host:port`, each served at `/metrics`. */
  scrapeTargets: string[];
  /** Scrape interval in seconds. Default 1. */
  scrapeIntervalSeconds?: number;
  /** The prometheus binary. Default `BATON_PROMETHEUS_BIN`, else `/usr/bin/prometheus`, else `prometheus` on PATH. */
  binary?: string;
  /** How long `ready()` waits before it rejects. Default 30 s. */
  readyTimeoutMs?: number;
};

export type LocalPrometheus = {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:41234` (append `/api/v1/query`). */
  url: string;
  /** Resolves once `/-/ready` answers and every target has been scraped once with `up == 1`. */
  ready(): Promise<void>;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
  /** The OS process id, for people reading logs. */
  pid: number | undefined;
};

export const PROMETHEUS_INSTALL_HINT = 'apt-get install -y prometheus';

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The prometheus binary to run, or an error that says how to install it. */
export function findPrometheusBinary(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const candidates = explicit ? [explicit] : [env.BATON_PROMETHEUS_BIN, '/usr/bin/prometheus', ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'prometheus'))];
  for (const candidate of candidates) if (candidate && isExecutable(candidate)) return candidate;
  const looked = explicit ?? 'BATON_PROMETHEUS_BIN, /usr/bin/prometheus and PATH';
  throw new Error(`failed to start Prometheus: no prometheus binary (looked in ${looked}). Install Debian's package: ${PROMETHEUS_INSTALL_HINT} (scripts/ensure-deps.sh does it when run as root)`);
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The scrape config: one job, static targets, the given interval. */
export function prometheusConfig(scrapeTargets: readonly string[], scrapeIntervalSeconds = 1): string {
  const interval = `${scrapeIntervalSeconds}s`;
  return stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: 'workload', metrics_path: '/metrics', static_configs: [{ targets: [...scrapeTargets] }] }],
  });
}

function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function getJson(url: string): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // /-/ready answers plain text
    }
    return { status: response.status, body };
  } catch {
    return undefined;
  }
}

type UpSample = { metric?: { instance?: string }; value?: [number, string] };

export async function startPrometheus(options: PrometheusOptions): Promise<LocalPrometheus> {
  const binary = findPrometheusBinary(options.binary);
  if (options.scrapeTargets.length === 0) throw new Error('failed to start Prometheus: no scrape targets');
  mkdirSync(join(options.dataDir, 'data'), { recursive: true });
  const configFile = join(options.dataDir, 'prometheus.yml');
  const logFile = join(options.dataDir, 'prometheus.log');
  writeFileSync(configFile, prometheusConfig(options.scrapeTargets, options.scrapeIntervalSeconds ?? 1));

  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const logFd = openSync(logFile, 'a');
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(options.dataDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1d',
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  installExitHook();
  running.add(child);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    });
  });
  child.once('error', (error) => {
    exited = { code: null, signal: null };
    running.delete(child);
    writeFileSync(logFile, `spawn failed: ${error.message}\n`, { flag: 'a' });
  });

  const died = () => new Error(`failed to start Prometheus: ${binary} exited (${exited?.signal ?? `code ${exited?.code}`}) before it was ready; ${logFile} ends with:\n${logTail(logFile)}`);
  let readyPromise: Promise<void> | undefined;

  const waitReady = async (): Promise<void> => {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    let lastState = 'the HTTP API never answered';
    while (Date.now() < deadline) {
      if (exited) throw died();
      const ready = await getJson(`${url}/-/ready`);
      if (ready?.status === 200) break;
      await sleep(100);
    }
    while (Date.now() < deadline) {
      if (exited) throw died();
      const up = await getJson(`${url}/api/v1/query?query=up`);
      const samples = ((up?.body as { data?: { result?: UpSample[] } } | undefined)?.data?.result ?? []) as UpSample[];
      const upByInstance = new Map(samples.map((sample) => [sample.metric?.instance, sample.value?.[1]]));
      const waiting = options.scrapeTargets.filter((target) => upByInstance.get(target) !== '1');
      if (up?.status === 200 && waiting.length === 0) return;
      lastState = up ? `not yet scraped with up == 1: ${waiting.map((target) => `${target} (up=${upByInstance.get(target) ?? 'none'})`).join(', ')}` : 'the HTTP API stopped answering';
      await sleep(100);
    }
    const targets = await getJson(`${url}/api/v1/targets`);
    const errors = ((targets?.body as { data?: { activeTargets?: Array<{ scrapeUrl?: string; lastError?: string }> } } | undefined)?.data?.activeTargets ?? [])
      .filter((target) => target.lastError)
      .map((target) => `${target.scrapeUrl}: ${target.lastError}`);
    throw new Error(`failed to start Prometheus: not ready after ${options.readyTimeoutMs ?? 30_000} ms at ${url}: ${lastState}${errors.length ? `; scrape errors: ${errors.join('; ')}` : ''}; see ${logFile}`);
  };

  return {
    url,
    pid: child.pid,
    ready() {
      readyPromise ??= waitReady();
      return readyPromise;
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(killer);
    },
  };
}
