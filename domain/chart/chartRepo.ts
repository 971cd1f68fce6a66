import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { simpleGit } from 'simple-git';
import type { SimpleGit } from 'simple-git';
import type { BotIdentity } from '../../shared/git/botCommit.js';
import { botCommitRun } from '../../shared/git/botCommit.js';
import { redact, redactedError } from '../../shared/log/redact.js';
import { GIT_AUTH_ENV_KEYS, gitEnvironment } from './gitRemoteAuth.js';

/**
 * The chart repo's write path, built so that racing writers never lose an update and never
 * rewrite history (argocd-image-updater #433/#879, kargo #3071):
 * - each writer works in its own shallow clone (kept between runs, one per concurrent writer);
 * - it commits on the head it has and pushes without force; the push is the compare-and-set;
 * - on a rejected push it fetches, resets to the new head, applies its edit again from scratch
 *   (so a patch bump starts from the version now at the head) and retries with jittered
 *   exponential backoff.
 */
export type ChartRepoSettings = {
  /** Git URL of the chart repo (a path or file:// URL for local bare repos). */
  url: string;
  branch: string;
  /** Who the commits are by: the pipeline's bot, so intake ignores them. */
  bot: BotIdentity;
  /** Directory the clones are kept in. */
  cacheDir: string;
  /** OAuth token for https remotes (`chart.auth: google`); undefined for none. */
  accessToken?: () => Promise<string | undefined>;
  /** Push attempts before giving up (default 40), first backoff (25 ms) and its cap (1 s). */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
};

/** What one attempt wants: a commit of `paths` (already written in the work tree), or nothing. */
export type PreparedChange<T> = { kind: 'commit'; message: string; paths: string[]; value: T } | { kind: 'none'; value: T };

export type UpdateOutcome<T> = {
  /** True when this call pushed a new commit. */
  pushed: boolean;
  /** The commit that landed, or the head the work tree was at when nothing was needed. */
  commit: string;
  attempts: number;
  value: T;
};

/** fresh: synced with the remote during this use; kept: in sync as of its last push (maybe stale); stale: must sync. */
type Workspace = { dir: string; git: SimpleGit; state: 'fresh' | 'kept' | 'stale' };

/** A push the remote refused because the branch moved: fetch and try again. */
const RACE_LOST = /\[rejected\]|non-fast-forward|fetch first|failed to update ref|cannot lock ref|incorrect old value|stale info|\.lock': File exists|remote rejected.*(lock|failed)/i;

export class ChartRepoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChartRepoError';
  }
}

export class ChartRepo {
  private readonly idle: Workspace[] = [];
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** The URL without credentials, for messages. */
  readonly displayUrl: string;

  constructor(private readonly settings: ChartRepoSettings) {
    this.attempts = settings.attempts ?? 40;
    this.baseDelayMs = settings.baseDelayMs ?? 25;
    this.maxDelayMs = settings.maxDelayMs ?? 1_000;
    this.random = settings.random ?? Math.random;
    this.sleep = settings.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.displayUrl = redact(settings.url);
  }

  /**
   * Runs `prepare` on the head, commits what it wrote and pushes, again and again until the
   * push lands, `prepare` wants nothing, or the attempts run out. `prepare` must rebuild its
   * edit from the files it finds each time: the head may have moved since the last attempt.
   * `onLanded` runs with the work tree still at the resulting commit (to package it, say).
   */
  async update<T, R = undefined>(
    prepare: (workTree: string, attempt: number) => Promise<PreparedChange<T>>,
    onLanded?: (workTree: string, outcome: UpdateOutcome<T>) => Promise<R>,
  ): Promise<UpdateOutcome<T> & { landed?: R }> {
    const workspace = await this.acquire();
    try {
      for (let attempt = 1; attempt <= this.attempts; attempt++) {
        // A kept clone is tried on the head it has (the push checks it); a lost race re-syncs.
        if (workspace.state === 'stale') await this.sync(workspace);
        let change = await prepare(workspace.dir, attempt);
        if (change.kind === 'none' && workspace.state !== 'fresh') {
          // "Nothing to do" must be judged on the remote's head, not on a kept clone's.
          await this.sync(workspace);
          change = await prepare(workspace.dir, attempt);
        }
        if (change.kind === 'none') {
          const outcome = { pushed: false, commit: await this.head(workspace), attempts: attempt, value: change.value };
          return { ...outcome, landed: onLanded ? await onLanded(workspace.dir, outcome) : undefined };
        }
        await this.run(workspace, ['commit', '--no-verify', '-m', change.message, '--', ...change.paths], 'commit the chart bump');
        if (await this.push(workspace)) {
          workspace.state = 'kept';
          const outcome = { pushed: true, commit: await this.head(workspace), attempts: attempt, value: change.value };
          return { ...outcome, landed: onLanded ? await onLanded(workspace.dir, outcome) : undefined };
        }
        workspace.state = 'stale';
        if (attempt < this.attempts) await this.sleep(this.backoff(attempt));
      }
      throw new ChartRepoError(`failed to push the chart bump to ${this.displayUrl} (${this.settings.branch}): the branch kept moving for ${this.attempts} attempts`);
    } catch (error) {
      workspace.state = 'stale';
      throw error;
    } finally {
      this.release(workspace);
    }
  }

