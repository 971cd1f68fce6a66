import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BusMessage } from '../../shared/bus/bus.js';
import { PubSubBus } from '../../shared/bus/pubsubBus.js';
import { freePort } from '../../local/registry.js';
import { CASES, CONFIG, GITHUB_OLD_SECRET, GITHUB_SECRET, GITLAB_TOKEN, takeRun, taken } from './cases.js';
import { FirestoreDocStore } from '../../shared/ledger/firestoreDocStore.js';
import { RunLedger } from '../../shared/ledger/runLedger.js';
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
const ledger = new RunLedger(new FirestoreDocStore({ projectId: project }));

beforeAll(async () => {
  const configFile = join(tempDir(), 'baton.yaml');
  writeFileSync(configFile, CONFIG);
  watcher = new PubSubBus({ projectId: project, autoCreate: true });
  await watcher.subscribe('push-received', 'intake-process-watch', async (message) => {
    received.push(message);
    await takeRun(ledger, message);
  });
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
  await ledger.close();
});

test('exactly one push-received per accepted delivery (a re-drive publishes its run again), none for the rest', async () => {
  let accepted = 0;
  const runs = new Set<string>();
  for (const testCase of CASES) {
    const { headers, body } = testCase.request();
    const response = await fetch(url, { method: 'POST', headers, body: new Uint8Array(body) });
    expect({ name: testCase.name, status: response.status }).toEqual({ name: testCase.name, status: testCase.status });
    const runId = response.status === 202 ? ((await response.json()) as { runId: string }).runId : undefined;
    if (testCase.publishes) accepted++;
    if (runId) runs.add(runId);
    if (testCase.taken) await eventually(() => taken(ledger, runId!), 20_000, 'the stand-in for repoMirror to take the run');
  }
  await eventually(() => (received.length >= accepted ? true : undefined), 20_000, 'push-received messages');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(received).toHaveLength(accepted);
  expect(new Set(received.map((message) => message.attributes.run_id))).toEqual(runs);
  expect(runs.size).toBe(accepted - 1);
}, 120_000);
