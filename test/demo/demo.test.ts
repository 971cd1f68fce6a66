import { spawn } from 'node:child_process';
import type { RunSummary } from '../../cli/demo/summary.js';

/**
 * `baton demo --yes --json` is the project's end-to-end test: the whole chain, with real git
 * repositories, buildah, docker-registry and the signed Slack callback, in both runtimes.
 */
function demo(env: NodeJS.ProcessEnv): Promise<{ code: number | null; summaries: RunSummary[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', 'dist/cli/baton.js', 'demo', '--yes', '--json', '--timeout', '120'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const summaries = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as RunSummary);
      resolve({ code, summaries, stderr });
    });
  });
}

const { PUBSUB_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT, ...plainEnv } = process.env;
void GOOGLE_CLOUD_PROJECT;

describe.each([
  ['embedded (in-process bus, SQLite)', plainEnv],
  ['emulators (Pub/Sub, Firestore)', { ...plainEnv, PUBSUB_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST }],
])('baton demo --yes --json, %s', (_name, env) => {
  test('push 1 goes dev → verified → prod (approved in Slack) → verified; push 2 fails verification in dev and is rolled back, prod untouched', async () => {
    const { code, summaries, stderr } = await demo(env);
    if (code !== 0) console.error(stderr.slice(-4000));
    expect(code).toBe(0);
    expect(summaries).toHaveLength(3);
    const [first, second, rollback] = summaries as [RunSummary, RunSummary, RunSummary];

    expect(first.status).toBe('succeeded');
    expect(first.services).toEqual(['frontend']);
    for (const stage of ['intake', 'mirror', 'build', 'chart:dev', 'deploy:dev', 'verify:dev', 'approval:prod', 'chart:prod', 'deploy:prod', 'verify:prod']) expect(first.stages[stage]?.status).toBe('succeeded');
    // The fixed --json fields: status, release and the checks' values per environment.
    const frontend = first.environments.dev!.release.frontend;
    expect(frontend).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.environments).toEqual({
      dev: { status: 'succeeded', release: { frontend }, verify: { checks: [{ name: 'error-ratio', value: 0, ok: true }] } },
      // Promotion never rebuilds: prod gets the very digest dev verified.
      prod: { status: 'succeeded', release: { frontend }, verify: { checks: [{ name: 'error-ratio', value: 0, ok: true }] } },
    });
    expect(first.chart?.ociRef).toMatch(/^oci:\/\/127\.0\.0\.1:\d+\/charts\/online-boutique:0\.1\.\d+$/);
    expect(first.timings.overheadMs).toEqual(expect.any(Number));

    expect(second.status).toBe('rolled-back');
    expect(second.services).toEqual(['cartservice']);
    expect(second.environments.dev!.status).toBe('rolled-back');
    // Its release kept push 1's frontend; the failing check names the culprit with its value.
    expect(second.environments.dev!.release.frontend).toBe(frontend);
    expect(second.environments.dev!.verify.checks).toContainEqual({ name: 'error-ratio', value: expect.closeTo(0.3, 6), ok: false });
    expect(second.environments.prod).toEqual({ status: 'skipped', release: {}, verify: { checks: [] } });
    expect(second.stages['chart:prod']?.status).toBe('skipped');

    expect(rollback.rollback).toEqual({ environment: 'dev', toRunId: first.runId, fromRunId: second.runId });
    expect(rollback.status).toBe('succeeded');
    expect(rollback.environments.dev).toMatchObject({ status: 'succeeded', release: { frontend } });

    // gitStatus reported every stage to the GitHub stand-in, and the demo shows what it recorded.
    const success = (summary: RunSummary) => Object.fromEntries(Object.keys(summary.stages).map((stage) => [`baton/${stage}`, 'success']));
    expect(first.commitStatuses).toEqual(success(first));
    expect(second.commitStatuses).toEqual({ ...success(second), 'baton/verify:dev': 'failure' });
    // The rollback run restores push 1's release, so it reports on push 1's commit.
    expect(rollback.commitStatuses).toMatchObject({ 'baton/chart:dev': 'success', 'baton/deploy:dev': 'success' });
    expect(stderr).toMatch(/commit statuses on acme\/online-boutique@[0-9a-f]{7}, as the GitHub stand-in recorded them:\n\s+✓ baton\/intake/);
    expect(stderr).toContain('[ Approve ]');
    expect(stderr).toContain('Verification failed in dev');
  }, 300_000);
});
