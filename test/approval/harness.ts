import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { serveHttp } from '../../shared/adapters/http.js';
import type { Subscription } from '../../shared/bus/bus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import { InProcessBus } from '../../shared/bus/inProcessBus.js';
import { parseConfig } from '../../shared/config/pipelineConfig.js';
import type { BuildFinished, EventOf } from '../../shared/contracts/index.js';
import { FakeSlack, blockActionsBody, clickButton, slackSignedHeaders } from '../../standins/slackApi.js';
import type { FakeSlackMessage, SlackClicker } from '../../standins/slackApi.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import type { LogFields, Logger } from '../../shared/log/logger.js';
import { embeddedRuntime } from '../../shared/runtime/embeddedRuntime.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { decideDepsFor } from '../../domain/approval/runtimeDeps.js';
import type { DecideDeps } from '../../domain/approval/decide.js';
import { httpStageTarget, stageRuntime } from '../../shared/stage/runner.js';
import type { HttpStage } from '../../shared/stage/declaration.js';
import { MANIFEST } from '../../functions/stages.js';
import { buildStageOf } from '../../functions/buildStatus/status.js';
import { applyStageUpdate } from '../../shared/ledger/runLedger.js';
import { makeEvent } from '../../shared/contracts/index.js';
import { deliver, emit, newRun, subscribeStages } from '../support/stages.js';

/**
 * Runs the two approval targets against a real runtime: the in-process bus with SQLite, or the
 * Pub/Sub and Firestore emulators (unique subscriptions and Firestore namespace per harness).
 * Slack is the only fake: a local Web API server. Every run id is unique, and collectors keep
 * only this harness's runs, since other suites publish on the same emulator topics.
 */
export type Mode = 'in-process bus + SQLite' | 'Pub/Sub + Firestore emulators';
export const MODES: Mode[] = ['in-process bus + SQLite', 'Pub/Sub + Firestore emulators'];

export const SECRETS = {
  botToken: `xoxb-${randomBytes(6).toString('hex')}-faketoken`,
  signing: `signing-${randomBytes(12).toString('hex')}`,
  approval: `approval-${randomBytes(12).toString('hex')}`,
};

export const USERS = {
  alice: { id: 'U0ALICE', username: 'alice', name: 'alice' },
  bob: { id: 'U0BOB', username: 'bob', name: 'bob' },
  mallory: { id: 'U0MALLORY', username: 'mallory', name: 'mallory' },
} satisfies Record<string, SlackClicker>;

/** `shop`: defaults. `strict`: the pusher may not approve. `quick`: requests expire after 5 s. */
export const CONFIG_YAML = `
pipelines:
  - name: shop
    repository: acme/shop
    branches: [main]
    services:
      - { name: frontend, path: src/frontend/ }
      - { name: cartservice, path: src/cartservice/ }
    approval:
      approvers: [U0ALICE, U0BOB, "cli:carol", "jenkins:dave"]
  - name: strict
    repository: acme/strict
    branches: [main]
    services:
      - { name: api, path: api/ }
    approval:
      approvers: [U0ALICE, U0BOB, "cli:alice"]
      allowSelfApproval: false
  - name: quick
    repository: acme/quick
    branches: [main]
    services:
      - { name: web, path: web/ }
    approval:
      approvers: [U0ALICE]
      ttlSeconds: 5
`;

export function emulatorEnv(): Record<string, string> {
  const pubsub = process.env.PUBSUB_EMULATOR_HOST;
  const firestore = process.env.FIRESTORE_EMULATOR_HOST;
  if (!pubsub || !firestore) {
    throw new Error('PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST must be set (scripts/emulators.sh start) to test the emulator runtime');
  }
  return { PUBSUB_EMULATOR_HOST: pubsub, FIRESTORE_EMULATOR_HOST: firestore, GOOGLE_CLOUD_PROJECT: 'baton-test', METADATA_SERVER_DETECTION: 'none' };
}

export type LogEntry = { severity: string; message: string; fields: LogFields };

