import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildStatus, CloudBuildNotification } from '../../shared/contracts/cloudBuild.js';
import { gitRunner } from '../../shared/git/gitRunner.js';
import type { Logger } from '../../shared/log/logger.js';
import { isLoopbackHost } from '../../shared/oci/registryClient.js';
import { parseReference } from '../../shared/oci/reference.js';
import type { BuildHandle, BuildRequest, Builder, ImageBuild } from './builder.js';
import { imageName } from './builder.js';

/**
 * The embedded runtime's builder: Debian's buildah builds the Dockerfile (chroot isolation, vfs
 * storage: no daemon, no privileges beyond what the process has) and pushes the image to the
 * local registry. It imitates Cloud Build at the boundary that matters: `start` returns a build
 * id at once, and the build then announces QUEUED, WORKING and its terminal state on
 * `cloud-builds` as Cloud Build's own Build resource JSON, so `buildStatus` runs unchanged.
 */
export type BuildahSettings = {
  /** Scratch space: buildah storage, checkouts and build logs live under `<workDir>/buildah`. */
  workDir: string;
  /** Publishes one notification on `cloud-builds` (data: the Build JSON; attributes: buildId, status). */
  publish: (build: CloudBuildNotification) => Promise<void>;
  log: Logger;
  /** Default build timeout. Default 600 s. */
  timeoutSeconds?: number;
  /** buildah binary. Default `buildah`. */
  buildah?: string;
};

/** Shown as the Build's project id, so a local build is never mistaken for a Cloud Build one. */
export const LOCAL_PROJECT_ID = 'baton-local';

class BuildTimeout extends Error {}

export class BuildahBuilder implements Builder {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly settings: BuildahSettings) {}

  async start(request: BuildRequest): Promise<BuildHandle> {
    if (request.what.kind !== 'image') throw new Error(`failed to start the build of ${request.service}: the local builder only builds images`);
    const buildId = randomUUID();
    const dir = join(this.settings.workDir, 'buildah', 'builds', buildId);
    await mkdir(dir, { recursive: true });
    const logFile = join(dir, 'build.log');
    const logUrl = pathToFileURL(logFile).href;
    const job = this.run(request, request.what, buildId, dir, logFile, logUrl)
      .catch((error: unknown) => this.settings.log.error('local build failed to report', { buildId, runId: request.runId, error }))
      .finally(() => this.running.delete(job));
    this.running.add(job);
    return { buildId, logUrl };
  }

  /** Resolves once every started build has reported its terminal state (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private async run(request: BuildRequest, image: ImageBuild, buildId: string, dir: string, logFile: string, logUrl: string): Promise<void> {
    const name = imageName(image);
    const build: CloudBuildNotification = {
      id: buildId,
      projectId: LOCAL_PROJECT_ID,
      status: 'QUEUED',
      createTime: new Date().toISOString(),
      tags: request.tags,
      substitutions: request.substitutions,
      images: [name],
      logUrl,
      source: { gitSource: { url: request.mirrorUrl, revision: request.sha } },
    };
    const report = (status: BuildStatus, fields: Partial<CloudBuildNotification> = {}) => {
      Object.assign(build, fields, { status });
      return this.settings.publish({ ...build });
    };
    await report('QUEUED');
    const log = createWriteStream(logFile, { flags: 'a' });
    const deadline = Date.now() + 1000 * (request.timeoutSeconds ?? this.settings.timeoutSeconds ?? 600);
    try {
      await report('WORKING', { startTime: new Date().toISOString() });
      const digest = await this.buildAndPush(request, image, dir, log, deadline);
      await closeLog(log);
      await report('SUCCESS', {
        finishTime: new Date().toISOString(),
        results: { images: [{ name, digest }], buildStepImages: [''] },
      });
    } catch (error) {
      await closeLog(log);
      const message = (error as Error).message;
      const finishTime = new Date().toISOString();
      if (error instanceof BuildTimeout) await report('TIMEOUT', { finishTime, statusDetail: message });
      else await report('FAILURE', { finishTime, statusDetail: message, failureInfo: { type: 'USER_BUILD_STEP', detail: message } });
    } finally {
      await rm(join(dir, 'src'), { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async buildAndPush(request: BuildRequest, image: ImageBuild, dir: string, log: WriteStream, deadline: number): Promise<string> {
    const src = join(dir, 'src');
    await mkdir(src, { recursive: true });
    // The exact commit from the mirror, as Cloud Build's gitSource would fetch it.
    const git = gitRunner(src);
    await git.run(['init', '--quiet']);
    await git.run(['fetch', '--quiet', '--depth=1', '--no-tags', request.mirrorUrl, request.sha]);
    await git.run(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', request.sha]);

    const context = join(src, image.context);
    const dockerfile = join(src, image.dockerfile);
    for (const path of [context, dockerfile]) {
      const inside = relative(src, path);
      if (inside.startsWith('..') || isAbsolute(inside)) throw new Error(`failed to build: ${path} is outside the checkout`);
    }
    const name = imageName(image);
    const storage = ['--root', join(this.settings.workDir, 'buildah', 'root'), '--runroot', join(this.settings.workDir, 'buildah', 'run'), '--storage-driver', 'vfs'];
    await this.buildah([...storage, 'build', '--isolation', 'chroot', '--file', dockerfile, '--tag', name, '--label', `org.opencontainers.image.revision=${request.sha}`, context], log, deadline, 'build');
    const digestFile = join(dir, 'digest');
    const plain = isLoopbackHost(parseReference(name).host);
    await this.buildah([...storage, 'push', `--tls-verify=${plain ? 'false' : 'true'}`, '--digestfile', digestFile, name, `docker://${name}`], log, deadline, 'push');
    // The image now lives in the registry; the local copy only costs disk.
    await this.buildah([...storage, 'rmi', name], log, deadline, 'rmi').catch(() => undefined);
    const digest = (await readFile(digestFile, 'utf8')).trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`failed to push ${name}: buildah wrote no digest`);
    return digest;
  }

  private buildah(args: string[], log: WriteStream, deadline: number, verb: string): Promise<void> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.reject(new BuildTimeout(`build timed out before buildah ${verb}`));
    return new Promise((resolve, reject) => {
      log.write(`$ buildah ${args.filter((arg) => !arg.startsWith(this.settings.workDir)).join(' ')}\n`);
      const child = spawn(this.settings.buildah ?? 'buildah', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let tail = '';
      const collect = (chunk: Buffer) => {
        log.write(chunk);
        tail = (tail + chunk.toString('utf8')).slice(-2000);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, remaining);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`failed to run buildah ${verb}: ${error.message}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (timedOut) reject(new BuildTimeout(`build timed out during buildah ${verb}`));
        else if (code === 0) resolve();
        else reject(new Error(`failed to buildah ${verb} (exit ${code}): ${lastLines(tail)}`));
      });
    });
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => log.end(() => resolve()));
}
