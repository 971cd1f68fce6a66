import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CloudBuildNotification } from '../../shared/contracts/cloudBuild.js';
import { createLogger } from '../../shared/log/logger.js';
import { CloudBuildBuilder } from '../../shared/runtime/builders/cloudBuild.js';
import type { CloudBuildClientLike } from '../../shared/runtime/builders/cloudBuild.js';
import { LocalBuilder } from '../../shared/runtime/builders/localBuilder.js';
import type { BuildRequest } from '../../shared/runtime/builders/builder.js';
import type { LocalJob } from '../../shared/runtime/builders/localBuildJob.js';
import { runJob } from '../../shared/runtime/builders/localBuildJob.js';
import { embeddedRuntime } from '../../shared/runtime/embeddedRuntime.js';
import { newRun } from '../support/stages.js';
import { eventually, tempDir } from '../support/runtimes.js';

/**
 * Stopping a build (`Builder.cancel`, which `baton cancel` calls for a run's running builds). The
 * local builder's job is real; its buildah is a stand-in that records its pid and sleeps, so a
 * build is reliably in flight when it is canceled.
 */
function sleepingBuildah(dir: string): string {
  const script = join(dir, 'buildah-sleeps');
  writeFileSync(script, `#!/bin/sh\necho $$ > "${join(dir, 'buildah.pid')}"\nexec sleep 120\n`);
  chmodSync(script, 0o755);
  return script;
}

/** A real mirror with one commit, which the job fetches before it runs buildah. */
function mirror(dir: string): { url: string; sha: string } {
  const repo = join(dir, 'mirror');
  mkdirSync(repo);
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();
  git('init', '--quiet');
  writeFileSync(join(repo, 'Dockerfile'), 'FROM scratch\n');
  git('add', '.');
  git('commit', '--quiet', '-m', 'frontend');
  return { url: repo, sha: git('rev-parse', 'HEAD') };
}

const request = (source: { url: string; sha: string }, runId: string): BuildRequest => ({
  runId,
  pipeline: 'shop',
  service: 'frontend',
  sha: source.sha,
  mirrorUrl: source.url,
  tags: ['baton', `run-${runId}`, 'svc-frontend'],
  substitutions: { _BATON_RUN_ID: runId },
  what: { kind: 'image', repository: '127.0.0.1:5000/shop/frontend', tag: source.sha.slice(0, 7), dockerfile: 'Dockerfile', context: '.' },
});

const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('the local builder', () => {
  test('stops a build in flight: its buildah is killed and it ends CANCELLED, announced once; a second cancel changes nothing', async () => {
    const workDir = tempDir();
    const announced: CloudBuildNotification[] = [];
    const builder = new LocalBuilder({ workDir, buildah: sleepingBuildah(workDir), log: createLogger(), publish: async (build) => void announced.push(build), pollMs: 20 });
    const { buildId } = await builder.start(request(mirror(workDir), 'shop-abc1234-cancel01'));
    const pidFile = join(workDir, 'buildah.pid');
    await eventually(() => existsSync(pidFile) || undefined, 15_000, 'buildah to start');
    const buildah = Number(readFileSync(pidFile, 'utf8'));

    await builder.cancel(buildId);
    await builder.idle();
    expect(announced.map((build) => build.status)).toEqual(['QUEUED', 'WORKING', 'CANCELLED']);
    expect(announced.at(-1)).toMatchObject({ id: buildId, statusDetail: 'canceled' });
    await eventually(() => gone(buildah) || undefined, 5_000, 'buildah to be killed');

    await builder.cancel(buildId);
    expect(await builder.get(buildId)).toMatchObject({ status: 'CANCELLED' });
  }, 30_000);

  test('a build canceled before its job started ends CANCELLED, and the job, started late, builds nothing', async () => {
    const workDir = tempDir();
    const buildId = '0f0f0f0f-5555-6666-7777-888888888888';
    const dir = join(workDir, 'buildah', 'builds', buildId);
    mkdirSync(dir, { recursive: true });
    const build: CloudBuildNotification = { id: buildId, projectId: 'baton-local', status: 'QUEUED', createTime: new Date().toISOString(), tags: ['baton'], images: ['127.0.0.1:5000/shop/frontend:abc1234'] };
    const job: LocalJob = { request: request({ url: join(workDir, 'no-such-mirror.git'), sha: 'a'.repeat(40) }, 'shop-abc1234-cancel02'), build, workDir, timeoutSeconds: 60, buildah: sleepingBuildah(workDir) };
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
    writeFileSync(join(dir, 'state.json'), JSON.stringify(build));
    const builder = new LocalBuilder({ workDir, log: createLogger(), publish: async () => undefined });

    await builder.cancel(buildId);
    expect(await builder.get(buildId)).toMatchObject({ status: 'CANCELLED', statusDetail: 'canceled' });
    // Had the job run, it would have failed on the missing mirror.
    await runJob(dir);
    expect(await builder.get(buildId)).toMatchObject({ status: 'CANCELLED', statusDetail: 'canceled' });
  });
});