  /**
   * The newest commit on the branch whose `Baton-Run` trailer names `runId` and that `matches`
   * (one environment's bump), looking back `depth` commits: how a redelivery finds the bump it
   * already made.
   */
  async findRunCommit(runId: string, matches: (message: string) => boolean = () => true, depth = 100): Promise<string | undefined> {
    const workspace = await this.acquire();
    try {
      await this.sync(workspace, depth);
      const log = await this.run(workspace, ['log', `-n${depth}`, '--format=%H%n%B%x00', `origin/${this.settings.branch}`], 'read the chart repo history');
      for (const entry of log.split('\0')) {
        const [sha, ...body] = entry.trim().split('\n');
        const message = body.join('\n');
        if (sha && botCommitRun(message) === runId && matches(message)) return sha;
      }
      return undefined;
    } finally {
      this.release(workspace);
    }
  }

  /** Runs `use` with a work tree checked out at `commit` (fetching history if the clone lacks it). */
  async withCommit<R>(commit: string, use: (workTree: string) => Promise<R>): Promise<R> {
    const workspace = await this.acquire();
    try {
      if ((await this.head(workspace)) !== commit) {
        if (!(await this.hasCommit(workspace, commit))) await this.sync(workspace, 100);
        if (!(await this.hasCommit(workspace, commit))) throw new ChartRepoError(`failed to check out ${commit} of ${this.displayUrl}: not in the last 100 commits of ${this.settings.branch}`);
        await this.run(workspace, ['checkout', '--detach', commit], 'check out the chart commit');
        workspace.state = 'stale';
      }
      return await use(workspace.dir);
    } finally {
      this.release(workspace);
    }
  }

  /** Removes every kept clone. */
  async close(): Promise<void> {
    const workspaces = this.idle.splice(0);
    await Promise.all(workspaces.map((workspace) => rm(workspace.dir, { recursive: true, force: true })));
  }

  private backoff(attempt: number): number {
    // Full jitter: racing writers spread out instead of colliding again in lockstep.
    return Math.round(this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)));
  }

  private async acquire(): Promise<Workspace> {
    const kept = this.idle.pop();
    if (kept) return kept;
    await mkdir(this.settings.cacheDir, { recursive: true });
    const dir = join(this.settings.cacheDir, `clone-${randomUUID().slice(0, 8)}`);
    const git = simpleGit({ baseDir: this.settings.cacheDir, allowEnvironment: GIT_AUTH_ENV_KEYS, unsafe: { allowUnsafeConfigEnvCount: true } });
    const workspace: Workspace = { dir, git, state: 'fresh' };
    const identity = [`user.name=${this.settings.bot.name}`, `user.email=${this.settings.bot.email}`, 'commit.gpgsign=false'].flatMap((setting) => ['--config', setting]);
    await this.run(workspace, ['clone', '--depth', '1', '--single-branch', '--no-tags', ...identity, '--branch', this.settings.branch, this.settings.url, dir], 'clone the chart repo');
    workspace.git = simpleGit({ baseDir: dir, allowEnvironment: GIT_AUTH_ENV_KEYS, unsafe: { allowUnsafeConfigEnvCount: true } });
    return workspace;
  }

  private release(workspace: Workspace): void {
    if (workspace.state === 'fresh') workspace.state = 'kept';
    this.idle.push(workspace);
  }

  private async sync(workspace: Workspace, depth = 1): Promise<void> {
    const branch = this.settings.branch;
    await this.run(workspace, ['fetch', '--verbose', '--no-tags', `--depth=${depth}`, 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`], 'fetch the chart repo');
    // Only tracked files are ever committed (by path), so untracked leftovers need no clean.
    await this.run(workspace, ['reset', '--hard', `origin/${branch}`], 'reset to the chart repo head');
    workspace.state = 'fresh';
  }

  private async push(workspace: Workspace): Promise<boolean> {
    try {
      await this.run(workspace, ['push', '--no-verify', 'origin', `HEAD:refs/heads/${this.settings.branch}`], 'push the chart bump', false);
      return true;
    } catch (error) {
      if (RACE_LOST.test(String((error as Error).message))) return false;
      throw redactedError(`failed to push the chart bump to ${this.displayUrl}`, error);
    }
  }

  private async head(workspace: Workspace): Promise<string> {
    // Reading the ref file spares a git process per bump; rev-parse covers packed refs.
    try {
      const head = (await readFile(join(workspace.dir, '.git', 'HEAD'), 'utf8')).trim();
      const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
      const sha = ref ? (await readFile(join(workspace.dir, '.git', ref), 'utf8')).trim() : head;
      if (/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha)) return sha;
    } catch {
      // fall through
    }
    return (await this.run(workspace, ['rev-parse', 'HEAD'], 'read the chart repo head')).trim();
  }

  private async hasCommit(workspace: Workspace, commit: string): Promise<boolean> {
    try {
      await workspace.git.raw(['cat-file', '-e', `${commit}^{commit}`]);
      return true;
    } catch {
      return false;
    }
  }

  /*
   * Commands run without --quiet on purpose: simple-git waits an extra 50 ms after any command
   * that printed nothing (its completion plugin), which doubled the cost of a commit and push.
   */
  private async run(workspace: Workspace, args: string[], what: string, wrap = true): Promise<string> {
    const token = await this.settings.accessToken?.();
    try {
      return await workspace.git.env(gitEnvironment(token)).raw(args);
    } catch (error) {
      if (!wrap) throw error;
      throw redactedError(`failed to ${what} (${this.displayUrl})`, error);
    }
  }
}
