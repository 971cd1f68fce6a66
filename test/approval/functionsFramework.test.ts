import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { PubSubBus } from '../../shared/bus/pubsubBus.js';
import type { Subscription } from '../../shared/bus/bus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import { newRun } from '../support/stages.js';
import { makeEvent } from '../../shared/contracts/index.js';
import type { ApprovalDecided } from '../../shared/contracts/index.js';
import { FakeSlack, clickButton, slackSignedHeaders } from '../../standins/slackApi.js';
import { FirestoreDocStore } from '../../shared/ledger/firestoreDocStore.js';
import { RunLedger } from '../../shared/ledger/runLedger.js';
import { CONFIG_YAML, SECRETS, USERS, digest, emulatorEnv, waitFor } from './harness.js';

jest.setTimeout(60_000);

/**
 * The deployed wiring: the package `main` registers both targets with functions-framework, and
 * the framework's test server serves them (a Pub/Sub push body for `promotion`, Slack's
 * form POST for `approvalCallback`), on the cloud runtime against the emulators.
 */
const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);
const dir = mkdtempSync(join(tmpdir(), 'baton-ff-'));
let fake: FakeSlack;
let getTestServer: (name: string) => import('node:http').Server;
const ledger = new RunLedger(new FirestoreDocStore({ projectId: 'baton-test' }));
const bus = new PubSubBus({ projectId: 'baton-test', autoCreate: true });
const decided: ApprovalDecided[] = [];
let watch: Subscription;

beforeAll(async () => {
  fake = await FakeSlack.start({ token: SECRETS.botToken });
  writeFileSync(join(dir, 'baton.yaml'), CONFIG_YAML);
  // The cloud runtime reads process.env; this file needs the emulators, so it sets them here.
  Object.assign(process.env, emulatorEnv(), {
    BATON_CONFIG: join(dir, 'baton.yaml'),
    SLACK_BOT_TOKEN: SECRETS.botToken,
    SLACK_SIGNING_SECRET: SECRETS.signing,
    SLACK_CHANNEL: 'C0FF',
    SLACK_API_URL: fake.url,
    BATON_APPROVAL_SECRET: SECRETS.approval,
  });
  await import('../../functions/index.js');
  ({ getTestServer } = await import('@google-cloud/functions-framework/testing'));
  watch = await bus.subscribe('approval-decided', `ff-watch-${hex(10)}`, async (message) => {
    const event = decodeEvent('approval-decided', message.data);
    if (event.ok) decided.push(event.event);
  });
});

afterAll(async () => {
  await watch?.close({ remove: true });
  await bus.close();
  await ledger.close();
  // The targets' own runtime: its clients' calls must not outlive the test environment.
  const { defaultCloudRuntime } = await import('../../shared/runtime/cloudRuntime.js');
  await defaultCloudRuntime().bus().close();
  await defaultCloudRuntime().ledger().close();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a build-finished push posts the question, and a signed click through the framework approves it', async () => {
  const after = hex(40);
  const runId = `shop-${hex(6)}-${after.slice(0, 7)}-ff`;
  const image = { service: 'frontend', repository: 'registry.local/frontend', tag: after.slice(0, 7), digest: digest() };
  await ledger.createRun(newRun({ runId, before: hex(40), after, pusher: { name: 'erin' }, services: ['frontend'] }), new Date(), {}, {});
  // The build as buildStatus records it before saying build-finished.
  await ledger.updateRun(runId, (run) => ((run.builds.frontend = { buildId: 'b1', status: 'SUCCESS', image: { repository: image.repository, tag: image.tag, digest: image.digest } }), true));
  const event = makeEvent('build-finished', { runId, pipeline: 'shop', service: 'frontend', buildId: 'b1', status: 'SUCCESS', sha: after, image });
  const push = {
    message: { data: Buffer.from(JSON.stringify(event)).toString('base64'), attributes: { type: 'build-finished', run_id: runId }, messageId: hex(12), publishTime: new Date().toISOString() },
    subscription: 'projects/baton-test/subscriptions/promotion',
  };
  const delivered = await request(getTestServer('promotion')).post('/projects/baton-test/topics/build-finished').set('content-type', 'application/json').send(push);
  expect(delivered.status).toBeLessThan(300);
  const message = fake.messages.find((candidate) => candidate.text.includes(runId));
  expect(message?.channel).toBe('C0FF');

  const forged = clickButton(fake, message!, 'approve', USERS.alice, 'not-the-secret');
  const refused = await request(getTestServer('approvalCallback')).post('/').set(forged.headers).send(forged.rawBody);
  expect(refused.status).toBe(401);
  const stale = slackSignedHeaders(forged.rawBody, SECRETS.signing, Math.floor(Date.now() / 1000) - 600);
  expect((await request(getTestServer('approvalCallback')).post('/').set(stale).send(forged.rawBody)).status).toBe(401);

  const click = clickButton(fake, message!, 'approve', USERS.alice, SECRETS.signing);
  const started = Date.now();
  const response = await request(getTestServer('approvalCallback')).post('/').set(click.headers).send(click.rawBody);
  expect(response.status).toBe(200);
  expect(Date.now() - started).toBeLessThan(3_000);
  await waitFor(() => decided.some((candidate) => candidate.runId === runId), 'approval-decided');
  expect(decided.find((candidate) => candidate.runId === runId)).toMatchObject({ decision: 'approved', decidedBy: { id: 'U0ALICE', via: 'slack' }, images: [event.image] });
  expect(FakeSlack.textOf(message!)).toContain('*Approved* by <@U0ALICE>');
});
