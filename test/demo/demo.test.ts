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
  test('both runs succeed at every stage; the second rebuilds only the second service', async () => {
    const { code, summaries, stderr } = await demo(env);
    if (code !== 0) console.error(stderr.slice(-4000));
    expect(code).toBe(0);
    expect(summaries).toHaveLength(2);
    for (const summary of summaries) {
      expect(summary.status).toBe('succeeded');
      for (const stage of ['intake', 'mirror', 'build', 'approval', 'chart']) expect(summary.stages[stage]?.status).toBe('succeeded');
      expect(summary.stages.deploy?.status).toBe('skipped');
      expect(summary.chart?.ociRef).toMatch(/^oci:\/\/127\.0\.0\.1:\d+\/charts\/online-boutique:0\.1\.\d+$/);
      expect(summary.chart?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(summary.timings.overheadMs).toEqual(expect.any(Number));
      // gitStatus reported every stage to the GitHub stand-in, and the demo shows what it recorded.
      expect(summary.commitStatuses).toEqual(Object.fromEntries(['intake', 'mirror', 'build', 'approval', 'chart', 'deploy'].map((stage) => [`baton/${stage}`, 'success'])));
    }
    expect(stderr).toMatch(/commit statuses on acme\/online-boutique@[0-9a-f]{7}, as the GitHub stand-in recorded them:\n\s+✓ baton\/intake/);
    expect(summaries[0]!.services).toEqual(['frontend']);
    expect(summaries[1]!.services).toEqual(['cartservice']);
    expect(summaries[0]!.chart!.version).not.toBe(summaries[1]!.chart!.version);
    expect(stderr).toContain('[ Approve ]');
  }, 300_000);
});
