import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CloudBuildNotification } from '../../contracts/cloudBuild.js';
import { isTerminal } from '../../contracts/cloudBuild.js';
import type { Logger } from '../../log/logger.js';
import { crashPoint } from '../../stage/crashPoint.js';
import type { BuildHandle, BuildRequest, Builder } from './builder.js';
import { imageName } from './builder.js';
import type { LocalJob } from './localBuildJob.js';
import { readState, writeJsonFile, writeState } from './localBuildJob.js';

/**
 * The embedded runtime's builder. It imitates Cloud Build at the boundary that matters: `start`
 * returns a build id at once; the build runs in a detached process (`localBuildJob.ts`) that
 * survives this one and writes its state to disk; and every state change is announced on
 * `cloud-builds` as Cloud Build's own Build resource JSON, so `buildStatus` runs unchanged.
 * After a restart nobody is watching an old build until the reconciler asks `get()` about it,
 * which reads the state on disk and watches the build again until it ends.
 */
export type LocalBuilderSettings = {
  /** Scratch space: buildah storage and one directory per build under `<workDir>/buildah`. */
  workDir: string;
  /** `host:port` of the local registry: images go there when a pipeline names no image repository. */
  registry?: string;
  /** Publishes one notification on `cloud-builds` (data: the Build JSON; attributes: buildId, status). */
  publish: (build: CloudBuildNotification) => Promise<void>;
  log: Logger;
  /** Default build timeout. Default 600 s. */
  timeoutSeconds?: number;
  /** buildah binary. Default `buildah`. */
  buildah?: string;
  /** How often watched builds' state files are read. Default 100 ms. */
  pollMs?: number;
};

/** Shown as the Build's project id, so a local build is never mistaken for a Cloud Build one. */
export const LOCAL_PROJECT_ID = 'baton-local';

const JOB_SCRIPT = fileURLToPath(new URL('./localBuildJobMain.js', import.meta.url));

/**
 * A job writes WORKING within a second of being launched. A build still without that this long
 * after its job file was written was never launched: its starter died in between.
 */
const NEVER_LAUNCHED_AFTER_MS = 20_000;

export class LocalBuilder implements Builder {
  /** Builds being watched, with the last status announced. */
  private readonly watched = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private idleWaiters: Array<() => void> = [];

  readonly defaultImageRoot: string | undefined;

  constructor(private readonly settings: LocalBuilderSettings) {
    this.defaultImageRoot = settings.registry;
  }

  supports(kind: BuildRequest['what']['kind']): boolean {
    return kind === 'image';
  }

  async start(request: BuildRequest): Promise<BuildHandle> {
    if (request.what.kind !== 'image') throw new Error(`failed to start the build of ${request.service}: the local builder only builds images`);
    const buildId = randomUUID();
    const dir = this.dir(buildId);
    await mkdir(dir, { recursive: true });
    const logUrl = pathToFileURL(join(dir, 'build.log')).href;
    const build: CloudBuildNotification = {
      id: buildId,
      projectId: LOCAL_PROJECT_ID,
      status: 'QUEUED',
      createTime: new Date().toISOString(),
      tags: request.tags,
      substitutions: request.substitutions,
      images: [imageName(request.what)],
      logUrl,
      source: { gitSource: { url: request.mirrorUrl, revision: request.sha } },
    };
    const job: LocalJob = { request, build, workDir: this.settings.workDir, timeoutSeconds: request.timeoutSeconds ?? this.settings.timeoutSeconds ?? 600, buildah: this.settings.buildah ?? 'buildah' };
    await writeJsonFile(dir, 'job.json', job);
    await writeState(dir, build);
    this.launch(buildId, dir);
    return { buildId, logUrl };
  }

  async get(buildId: string): Promise<CloudBuildNotification | undefined> {
    const dir = this.dir(buildId);
    const onDisk = await readState(dir);
    // No state, or QUEUED with no job's pid: perhaps a job its starter never launched.
    const state = !onDisk || (onDisk.status === 'QUEUED' && !pidOf(onDisk)) ? ((await this.relaunchIfNeverLaunched(buildId, dir)) ?? onDisk) : onDisk;
    if (!state) return undefined;
    if (isTerminal(state.status)) return state;
    const pid = pidOf(state);
    if (state.status === 'WORKING' && pid && !alive(pid)) {
      // The job died with its build half done (a reboot, an OOM kill): it will never report.
      const failed: CloudBuildNotification = { ...state, status: 'INTERNAL_ERROR', statusDetail: 'the local build process ended without a result', finishTime: new Date().toISOString() };
      await writeState(dir, failed);
      return failed;
    }
    this.watch(buildId);
    return state;
  }

