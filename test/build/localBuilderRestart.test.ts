import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudBuildNotification } from '../../shared/contracts/cloudBuild.js';
import { createLogger } from '../../shared/log/logger.js';
import { LocalBuilder } from '../../shared/runtime/builders/localBuilder.js';
import type { LocalJob } from '../../shared/runtime/builders/localBuildJob.js';
import { tempDir } from '../support/runtimes.js';

/**
 * The local builder after its process died between writing a build's job file and launching
 * the job (the five-crash-restarts suite met it: a run stayed in `build` for ever). The
 * reconciler's `get` finds it and launches the job, which then runs to its end like any build.
 */
test('a build whose job was never launched is launched when asked about, and runs to its end', async () => {
  const workDir = tempDir();
  const buildId = '0f0f0f0f-1111-2222-3333-444444444444';
  const dir = join(workDir, 'buildah', 'builds', buildId);
  mkdirSync(dir, { recursive: true });
  const build: CloudBuildNotification = { id: buildId, projectId: 'baton-local', status: 'QUEUED', createTime: new Date().toISOString(), tags: ['baton'], images: ['127.0.0.1:5000/shop/frontend:abc1234'] };
  // A mirror that does not exist: the job fails at its first step, which is enough to show it ran.
  const job: LocalJob = {
    request: { runId: 'shop-abc1234-00000000', pipeline: 'shop', service: 'frontend', sha: 'a'.repeat(40), mirrorUrl: join(workDir, 'no-such-mirror.git'), tags: ['baton'], substitutions: {}, what: { kind: 'image', repository: '127.0.0.1:5000/shop/frontend', tag: 'abc1234', dockerfile: 'Dockerfile', context: '.' } },
    build,
    workDir,
    timeoutSeconds: 60,
    buildah: 'buildah',
  };
  writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
  // What the dead starter left: its state file half written, under its temp name.
  writeFileSync(join(dir, 'state.json.4242.tmp'), '{"id":');
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(join(dir, 'job.json'), minuteAgo, minuteAgo);

  const published: CloudBuildNotification[] = [];
  const builder = new LocalBuilder({ workDir, log: createLogger(), pollMs: 20, publish: async (notification) => void published.push(notification) });
  expect(await builder.get(buildId)).toMatchObject({ id: buildId, status: 'QUEUED' });
  // Asked again at once, it is not launched twice: the job file was written anew.
  expect(await builder.get(buildId)).toMatchObject({ status: 'QUEUED' });
  await builder.idle();
  expect(published.map((notification) => notification.status)).toEqual(['QUEUED', 'WORKING', 'FAILURE']);
  expect(await builder.get(buildId)).toMatchObject({ status: 'FAILURE' });
}, 30_000);
