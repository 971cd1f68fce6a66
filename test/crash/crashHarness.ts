import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { DEMO_REPOSITORY, createWorkspace, pushChange } from '../../cli/demo/workspace.js';
import type { Workspace } from '../../cli/demo/workspace.js';
import { pushedCommits } from '../../cli/demo/gitPush.js';
import { runIdFor } from '../../functions/webhookIntake/intake.js';
import { FirestoreDocStore } from '../../shared/ledger/firestoreDocStore.js';
import { LEDGER_INDEXES, RunLedger } from '../../shared/ledger/runLedger.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import { SqliteDocStore } from '../../shared/ledger/sqliteDocStore.js';
import type { CrashPoint } from '../../shared/stage/crashPoint.js';
import { freePort } from '../../local/registry.js';
import { githubHeaders, githubPushPayload } from '../../standins/gitHost.js';
import { tempDir, uniqueProject } from '../support/runtimes.js';
import type { EnvironmentStandIns } from '../support/environments.js';

/**
 * The crash-point suite's harness: `baton dev` as a child process (the embedded stack, on
 * SQLite or on the emulators), a demo workspace (source, mirror, chart repo), and a driver that
 * pushes, approves through `baton dev`'s loopback route, restarts the process whenever it dies,
 * and then counts every side effect from the outside: pushes the mirror received (a hook logs
 * them), builds started (the local builder's job files), chart commits and chart versions, and
 * the deploys reported (the one `deploy finished` log line per deploy).
 */
export type Kind = 'embedded' | 'emulators';

const ROOT = process.cwd();
const REGISTRY = process.env.BATON_REGISTRY ?? '127.0.0.1:5000';
const SECRET = 'crash-suite-webhook-secret';
const APPROVER = 'crash';

export type CrashStack = {
  kind: Kind;
  ws: Workspace;
  home: string;
  /** `baton dev`'s base URL (what the CLI reaches as BATON_DEV_URL). */
  url: string;
  ledger: RunLedger;
  /** Every line the stack's processes wrote, across restarts. */
  output: string[];
  /** How each process ended, in order (`SIGKILL` for a crash). */
  exits: Array<NodeJS.Signals | number | null>;
  start(crashAt?: CrashPoint): Promise<void>;
  /**
   * Pushes a change to a service (default frontend) and delivers its webhook; resolves with the
   * run id, and the webhook's HTTP status when it was answered (the POST may die with the process).
   */
  push(round: number, service?: string): Promise<{ runId: string; after: string; status?: number }>;
  /** Drives runs to their end: approves when one waits, restarts the stack when it died. */
  finish(runIds: string[], timeoutMs?: number): Promise<RunRecord[]>;
  /** Approves a run waiting for it (in an environment), through `baton dev`'s loopback route (the process may die answering). */
  approve(runId: string, environment?: string): Promise<void>;
  /** Runs `baton promote|rollback|hold|release` through `baton dev`'s loopback route. */
  operate(operation: Record<string, unknown>): Promise<{ ok: boolean; message: string; runId?: string }>;
  /** Waits for the running process to die (of its crash point); kills it after `ms` if it has not, as a crash at any moment would. */
  dies(ms: number): Promise<void>;
  stop(): Promise<void>;
  counts(run: RunRecord): { mirrorPushes: number; builds: number; chartCommits: number; chartVersions: number; deploysReported: number };
  /** The mirror holds the run's commit. */
  mirrored(run: RunRecord): boolean;
  /**
   * Runs the `baton` binary beside this stack, as a user would (its BATON_HOME, config, runtime
   * and BATON_DEV_URL); resolves with its stdout, and rejects as `execFile` does on a non-zero exit.
   */
  baton(...args: string[]): Promise<string>;
};

export type CrashStackOptions = {
  /** dev (auto) → prod (approval), both verified, against these stand-ins (test/support/environments.ts). */
  environments?: EnvironmentStandIns;
  /** How long each environment's verification watches (default 4s). */
  verifyFor?: string;
};

