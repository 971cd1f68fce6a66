import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { PushReceived } from '../../shared/contracts/index.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import { ABANDONED_TRIGGER_MS } from '../../functions/jenkinsTrigger/handler.js';
import { RUNTIME_KINDS, testRuntime } from '../support/runtimes.js';
import { deliver, newRun, pushReceivedFor } from '../support/stages.js';

/**
 * jenkinsTrigger through the stage runner, against a stand-in for Jenkins' `buildByToken`
 * endpoint (the Build Authorization Token Root plugin) on loopback: what it records is each
 * request exactly as Jenkins would receive it, and it answers with the statuses a test queues
 * (201, as Jenkins does, once they run out).
 */
const TOKEN = 'trigger-token-123';

type JenkinsStandIn = { url: string; requests: URL[]; answers: number[]; close: () => Promise<void> };

async function jenkinsStandIn(): Promise<JenkinsStandIn> {
  const requests: URL[] = [];
  const answers: number[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(new URL(req.url ?? '/', 'http://jenkins'));
    res.writeHead(req.method === 'POST' ? (answers.shift() ?? 201) : 405).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jenkins`;
  return { url, requests, answers, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const config = (jenkinsUrl: string) => `
pipelines:
  - name: shop
    repository: acme/shop
    branches: [main]
    jenkins: { url: "${jenkinsUrl}", job: baton }
    services: [{ name: frontend, path: src/frontend/ }]
  - name: quiet
    repository: acme/quiet
    branches: [main]
    services: [{ name: frontend, path: src/frontend/ }]
`;

async function pushOf(runtime: Runtime, pipeline: string): Promise<PushReceived> {
  const runId = `${pipeline}-${Math.random().toString(36).slice(2, 8)}`;
  const after = 'c'.repeat(40);
  const run = newRun({ runId, after, pipeline, repository: `acme/${pipeline}`, services: ['frontend'] });
  await runtime.ledger().createRun(run, new Date(), { intake: { status: 'succeeded', startedAt: new Date().toISOString(), endedAt: new Date().toISOString() } }, {});
  return pushReceivedFor(run);
}

const trigger = (runtime: Runtime, push: PushReceived, attempt = 1) => deliver(runtime, 'jenkinsTrigger', 'push-received', push, { deliveryAttempt: attempt });

describe.each(RUNTIME_KINDS)('jenkinsTrigger (%s runtime)', (kind) => {
  let jenkins: JenkinsStandIn;
  beforeEach(async () => {
    jenkins = await jenkinsStandIn();
  });
  afterEach(async () => {
    await jenkins.close();
  });

  test('one Jenkins build per run, with its id, pipeline and commit, however often push-received is delivered', async () => {
    const runtime = testRuntime(kind, config(jenkins.url), { env: { JENKINS_TRIGGER_TOKEN: TOKEN } });
    const push = await pushOf(runtime, 'shop');

    await trigger(runtime, push);
    await trigger(runtime, push, 2);
    await trigger(runtime, push, 3);

    expect(jenkins.requests).toHaveLength(1);
    const [request] = jenkins.requests;
    expect(request!.pathname).toBe('/jenkins/buildByToken/buildWithParameters');
    expect(Object.fromEntries(request!.searchParams)).toEqual({ job: 'baton', token: TOKEN, RUN_ID: push.runId, PIPELINE: 'shop', COMMIT: push.after });
    // A reporter: the run's timeline is left as it was.
    expect(Object.keys((await runtime.ledger().getRun(push.runId))!.stages)).toEqual(['intake']);
  });

  test('a Jenkins that is down is asked again on the redelivery, and starts the build once', async () => {
    const runtime = testRuntime(kind, config(jenkins.url), { env: { JENKINS_TRIGGER_TOKEN: TOKEN } });
    const push = await pushOf(runtime, 'shop');
    jenkins.answers.push(503);

    await expect(trigger(runtime, push)).rejects.toThrow(/failed to trigger Jenkins job baton: HTTP 503/);
    await trigger(runtime, push, 2);
    await trigger(runtime, push, 3);

    expect(jenkins.requests.map((request) => request.searchParams.get('RUN_ID'))).toEqual([push.runId, push.runId]);
  });

  test('a refusal (a wrong token) is not retried, and the run goes on', async () => {
    const runtime = testRuntime(kind, config(jenkins.url), { env: { JENKINS_TRIGGER_TOKEN: TOKEN } });
    const push = await pushOf(runtime, 'shop');
    jenkins.answers.push(403);

    await trigger(runtime, push); // acknowledged: no redelivery
    expect(jenkins.requests).toHaveLength(1);
    expect((await runtime.ledger().getRun(push.runId))!.status).toBe('running');
  });

  test('a start cut off mid-call is taken over once it is abandoned, and not before', async () => {
    const runtime = testRuntime(kind, config(jenkins.url), { env: { JENKINS_TRIGGER_TOKEN: TOKEN } });
    const push = await pushOf(runtime, 'shop');
    const key = claimKeys.jenkinsBuild(push.runId);
    // What a delivery that died between its claim and Jenkins' answer leaves: a claim without startedAt.
    const cutOff = (startingAt: Date) => runtime.ledger().claim(key, { startingAt: startingAt.toISOString(), by: runtime.instanceId });

    // Fresh, and this process's own: another delivery may be waiting on Jenkins right now.
    await cutOff(new Date());
    await expect(trigger(runtime, push)).rejects.toThrow(/another delivery is starting the Jenkins build/);
    expect(jenkins.requests).toHaveLength(0);

    await runtime.ledger().releaseClaim(key);
    await cutOff(new Date(Date.now() - ABANDONED_TRIGGER_MS - 1_000));
    await trigger(runtime, push, 2);
    await trigger(runtime, push, 3);
    expect(jenkins.requests.map((request) => request.searchParams.get('RUN_ID'))).toEqual([push.runId]);
  });

  test('after a restart of baton dev, a start the dead process claimed is taken over at once', async () => {
    const runtime = testRuntime(kind, config(jenkins.url), { env: { JENKINS_TRIGGER_TOKEN: TOKEN } });
    const push = await pushOf(runtime, 'shop');
    await runtime.ledger().claim(claimKeys.jenkinsBuild(push.runId), { startingAt: new Date().toISOString(), by: 'the-process-before-the-restart' });

    await trigger(runtime, push);
    expect(jenkins.requests).toHaveLength(1);
  });

  test('nothing is sent for a pipeline without a Jenkins job, or without the token', async () => {
    const withToken = testRuntime(kind, config(jenkins.url), { env: { JENKINS_TRIGGER_TOKEN: TOKEN } });
    await trigger(withToken, await pushOf(withToken, 'quiet'));
    const withoutToken = testRuntime(kind, config(jenkins.url));
    await trigger(withoutToken, await pushOf(withoutToken, 'shop'));

    expect(jenkins.requests).toEqual([]);
  });
});
