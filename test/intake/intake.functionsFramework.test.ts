import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { BusMessage } from '../../shared/bus/bus.js';
import { PubSubBus } from '../../shared/bus/pubsubBus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import { CASES, CONFIG, GITHUB_OLD_SECRET, GITHUB_SECRET, GITLAB_TOKEN, github, githubPush, takeRun, taken } from './cases.js';
import { FirestoreDocStore } from '../../shared/ledger/firestoreDocStore.js';
import { RunLedger } from '../../shared/ledger/runLedger.js';
import { eventually, tempDir, uniqueProject, logLines } from '../support/runtimes.js';

/**
 * webhookIntake served through functions-framework, exactly as `npx functions-framework
 * --target=webhookIntake` serves it, against the Pub/Sub and Firestore emulators.
 */
const project = uniqueProject();
process.env.GOOGLE_CLOUD_PROJECT = project;
const configFile = join(tempDir(), 'baton.yaml');
writeFileSync(configFile, CONFIG);
process.env.BATON_CONFIG = configFile;
process.env.GITHUB_WEBHOOK_SECRET = `${GITHUB_SECRET},${GITHUB_OLD_SECRET}`;
process.env.GITLAB_WEBHOOK_TOKEN = GITLAB_TOKEN;

const received: BusMessage[] = [];
let watcher: PubSubBus;
let server: ReturnType<typeof getTestServer>;
const ledger = new RunLedger(new FirestoreDocStore({ projectId: project }));

beforeAll(async () => {
  watcher = new PubSubBus({ projectId: project, autoCreate: true });
  await watcher.subscribe('push-received', 'intake-test-watch', async (message) => {
    received.push(message);
    await takeRun(ledger, message);
  });
  await import('../../functions/index.js');
  server = getTestServer('webhookIntake');
});
afterAll(async () => {
  await watcher.close();
  await ledger.close();
  const { defaultCloudRuntime } = await import('../../shared/runtime/cloudRuntime.js');
  await defaultCloudRuntime().bus().close();
  await defaultCloudRuntime().ledger().close();
});

const outcomes: Array<{ name: string; publishes: boolean; runId?: string }> = [];

describe('webhookIntake through functions-framework', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const { headers, body } = testCase.request();
    const response = await request(server).post('/').set(headers).send(body.toString('utf8'));
    expect(response.status).toBe(testCase.status);
    if (!testCase.frameworkMayAnswer) expect(response.headers['content-type']).toMatch(/json/);
    testCase.check?.(response.body as Record<string, unknown>);
    const runId = (response.body as { runId?: string }).runId;
    outcomes.push({ name: testCase.name, publishes: testCase.publishes, runId });
    if (testCase.taken) await eventually(() => taken(ledger, runId!), 20_000, 'the stand-in for repoMirror to take the run');
  });

  test('a body over 25 MB gets 413 without baton parsing it', async () => {
    // Valid JSON, so that the framework's own body parser (which runs before any function)
    // accepts it and the 413 is baton's answer.
    const huge = Buffer.from(JSON.stringify(githubPush((p) => (p.padding = 'x'.repeat(25 * 1024 * 1024)))));
    const { headers } = github(undefined, { raw: huge });
    const response = await request(server).post('/').set(headers).send(huge.toString('utf8'));
    expect(response.status).toBe(413);
  });

  test('exactly one push-received per accepted delivery (and one more for the re-driven one), none for the rest', async () => {
    const accepted = outcomes.filter((outcome) => outcome.publishes);
    expect(accepted.length).toBe(CASES.filter((c) => c.publishes).length);
    // The re-driven run is the stranded one: the same run id, the same event, published again.
    const stranded = outcomes.find((outcome) => outcome.name.startsWith('GitHub push whose run never left intake'))!;
    expect(outcomes.find((outcome) => outcome.name.startsWith('GitHub redelivery of that delivery re-drives'))?.runId).toBe(stranded.runId);
    await eventually(() => (received.length >= accepted.length ? true : undefined), 20_000, 'push-received messages');
    // Give any wrongly published extra message time to arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(received).toHaveLength(accepted.length);
    const events = received.map((message) => {
      const decoded = decodeEvent('push-received', message.data);
      if (!decoded.ok) throw new Error(decoded.error);
      expect(message.attributes).toEqual({ type: 'push-received', run_id: decoded.event.runId, outbox_key: 'push-received' });
      return decoded.event;
    });
    expect(new Set(events.map((event) => event.runId))).toEqual(new Set(accepted.map((outcome) => outcome.runId)));
    const redriven = events.filter((event) => event.runId === stranded.runId);
    expect(redriven).toHaveLength(2);
    expect(redriven[1]).toEqual(redriven[0]);

    const byName = (name: string) => events.find((event) => event.runId === accepted.find((outcome) => outcome.name === name)?.runId)!;
    expect(byName('GitHub push (non-ASCII and emoji in the body)')).toMatchObject({
      provider: 'github',
      repository: 'acme/shop',
      branch: 'main',
      services: ['frontend'],
      servicesResolved: true,
      changedPaths: ['src/frontend/main.go'],
      pusher: { name: 'octocat', email: 'octocat@github.com' },
    });
    expect(byName('GitHub forced push')).toMatchObject({ forced: true, servicesResolved: false, unresolvedReason: 'forced' });
    expect(byName('GitHub new release branch')).toMatchObject({ branch: 'release/1.0', servicesResolved: false, unresolvedReason: 'created' });
    expect(byName('GitHub push with a truncated commit list')).toMatchObject({ servicesResolved: false, unresolvedReason: 'truncated' });
    expect(byName('GitLab push')).toMatchObject({ provider: 'gitlab', repository: 'acme/shop', services: ['cartservice'], pusher: { username: 'jsmith' } });
  });

  test('no secret reaches a log line', () => {
    const text = logLines.join('\n');
    for (const secret of [GITHUB_SECRET, GITHUB_OLD_SECRET, GITLAB_TOKEN]) expect(text).not.toContain(secret);
    expect(text).toContain('refused a webhook with a bad or missing signature');
  });
});