describe('Cloud Build', () => {
  const builder = (cancelBuild: CloudBuildClientLike['cancelBuild']) =>
    new CloudBuildBuilder({ projectId: 'acme-ci', region: 'europe-west1' }, async () => ({ createBuild: async () => [], getBuild: async () => [], listBuilds: async () => [[]], cancelBuild }));

  test('cancelBuild names the build in its region; a build that has ended or is unknown is left alone; other errors say which build', async () => {
    const calls: unknown[] = [];
    await builder(async (request) => (calls.push(request), [{}])).cancel('b-1');
    expect(calls).toEqual([{ projectId: 'acme-ci', id: 'b-1', name: 'projects/acme-ci/locations/europe-west1/builds/b-1' }]);
    for (const code of [5, 9]) await expect(builder(async () => Promise.reject(Object.assign(new Error('no'), { code }))).cancel('b-2')).resolves.toBeUndefined();
    await expect(builder(async () => Promise.reject(Object.assign(new Error('denied'), { code: 7 }))).cancel('b-3')).rejects.toThrow(/failed to cancel Cloud Build build b-3/);
  });
});

describe('baton cancel stops the run\'s running build', () => {
  test('through the ledger file and the build\'s own state: the job ends CANCELLED and the run records it', async () => {
    const dir = tempDir();
    const configFile = join(dir, 'baton.yaml');
    writeFileSync(configFile, 'pipelines:\n  - name: shop\n    repository: acme/shop\n    branches: [main]\n    services:\n      - { name: frontend, path: src/frontend/ }\n');
    const announced: CloudBuildNotification[] = [];
    // baton dev's builder, whose jobs run the stand-in buildah; the CLI reaches them through BATON_HOME.
    const builder = new LocalBuilder({ workDir: dir, buildah: sleepingBuildah(dir), log: createLogger(), publish: async (build) => void announced.push(build), pollMs: 20 });
    const runtime = embeddedRuntime({ env: { BATON_CONFIG: configFile }, local: { workDir: dir, registry: '127.0.0.1:5000' }, ledgerFile: join(dir, 'ledger.sqlite'), builder: () => builder });
    try {
      const source = mirror(dir);
      const runId = `shop-${source.sha.slice(0, 7)}-cancel03`;
      await runtime.ledger().createRun(newRun({ runId, after: source.sha, services: ['frontend'] }), new Date(), { build: { status: 'running', startedAt: new Date().toISOString() } }, {});
      const { buildId } = await builder.start(request(source, runId));
      await runtime.ledger().updateRun(runId, (run) => ((run.builds.frontend = { buildId, status: 'QUEUED' }), true));
      await eventually(() => announced.some((build) => build.status === 'WORKING') || undefined, 15_000, 'the build to start');

      const cli = (...args: string[]) =>
        promisify(execFile)(process.execPath, ['dist/cli/baton.js', ...args], { env: { BATON_HOME: dir, BATON_CONFIG: configFile, PATH: process.env.PATH } }).then(
          ({ stdout }) => ({ code: 0, stdout }),
          (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
        );
      const canceled = await cli('cancel', runId, '--as', 'alice', '--json');
      expect(canceled.code).toBe(0);
      expect(JSON.parse(canceled.stdout)).toMatchObject({ outcome: 'canceled', stoppedBuilds: ['frontend'], message: expect.stringContaining('; stopped the build of frontend') });
      await builder.idle();
      expect(announced.at(-1)).toMatchObject({ id: buildId, status: 'CANCELLED' });
      expect(await runtime.ledger().getRun(runId)).toMatchObject({ status: 'canceled', stages: { build: { status: 'canceled' } }, builds: { frontend: { buildId, status: 'CANCELLED', detail: 'canceled with the run' } } });
      expect((await cli('cancel', runId, '--as', 'alice')).code).toBe(0);
    } finally {
      await runtime.ledger().close();
    }
  }, 30_000);
});
