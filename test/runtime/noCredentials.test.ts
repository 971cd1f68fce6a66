import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/runtimes.js';

/**
 * Without Application Default Credentials, Google's client libraries leave an unhandled rejection
 * beside (or instead of) the call's own, and Node ends the process on it. Each case runs in a
 * child process with no credentials anywhere: no key file, no gcloud login under HOME, no
 * metadata server, no emulator, and no handler of its own.
 */
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NO_CREDENTIALS = { PATH: process.env.PATH, METADATA_SERVER_DETECTION: 'none', GOOGLE_CLOUD_PROJECT: 'acme-ci' };
const REFUSAL = (service: string, emulator?: string) =>
  `no Google Cloud credentials for ${service} (Could not load the default credentials): run \`gcloud auth application-default login\`, or run as a service account${emulator ? `, or set ${emulator} to use the emulator` : ''}`;

/** Runs `body` (ES module code, `dist` in scope) twice over, printing each call's refusal, then "done" after the SDK's timers had their turn. */
function twoCalls(body: string): { status: number | null; stderr: string; lines: string[] } {
  const script = `
    const dist = ${JSON.stringify(dist)};
    const call = async () => { ${body} };
    for (const attempt of [1, 2]) await call().then(() => console.log('answered'), (error) => console.log('refused: ' + error.message));
    await new Promise((resolve) => setTimeout(resolve, 500));
    console.log('done');
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...NO_CREDENTIALS, HOME: tempDir('baton-no-adc-') }, encoding: 'utf8', timeout: 30_000 });
  return { status: child.status, stderr: child.stderr, lines: child.stdout.trim().split('\n') };
}

describe('Google Cloud clients without credentials', () => {
  test('Cloud Build: each call fails with one clear error, and the process lives on', () => {
    const child = twoCalls(`
      const { CloudBuildBuilder, lazyCloudBuildClient } = await import(dist + '/shared/runtime/builders/cloudBuild.js');
      await new CloudBuildBuilder({ projectId: 'acme-ci', region: 'europe-west1' }, lazyCloudBuildClient()).get('b-1');
    `);
    expect(child).toEqual({ status: 0, stderr: '', lines: [`refused: failed to read Cloud Build build b-1: ${REFUSAL('Cloud Build')}`, `refused: failed to read Cloud Build build b-1: ${REFUSAL('Cloud Build')}`, 'done'] });
  });

  test('Pub/Sub: a publish fails with one clear error, and the process lives on', () => {
    const child = twoCalls(`
      const { PubSubBus } = await import(dist + '/shared/bus/pubsubBus.js');
      await new PubSubBus({ projectId: 'acme-ci' }).publish('push-received', Buffer.from('{}'), {});
    `);
    expect(child.status).toBe(0);
    expect(child.stderr).toBe('');
    expect(child.lines).toHaveLength(3);
    for (const line of child.lines.slice(0, 2)) expect(line).toContain(REFUSAL('Pub/Sub', 'PUBSUB_EMULATOR_HOST'));
  });

  test('Firestore: `baton runs` says what is missing in one line, and exits 1', () => {
    const child = spawnSync(process.execPath, [join(dist, 'cli', 'baton.js'), 'runs'], { env: { ...NO_CREDENTIALS, HOME: tempDir('baton-no-adc-') }, encoding: 'utf8', timeout: 30_000 });
    expect({ status: child.status, stdout: child.stdout, stderr: child.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr: `baton: failed to read the run ledger: ${REFUSAL('Firestore', 'FIRESTORE_EMULATOR_HOST')}\n`,
    });
  });
});
