/**
 * `npm run bench:burst`: bursts of signed pushes at webhook intake, printed, not asserted.
 * - 200 pushes in 4 s (50/s), 40 of them exact redeliveries, against `functions-framework
 *   --target=webhookIntake` on the Pub/Sub and Firestore emulators (the deployed code path);
 * - 500 pushes in 10 s, 100 of them redeliveries, against `baton dev` (the embedded stack on
 *   its SQLite file).
 * Each prints accepted, duplicates, errors, unanswered, p50, p99 and the slowest answer.
 * Targets: p99 <= 1 s on the emulators, <= 50 ms embedded. Needs the emulators (it starts
 * them, as the tests do, when PUBSUB_EMULATOR_HOST is unset).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { burst } from '../local/burst.js';
import type { BurstResult } from '../local/burst.js';
import { startFunctionsFramework } from '../local/functionsFramework.js';
import { freePort } from '../local/registry.js';
import { startServices, stopServices } from '../test/support/services.js';
import { tempDir, uniqueProject } from '../test/support/runtimes.js';

const SECRET = 'bench-burst-secret';
const CONFIG = `pipelines:
  - name: shop
    repository: acme/shop
    branches: [main]
    services: [{ name: frontend, path: src/frontend/ }]
`;

function line(name: string, r: BurstResult, target: number): string {
  const ok = r.p99 <= target ? 'ok' : 'OVER TARGET';
  return `${name.padEnd(44)} sent ${r.sent}  accepted ${r.accepted}  duplicates ${r.duplicates}  errors ${r.errors}  unanswered ${r.unanswered}  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  max ${r.max.toFixed(1)} ms  (p99 target <= ${target} ms: ${ok})`;
}

async function onEmulators(): Promise<BurstResult> {
  const configFile = join(tempDir('baton-bench-burst-'), 'baton.yaml');
  writeFileSync(configFile, CONFIG);
  const server = await startFunctionsFramework('webhookIntake', { ...process.env, GOOGLE_CLOUD_PROJECT: uniqueProject(), BATON_CONFIG: configFile, GITHUB_WEBHOOK_SECRET: SECRET, METADATA_SERVER_DETECTION: 'none', LOG_LEVEL: 'warn' });
  try {
    await burst({ url: server.url, secret: SECRET, repository: 'acme/shop', requests: 1, redeliveries: 0, durationMs: 1 });
    return await burst({ url: server.url, secret: SECRET, repository: 'acme/shop', requests: 200, redeliveries: 40, durationMs: 4_000 });
  } finally {
    await server.stop();
  }
}

async function onBatonDev(): Promise<BurstResult> {
  const home = tempDir('baton-bench-burst-dev-');
  const configFile = join(home, 'baton.yaml');
  writeFileSync(configFile, CONFIG);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, BATON_HOME: home, BATON_CONFIG: configFile, BATON_REGISTRY: process.env.BATON_REGISTRY, GITHUB_WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'warn' };
  const child = spawn(process.execPath, ['--no-warnings', 'dist/cli/baton.js', 'dev', '--port', String(port)], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        if (i > 300) throw new Error('baton dev did not start');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await burst({ url: `${url}/webhookIntake`, secret: SECRET, repository: 'acme/shop', requests: 1, redeliveries: 0, durationMs: 1 });
    return await burst({ url: `${url}/webhookIntake`, secret: SECRET, repository: 'acme/shop', requests: 500, redeliveries: 100, durationMs: 10_000 });
  } finally {
    child.kill('SIGTERM');
  }
}

const started = startServices();
try {
  const emulators = await onEmulators();
  const embedded = await onBatonDev();
  process.stdout.write(
    [
      'baton burst bench (paced bursts of signed pushes; redeliveries resend an earlier delivery, same X-GitHub-Delivery)',
      line('functions-framework webhookIntake, emulators', emulators, 1_000),
      line('baton dev (embedded, SQLite file)', embedded, 50),
      '',
    ].join('\n'),
  );
} finally {
  stopServices(started);
}
