import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BusMessage } from '../../shared/bus/bus.js';
import { PubSubBus } from '../../shared/bus/pubsubBus.js';
import { freePort } from '../../local/registry.js';
import { CASES, CONFIG, GITHUB_OLD_SECRET, GITHUB_SECRET, GITLAB_TOKEN } from './cases.js';
import { eventually, tempDir, uniqueProject } from '../support/runtimes.js';

/**
 * The deployed way, as a separate process: `npx functions-framework --target=webhookIntake`
 * from the repository root (after the build), with the emulators and a BATON_CONFIG. Real and
 * hostile deliveries go in; what reaches push-received is counted.
 */
const project = uniqueProject();
let server: ChildProcess;
let url: string;
let watcher: PubSubBus;
const received: BusMessage[] = [];

beforeAll(async () => {
  const configFile = join(tempDir(), 'baton.yaml');
  writeFileSync(configFile, CONFIG);
  watcher = new PubSubBus({ projectId: project, autoCreate: true });
  await watcher.subscribe('push-received', 'intake-process-watch', async (message) => void received.push(message));
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  server = spawn('npx', ['functions-framework', '--target=webhookIntake', `--port=${port}`], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      GOOGLE_CLOUD_PROJECT: project,
      BATON_CONFIG: configFile,
      GITHUB_WEBHOOK_SECRET: `${GITHUB_SECRET},${GITHUB_OLD_SECRET}`,
      GITLAB_WEBHOOK_TOKEN: GITLAB_TOKEN,
      METADATA_SERVER_DETECTION: 'none',
    },
    stdio: 'ignore',
    detached: true,
  });
  await eventually(
    async () => {
      try {
        await fetch(url, { method: 'GET' });
        return true;
      } catch {
        return undefined;
      }
    },
    30_000,
    'functions-framework to listen',
  );
});

afterAll(async () => {
  if (server.pid) process.kill(-server.pid, 'SIGTERM');
  await watcher.close();
});

test('exactly one push-received per unique accepted delivery, none for the rest', async () => {
  let accepted = 0;
  for (const testCase of CASES) {
    const { headers, body } = testCase.request();
    const response = await fetch(url, { method: 'POST', headers, body: new Uint8Array(body) });
    expect({ name: testCase.name, status: response.status }).toEqual({ name: testCase.name, status: testCase.status });
    if (testCase.publishes) accepted++;
  }
  await eventually(() => (received.length >= accepted ? true : undefined), 20_000, 'push-received messages');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(received).toHaveLength(accepted);
  expect(new Set(received.map((message) => message.attributes.run_id)).size).toBe(accepted);
}, 120_000);