/** Keeps log lines in memory, so tests can read them (and check no secret is in them). */
export function memoryLogger(entries: LogEntry[] = [], base: LogFields = {}): Logger & { entries: LogEntry[] } {
  const write = (severity: string) => (message: string, fields: LogFields = {}) => {
    const { error, ...rest } = fields as LogFields & { error?: unknown };
    entries.push({ severity, message, fields: { ...base, ...rest, ...(error instanceof Error ? { error: error.message } : error === undefined ? {} : { error: String(error) }) } });
  };
  return { entries, debug: write('DEBUG'), info: write('INFO'), warn: write('WARNING'), error: write('ERROR'), child: (fields) => memoryLogger(entries, { ...base, ...fields }) };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const hex = (length: number) => randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
export const digest = () => `sha256:${hex(64)}`;

/** The build-finished that a run's one service (frontend) ends its build with. */
export function frontendBuilt(runId: string, sha: string, image: { repository: string; tag: string; digest: string }): BuildFinished {
  return makeEvent('build-finished', { runId, pipeline: 'shop', service: 'frontend', buildId: 'b1', status: 'SUCCESS', sha, image: { service: 'frontend', ...image } });
}

/**
 * A run of `shop` whose build succeeded and which now waits for its approval, moved there by the
 * promotion stage itself (no Slack: the request is only recorded). Resolves with its run id.
 */
export async function runWaitingForApproval(runtime: Runtime, runId: (after: string) => string = (after) => `shop-${after.slice(0, 7)}-${hex(8)}`): Promise<string> {
  const after = hex(40);
  const id = runId(after);
  const ledger = runtime.ledger();
  const image = { repository: 'registry.local/frontend', tag: after.slice(0, 7), digest: digest() };
  await ledger.createRun(newRun({ runId: id, before: hex(40), after, pusher: { name: 'erin' }, services: ['frontend'] }), new Date(), {}, {});
  // The build as buildStatus leaves it, then its build-finished through the promotion stage.
  await ledger.updateRun(id, (run) => ((run.builds.frontend = { buildId: 'b1', status: 'SUCCESS', image }), true));
  await deliver(runtime, 'promotion', 'build-finished', frontendBuilt(id, after, image));
  const stage = (await ledger.getRun(id))?.stages.approval?.status;
  if (stage !== 'waiting') throw new Error(`run ${id} does not wait for approval (its approval stage is ${stage})`);
  return id;
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

export async function startHarness(mode: Mode, extraEnv: Record<string, string> = {}) {
  const unique = `appr-${Date.now().toString(36)}-${hex(6)}`;
  const workDir = mkdtempSync(join(tmpdir(), 'baton-approval-'));
  const emulated = mode !== 'in-process bus + SQLite';
  const fake = await FakeSlack.start({
    token: SECRETS.botToken,
    users: {
      U0ALICE: { name: 'alice', email: 'alice@example.com' },
      U0BOB: { name: 'bob', email: 'bob@example.com' },
      U0MALLORY: { name: 'mallory', email: 'mallory@example.com' },
    },
  });
  const env: NodeJS.ProcessEnv = {
    SLACK_BOT_TOKEN: SECRETS.botToken,
    SLACK_SIGNING_SECRET: SECRETS.signing,
    SLACK_CHANNEL: 'C0DEPLOYS',
    SLACK_API_URL: fake.url,
    BATON_APPROVAL_SECRET: SECRETS.approval,
    ...(emulated ? emulatorEnv() : {}),
    ...extraEnv,
  };
  const logs = memoryLogger();
  const runtime: Runtime = embeddedRuntime({
    config: parseConfig(CONFIG_YAML, 'test.yaml'),
    local: { workDir, registry: '127.0.0.1:5000' },
    ledgerFile: ':memory:',
    env,
    log: logs,
    firestoreNamespace: `${unique}-`,
  });
  const bus = runtime.bus();
  const ledger = runtime.ledger();
  const runIds = new Set<string>();
  const subscriptions: Subscription[] = [];

  /** Every event this harness's runs published on a topic, once per message id. */
  const collect = async <T extends 'approval-requested' | 'approval-decided'>(topic: T) => {
    const seen = new Map<string, EventOf<T>>();
    subscriptions.push(
      await bus.subscribe(topic, `${unique}-${topic}-watch`, async (message) => {
        if (!runIds.has(message.attributes.run_id ?? '')) return;
        const decoded = decodeEvent(topic, message.data);
        if (decoded.ok) seen.set(message.id, decoded.event);
      }),
    );
    return { all: () => [...seen.values()], of: (runId: string) => [...seen.values()].filter((event) => event.runId === runId) };
  };
  const requested = await collect('approval-requested');
  const decided = await collect('approval-decided');
  subscriptions.push(...(await subscribeStages(runtime, ['promotion'], { prefix: `${unique}-`, minBackoffMs: 100, maxBackoffMs: 1_000 })));
  const callbackStage = MANIFEST.find('approvalCallback') as HttpStage;
  const served: { server: Server; url: string } = await serveHttp([{ method: 'POST', path: '/approvalCallback', target: httpStageTarget(callbackStage, runtime, MANIFEST) }], runtime);

  let seq = Math.floor(Date.now() / 1000) % 1_000_000;
  const sha = () => hex(40);

  return {
    mode,
    runtime,
    ledger,
    bus,
    fake,
    logs,
    requested,
    decided,
    callbackUrl: `${served.url}/approvalCallback`,

    /** What `decide()` gets when the CLI or Jenkins decides (as the approvalCallback stage) or the expiry sweep runs (as approvalExpiry). */
    decideDeps(stage: 'approvalCallback' | 'approvalExpiry' = 'approvalCallback'): DecideDeps {
      return decideDepsFor(stageRuntime<'approval-decided'>(runtime, MANIFEST.find(stage)!, MANIFEST), 'background');
    },

    async createRun(pipeline: 'shop' | 'strict' | 'quick' = 'shop', overrides: Partial<RunRecord> = {}): Promise<RunRecord> {
      const services = pipeline === 'shop' ? ['frontend', 'cartservice'] : pipeline === 'strict' ? ['api'] : ['web'];
      const runSeq = ++seq;
      const after = sha();
      const runId = `${pipeline}-${runSeq}-${after.slice(0, 7)}-${unique}`;
      runIds.add(runId);
      const record = newRun({
        runId,
        pipeline,
        repository: `acme/${pipeline}`,
        before: sha(),
        after,
        pusher: { name: 'alice', email: 'alice@example.com', username: 'alice' },
        headMessage: 'Make the <cart> & checkout faster',
        compareUrl: `https://github.com/acme/${pipeline}/compare/0000000...${after.slice(0, 7)}`,
        services,
        ...overrides,
      });
      return (await ledger.createRun(record, new Date(), {}, {})).run;
    },

    buildEvent(run: RunRecord, service: string, status: BuildFinished['status'] = 'SUCCESS'): Omit<BuildFinished, 'type' | 'version' | 'at'> {
      return {
        runId: run.runId,
        pipeline: run.pipeline,
        service,
        buildId: `build-${service}-${run.runId}`,
        status,
        sha: run.after,
        logUrl: `https://console.cloud.google.com/cloud-build/builds/${service}-${run.runId}`,
        ...(status === 'SUCCESS'
          ? { image: { service, repository: `europe-west1-docker.pkg.dev/p/boutique/${service}`, tag: run.after.slice(0, 7), digest: digest() } }
          : { detail: 'step 2 exited with 1' }),
      };
    },

    /** A build's end, as buildStatus says it: recorded in the run first, then published. */
    async publishBuild(event: Omit<BuildFinished, 'type' | 'version' | 'at'>): Promise<void> {
      await ledger.updateRun(event.runId, (current) => {
        current.builds[event.service] = { buildId: event.buildId, status: event.status, ...(event.image ? { image: { repository: event.image.repository, tag: event.image.tag, digest: event.image.digest } } : {}), ...(event.logUrl ? { logUrl: event.logUrl } : {}), ...(event.detail ? { detail: event.detail } : {}) };
        const settled = buildStageOf(current);
        if (settled) applyStageUpdate(current, 'build', settled, MANIFEST.plan);
        return true;
      });
      await emit(runtime, 'build-finished', event, { key: `build-finished:${event.service}:${event.buildId}` });
    },

    /** Waits for the in-process bus to settle; on Pub/Sub, for a quiet period after `condition`. */
    async settle(condition: () => boolean | Promise<boolean> = () => true, what = 'the chain to settle'): Promise<void> {
      await waitFor(condition, what);
      if (bus instanceof InProcessBus) await bus.idle();
      else await new Promise((resolve) => setTimeout(resolve, 1_500));
    },

    /** Posts a request to the callback the way Slack would. */
    async post(headers: Record<string, string>, rawBody: string): Promise<{ status: number; ms: number; body: string }> {
      const started = Date.now();
      const response = await fetch(`${served.url}/approvalCallback`, { method: 'POST', headers, body: rawBody });
      return { status: response.status, ms: Date.now() - started, body: await response.text() };
    },

    click(message: FakeSlackMessage, action: 'approve' | 'reject', user: SlackClicker, timestamp?: number) {
      const request = clickButton(fake, message, action, user, SECRETS.signing, timestamp);
      return this.post(request.headers, request.rawBody);
    },

    /** A click prepared now and sent later: once a decision is shown the buttons are gone, but a stale client may still send it. */
    laterClick(message: FakeSlackMessage, action: 'approve' | 'reject', user: SlackClicker) {
      const button = fake.buttons(message).find((candidate) => candidate.text.toLowerCase() === action)!;
      return () => {
        const rawBody = blockActionsBody({ user, actionId: button.action_id, value: button.value, channel: message.channel, messageTs: message.ts });
        return this.post(slackSignedHeaders(rawBody, SECRETS.signing), rawBody);
      };
    },

    /** The approval message posted for a run (the one whose buttons carry its tokens). */
    questionFor(run: RunRecord): FakeSlackMessage | undefined {
      return fake.messages.find((message) => message.text.includes(run.runId));
    },

    async requestApproval(run: RunRecord): Promise<FakeSlackMessage> {
      for (const service of run.services) await this.publishBuild(this.buildEvent(run, service));
      await this.settle(() => requested.of(run.runId).length > 0 && this.questionFor(run) !== undefined, `the approval request of ${run.runId}`);
      return this.questionFor(run)!;
    },

    async close(): Promise<void> {
      await Promise.all(subscriptions.map((subscription) => subscription.close({ remove: true }).catch(() => undefined)));
      await new Promise<void>((resolve) => served.server.close(() => resolve()));
      served.server.closeAllConnections();
      await fake.close();
      await bus.close();
      await ledger.close();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