export async function startCrashStack(kind: Kind, options: CrashStackOptions = {}): Promise<CrashStack> {
  const root = tempDir('baton-crash-');
  const registryPath = `crash-${randomBytes(4).toString('hex')}`;
  const standIns = options.environments;
  const ws = await createWorkspace(root, resolve(ROOT, 'charts/online-boutique'), REGISTRY, {
    registryPath,
    approvers: [`cli:${APPROVER}`],
    ...(standIns ? { environments: { argocdUrl: standIns.argocd.url, verifyFor: options.verifyFor ?? '4s' } } : {}),
  });
  // The mirror logs every push it receives: "<old> <new> <ref>" per updated ref.
  const pushLog = join(root, 'mirror-pushes.log');
  writeFileSync(join(ws.mirror, 'hooks', 'post-receive'), `#!/bin/sh\ncat >> ${JSON.stringify(pushLog)}\n`);
  chmodSync(join(ws.mirror, 'hooks', 'post-receive'), 0o755);
  const home = join(root, 'home');
  const project = uniqueProject();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BATON_HOME: home,
    BATON_CONFIG: ws.configPath,
    BATON_REGISTRY: REGISTRY,
    GITHUB_WEBHOOK_SECRET: SECRET,
    BATON_APPROVAL_SECRET: 'crash-suite-approval-secret',
    METADATA_SERVER_DETECTION: 'none',
    LOG_LEVEL: 'info',
    ...(standIns ? { ARGOCD_AUTH_TOKEN: standIns.token, PROMETHEUS_URL: standIns.prometheus.url } : {}),
    ...(kind === 'emulators' ? { PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT: project } : {}),
  };
  const ledger = new RunLedger(kind === 'emulators' ? new FirestoreDocStore({ projectId: project }) : new SqliteDocStore(join(home, 'ledger.sqlite'), LEDGER_INDEXES));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const exits: CrashStack['exits'] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  async function start(crashAt?: CrashPoint): Promise<void> {
    const proc = spawn(process.execPath, ['--no-warnings', 'dist/cli/baton.js', 'dev', '--port', String(port)], {
      cwd: ROOT,
      env: { ...env, ...(crashAt ? { BATON_CRASH_AT: crashAt } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let buffer = '';
    const collect = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      output.push(...lines);
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    exited = new Promise((resolveExit) => proc.on('exit', (code, signal) => (exits.push(signal ?? code), resolveExit())));
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      if (!alive()) throw new Error(`baton dev exited while starting: ${output.slice(-5).join('\n')}`);
      if (Date.now() > deadline) throw new Error('baton dev did not start within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function push(round: number, service = 'frontend'): Promise<{ runId: string; after: string; status?: number }> {
    const { before, after } = await pushChange(ws, service, round);
    const body = JSON.stringify(githubPushPayload({ repository: DEMO_REPOSITORY, cloneUrl: `file://${ws.source}`, ref: 'refs/heads/main', before, after, commits: await pushedCommits(ws.source, before, after), pusher: { name: 'dana' } }));
    const deliveryId = randomUUID();
    // No answer when the process dies first (a crash at intake:after-ledger-write): the run is then the reconciler's to repair.
    const response = await fetch(`${url}/webhookIntake`, { method: 'POST', headers: githubHeaders(SECRET, body, 'push', deliveryId), body }).catch(() => undefined);
    return { runId: runIdFor('boutique', after, 'github', deliveryId), after, ...(response ? { status: response.status } : {}) };
  }

  async function finish(runIds: string[], timeoutMs = 120_000): Promise<RunRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!alive()) await start();
      const runs = await Promise.all(runIds.map((runId) => ledger.getRun(runId)));
      if (runs.every((run) => run && run.status !== 'running')) return runs as RunRecord[];
      for (const run of runs) {
        if (run?.status !== 'running') continue;
        for (const [stage, record] of Object.entries(run.stages)) {
          const [base, environment] = stage.split(':');
          if (base === 'approval' && record.status === 'waiting' && !run.decisions?.[environment ?? 'default'] && !record.detail?.startsWith('held')) await approve(run.runId, environment);
        }
      }
      if (Date.now() > deadline) throw new Error(`runs did not end within ${timeoutMs} ms: ${runs.map((run) => `${run?.runId} ${run?.status} ${JSON.stringify(run?.stages)}`).join('\n')}\n${output.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function approve(runId: string, environment?: string): Promise<void> {
    await fetch(`${url}/_local/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ runId, ...(environment ? { environment } : {}), action: 'approve', decider: { id: APPROVER, name: APPROVER, via: 'cli' } }),
    }).catch(() => undefined);
  }

  async function operate(operation: Record<string, unknown>): Promise<{ ok: boolean; message: string; runId?: string }> {
    const response = await fetch(`${url}/_local/environment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ decider: { id: APPROVER, name: APPROVER, via: 'cli' }, ...operation }) });
    return (await response.json()) as { ok: boolean; message: string; runId?: string };
  }

  async function dies(ms: number): Promise<void> {
    const timer = setTimeout(() => child?.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  }

  async function stop(): Promise<void> {
    if (alive()) child!.kill('SIGTERM');
    await exited;
    await ledger.close();
  }

  function counts(run: RunRecord) {
    const pushes = existsSync(pushLog) ? readFileSync(pushLog, 'utf8').split('\n').filter((line) => line.split(' ')[1] === run.after).length : 0;
    const buildsDir = join(home, 'buildah', 'builds');
    const builds = existsSync(buildsDir)
      ? readdirSync(buildsDir).filter((id) => {
          const job = join(buildsDir, id, 'job.json');
          return existsSync(job) && (JSON.parse(readFileSync(job, 'utf8')) as { request: { runId: string } }).request.runId === run.runId;
        }).length
      : 0;
    const commits = execFileSync('git', ['log', '--format=%H', `--grep=^Baton-Run: ${run.runId}$`, 'main'], { cwd: ws.charts, encoding: 'utf8' }).split('\n').filter(Boolean).length;
    const tags = (JSON.parse(execFileSync('curl', ['-fsS', `http://${REGISTRY}/v2/${registryPath}/charts/online-boutique/tags/list`], { encoding: 'utf8' })) as { tags: string[] | null }).tags ?? [];
    const deploys = output.filter((line) => line.includes('"message":"deploy finished"') && line.includes(`"runId":"${run.runId}"`)).length;
    return { mirrorPushes: pushes, builds, chartCommits: commits, chartVersions: tags.length, deploysReported: deploys };
  }

  const mirrored = (run: RunRecord) => {
    try {
      execFileSync('git', ['cat-file', '-e', `${run.after}^{commit}`], { cwd: ws.mirror, stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  const baton = async (...args: string[]) => (await promisify(execFile)(process.execPath, ['dist/cli/baton.js', ...args], { cwd: ROOT, env: { ...env, BATON_DEV_URL: url } })).stdout;

  return { kind, ws, home, url, ledger, output, exits, start, push, finish, approve, operate, dies, stop, counts, mirrored, baton };
}

/** A stack for a test file: started (at `crashAt`, when given) before its tests, stopped after them. */
export function useCrashStack(kind: Kind, crashAt?: CrashPoint): () => CrashStack {
  let stack: CrashStack | undefined;
  beforeAll(async () => {
    stack = await startCrashStack(kind);
    await stack.start(crashAt);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });
  return () => stack!;
}
