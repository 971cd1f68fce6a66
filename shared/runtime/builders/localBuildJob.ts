/**
 * One local build, run as a detached process (`node localBuildJob.js <buildDir>`) so that it
 * outlives the process that started it, as a Cloud Build build outlives the function that
 * created it. It reads `request.json`, builds the Dockerfile at the exact mirrored commit with
 * Debian's buildah (chroot isolation, vfs storage: no daemon), pushes to the local registry, and
 * writes every state change to `state.json` as Cloud Build's own Build resource JSON. Whoever
 * is watching (the builder, or after a restart the reconciler through `LocalBuilder.get`)
 * publishes those states on `cloud-builds`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { BuildStatus, CloudBuildNotification } from '../../contracts/cloudBuild.js';
import { isTerminal } from '../../contracts/cloudBuild.js';
import { gitRunner } from '../../git/gitRunner.js';
import { isLoopbackHost } from '../../oci/registryClient.js';
import { parseReference } from '../../oci/reference.js';
import type { BuildRequest, ImageBuild } from './builder.js';
import { imageName } from './builder.js';

/** What the starter leaves for the job. */
export type LocalJob = { request: BuildRequest; build: CloudBuildNotification; workDir: string; timeoutSeconds: number; buildah: string };

class BuildTimeout extends Error {}

/** Writes a build directory's JSON file whole or not at all: a process killed mid-write leaves only a temp file. */
export async function writeJsonFile(dir: string, name: 'state.json' | 'job.json', value: unknown): Promise<void> {
  const temp = join(dir, `${name}.${process.pid}.tmp`);
  await writeFile(temp, JSON.stringify(value));
  await rename(temp, join(dir, name));
}

export async function writeState(dir: string, build: CloudBuildNotification): Promise<void> {
  await writeJsonFile(dir, 'state.json', build);
}

export async function readState(dir: string): Promise<CloudBuildNotification | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as CloudBuildNotification;
  } catch {
    return undefined;
  }
}

export async function runJob(dir: string): Promise<void> {
  const job = JSON.parse(await readFile(join(dir, 'job.json'), 'utf8')) as LocalJob;
  const { request } = job;
  if (request.what.kind !== 'image') throw new Error('the local builder only builds images');
  // Canceled before this job got going (`LocalBuilder.cancel` on a QUEUED build): nothing to do.
  if ((await readState(dir))?.status === 'CANCELLED') return;
  const image = request.what;
  const build: CloudBuildNotification = { ...job.build, status: 'WORKING', startTime: new Date().toISOString(), pid: process.pid } as CloudBuildNotification;
  // A build ends once: after CANCELLED, the failure of the buildah it killed is not reported.
  const report = async (status: BuildStatus, fields: Partial<CloudBuildNotification> = {}) => {
    if (!isTerminal(build.status)) await writeState(dir, Object.assign(build, fields, { status }));
  };
  // SIGTERM is `LocalBuilder.cancel`: stop buildah and end CANCELLED, as Cloud Build's cancel does.
  process.once('SIGTERM', () => {
    void report('CANCELLED', { finishTime: new Date().toISOString(), statusDetail: 'canceled' })
      .then(() => stopBuildah())
      .then(() => rm(join(dir, 'src'), { recursive: true, force: true }))
      .finally(() => process.exit(0));
  });
  await report('WORKING');
  const log = createWriteStream(join(dir, 'build.log'), { flags: 'a' });
  const deadline = Date.now() + 1000 * job.timeoutSeconds;
  try {
    const digest = await buildAndPush(job, image, dir, log, deadline);
    await closeLog(log);
    await report('SUCCESS', { finishTime: new Date().toISOString(), results: { images: [{ name: imageName(image), digest }], buildStepImages: [''] } });
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

async function buildAndPush(job: LocalJob, image: ImageBuild, dir: string, log: WriteStream, deadline: number): Promise<string> {
  const { request } = job;
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
  const root = join(job.workDir, 'buildah');
  const storage = ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs'];
  const buildah = (args: string[], verb: string) => runBuildah(job.buildah, args, log, deadline, verb, job.workDir);
  await buildah([...storage, 'build', '--isolation', 'chroot', '--file', dockerfile, '--tag', name, '--label', `org.opencontainers.image.revision=${request.sha}`, context], 'build');
  const digestFile = join(dir, 'digest');
  const plain = isLoopbackHost(parseReference(name).host);
  await buildah([...storage, 'push', `--tls-verify=${plain ? 'false' : 'true'}`, '--digestfile', digestFile, name, `docker://${name}`], 'push');
  // The image now lives in the registry; the local copy only costs disk.
  await buildah([...storage, 'rmi', name], 'rmi').catch(() => undefined);
  const digest = (await readFile(digestFile, 'utf8')).trim();
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`failed to push ${name}: buildah wrote no digest`);
  return digest;
}

/** The buildah step running now, in its own process group (so that its children go with it). */
let running: ChildProcess | undefined;

function stopBuildah(): void {
  if (!running?.pid) return;
  try {
    process.kill(-running.pid, 'SIGKILL');
  } catch {
    running.kill('SIGKILL');
  }
}

function runBuildah(bin: string, args: string[], log: WriteStream, deadline: number, verb: string, hide: string): Promise<void> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new BuildTimeout(`build timed out before buildah ${verb}`));
  return new Promise((resolve, reject) => {
    log.write(`$ buildah ${args.filter((arg) => !arg.startsWith(hide)).join(' ')}\n`);
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running = child;
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
      stopBuildah();
    }, remaining);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`failed to run buildah ${verb}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (running === child) running = undefined;
      if (timedOut) reject(new BuildTimeout(`build timed out during buildah ${verb}`));
      else if (code === 0) resolve();
      else reject(new Error(`failed to buildah ${verb} (exit ${code}): ${tail.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => log.end(() => resolve()));
}

/** Records that a job could not run at all (its own crash), so nobody waits for it forever. */
export async function failJob(dir: string, error: unknown): Promise<void> {
  const build = (await readState(dir)) ?? ({ id: 'unknown', status: 'STATUS_UNKNOWN' } as CloudBuildNotification);
  await writeState(dir, { ...build, status: 'INTERNAL_ERROR', statusDetail: `the local build job failed: ${(error as Error).message}`, finishTime: new Date().toISOString() });
}