  async cancel(buildId: string): Promise<void> {
    const dir = this.dir(buildId);
    const state = await readState(dir);
    if (!state || isTerminal(state.status)) return;
    const pid = pidOf(state);
    // Its job is running: told to stop, it ends the build CANCELLED itself (localBuildJob.ts).
    if (pid && alive(pid)) return void process.kill(pid, 'SIGTERM');
    // Not launched yet (or its job died): ended here, and a job that starts later finds it so.
    await writeState(dir, { ...state, status: 'CANCELLED', statusDetail: 'canceled', finishTime: new Date().toISOString() });
  }

  async find(request: BuildRequest): Promise<BuildHandle | undefined> {
    const root = join(this.settings.workDir, 'buildah', 'builds');
    const ids = await readdir(root).catch(() => [] as string[]);
    for (const buildId of ids) {
      try {
        const job = JSON.parse(await readFile(join(root, buildId, 'job.json'), 'utf8')) as LocalJob;
        if (job.request.runId === request.runId && job.request.service === request.service && job.request.what.kind === request.what.kind) {
          // Adopted: announce its states from now on, as if this process had started it.
          this.watch(buildId);
          return { buildId, ...(job.build.logUrl ? { logUrl: job.build.logUrl } : {}) };
        }
      } catch {
        // a build directory without its job file: not a build that started
      }
    }
    return undefined;
  }

  /** Starts a build's detached job and watches the states it writes. */
  private launch(buildId: string, dir: string): void {
    const child = spawn(process.execPath, ['--no-warnings', JOB_SCRIPT, dir], { detached: true, stdio: 'ignore' });
    child.on('error', (error) => this.settings.log.error('failed to start a local build job', { buildId, error }));
    child.unref();
    this.watch(buildId);
  }

  /**
   * A build whose starter died between writing its job file and launching its job (only a
   * half-written state file left, or QUEUED with no job's pid) would wait for ever: Cloud Build
   * would have run it, so it is launched now. The job file is written again first, which starts
   * the wait over for the job just launched.
   */
  private async relaunchIfNeverLaunched(buildId: string, dir: string): Promise<CloudBuildNotification | undefined> {
    const jobFile = join(dir, 'job.json');
    const written = await stat(jobFile).catch(() => undefined);
    if (!written || Date.now() - written.mtimeMs < NEVER_LAUNCHED_AFTER_MS) return undefined;
    const job = JSON.parse(await readFile(jobFile, 'utf8')) as LocalJob;
    await writeJsonFile(dir, 'job.json', job);
    await writeState(dir, job.build);
    this.settings.log.warn('launched a local build whose job never started (its starter died first)', { buildId, runId: job.request.runId, service: job.request.service });
    this.launch(buildId, dir);
    return job.build;
  }

  /** Resolves once every watched build has announced its terminal state (tests, shutdown). */
  idle(): Promise<void> {
    if (this.watched.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private dir(buildId: string): string {
    if (!/^[A-Za-z0-9-]+$/.test(buildId)) throw new Error(`invalid local build id "${buildId}"`);
    return join(this.settings.workDir, 'buildah', 'builds', buildId);
  }

  private watch(buildId: string): void {
    if (!this.watched.has(buildId)) this.watched.set(buildId, '');
    this.timer ??= setInterval(() => void this.poll(), this.settings.pollMs ?? 100);
    this.timer.unref();
    void this.poll();
  }

  /** Announces each watched build's new states, in order, once each. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [buildId, announced] of this.watched) {
        const state = await readState(this.dir(buildId));
        if (!state || state.status === announced) continue;
        try {
          const { pid: _pid, ...build } = state as CloudBuildNotification & { pid?: number };
          await this.settings.publish(build as CloudBuildNotification);
          this.watched.set(buildId, state.status);
          if (state.status === 'WORKING') crashPoint('build:during');
        } catch (error) {
          this.settings.log.warn('failed to announce a local build state; retrying', { buildId, status: state.status, error });
          continue;
        }
        if (isTerminal(state.status)) this.watched.delete(buildId);
      }
    } finally {
      this.polling = false;
      if (this.watched.size === 0) {
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }
}

/** The pid of the job that wrote the state (WORKING and after). */
const pidOf = (state: CloudBuildNotification) => (state as { pid?: number }).pid;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
