import { spawn } from 'node:child_process';
import { PubSub } from '@google-cloud/pubsub';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PubSubBus } from '../../shared/bus/pubsubBus.js';
import { makeEvent } from '../../shared/contracts/index.js';
import { publishOutboxEntry } from '../../shared/stage/publisher.js';
import type { BatonTopic, EventInput } from '../../shared/contracts/index.js';
import { FirestoreDocStore } from '../../shared/ledger/firestoreDocStore.js';
import { RunLedger } from '../../shared/ledger/runLedger.js';
import type { NewRun } from '../../shared/ledger/runLedger.js';
import { eventually, uniqueProject } from '../support/runtimes.js';

/**
 * Runs `baton` as Jenkins does, as a child process against the emulators, while the test plays
 * the chain: it publishes real contract events and writes the run ledger the way the stages do.
 * Each harness has its own project id, so its topics, subscriptions and ledger are its own.
 */
const batonBin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'baton.js');

export const SHA = 'a'.repeat(40);
const ORDER = (runId: string) => `2026-01-01T00:00:00.000Z~${runId}`;
export const BEFORE = 'b'.repeat(40);
export const digest = (char: string) => `sha256:${char.repeat(64)}`;
export const image = (service: string) => ({ service, repository: `registry.test/shop/${service}`, tag: SHA.slice(0, 7), digest: digest('c') });

export type BatonExit = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type BatonProcess = {
  /** Resolves once `await` has its subscription (it says so on stderr). */
  ready: Promise<string>;
  done: Promise<BatonExit>;
  kill(signal: NodeJS.Signals): void;
  output(): { stdout: string; stderr: string };
};

export class ChainHarness {
  readonly project = uniqueProject();
  readonly bus = new PubSubBus({ projectId: this.project, autoCreate: true });
  readonly ledger = new RunLedger(new FirestoreDocStore({ projectId: this.project }));
  readonly env: NodeJS.ProcessEnv = {
    ...process.env,
    PUBSUB_EMULATOR_HOST: required('PUBSUB_EMULATOR_HOST'),
    FIRESTORE_EMULATOR_HOST: required('FIRESTORE_EMULATOR_HOST'),
    GOOGLE_CLOUD_PROJECT: this.project,
    METADATA_SERVER_DETECTION: 'none',
  };

  /** Starts `baton <args>`; for `await`, `ready` resolves with the subscription name once it exists. */
  baton(args: string[]): BatonProcess {
    const child = spawn(process.execPath, ['--no-warnings', batonBin, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let onReady: (name: string) => void;
    const ready = new Promise<string>((resolve) => (onReady = resolve));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const match = /on subscription (\S+)/.exec(stderr) ?? /in the run ledger/.exec(stderr);
      if (match) onReady(match[1] ?? '');
    });
    const done = new Promise<BatonExit>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    // A process that exits before it is ready (usage error, early end) must not hang `ready`.
    void done.then(() => onReady(''));
    return { ready, done, kill: (signal) => child.kill(signal), output: () => ({ stdout, stderr }) };
  }

  /** `baton await <runId> --stage …`, returning once its subscription exists. */
  async startAwait(runId: string, stage: string, extra: string[] = []): Promise<BatonProcess> {
    const process = this.baton(['await', runId, '--stage', stage, '--poll', '0.3', '--timeout', '120', ...extra]);
    await process.ready;
    return process;
  }

  /** Publishes an event as a stage would put it on the bus. */
  async publish<T extends BatonTopic>(topic: T, input: EventInput<T>) {
    const event = makeEvent(topic, input);
    await publishOutboxEntry(this.bus, topic, { topic, event });
    return event;
  }

  /** Publishes data as is, valid or not (for the cases that must be ignored). */
  publishRaw(topic: string, data: Record<string, unknown>, runId = String(data.runId)) {
    return this.bus.publish(topic, Buffer.from(JSON.stringify({ type: topic, at: new Date().toISOString(), ...data })), { type: topic, run_id: runId });
  }

  /** A run as intake records it. */
  async createRun(runId: string, services: string[]): Promise<void> {
    const run: NewRun = {
      runId,
      pipeline: 'shop',
      kind: 'app',
      order: ORDER(runId),
      provider: 'github',
      deliveryId: `delivery-${runId}`,
      repository: 'acme/shop',
      ref: 'refs/heads/main',
      branch: 'main',
      before: BEFORE,
      after: SHA,
      pusher: { name: 'Ada', username: 'ada' },
      headMessage: 'change the frontend',
      services,
    };
    await this.ledger.createRun(run, new Date(), {}, {});
  }

  private admin?: Promise<PubSub>;

  /**
   * Names of the `baton-await-…` subscriptions that exist in this harness's project. The listing
   * must also show a sentinel subscription, so an empty or failed listing can never pass for
   * "deleted".
   */
  async awaitSubscriptions(): Promise<string[]> {
    this.admin ??= (async () => {
      const pubsub = new PubSub({ projectId: this.project });
      const [topic] = await pubsub.createTopic('sentinel-topic');
      await topic.createSubscription('sentinel-subscription');
      return pubsub;
    })();
    const [subscriptions] = await (await this.admin).getSubscriptions();
    const names = subscriptions.map((subscription) => subscription.name.split('/').pop()!);
    if (!names.includes('sentinel-subscription')) throw new Error(`the subscription listing is incomplete: ${JSON.stringify(names)}`);
    return names.filter((name) => name.startsWith('baton-await-'));
  }

  /** Waits until no `baton-await-…` subscription is left (deletion happens just before exit). */
  async expectNoAwaitSubscriptions(): Promise<void> {
    await eventually(async () => ((await this.awaitSubscriptions()).length === 0 ? true : undefined), 10_000, 'the await subscriptions to be deleted');
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.bus.close(), this.ledger.close(), this.admin?.then((pubsub) => pubsub.close())]);
  }
}

/** Fields of each stage's event for one run, as the stage would publish them. */
export const events = {
  pushReceived: (runId: string, services: string[]): EventInput<'push-received'> => ({
    runId,
    pipeline: 'shop',
    kind: 'app',
    provider: 'github',
    deliveryId: `delivery-${runId}`,
    repository: 'acme/shop',
    cloneUrl: 'https://git.test/acme/shop.git',
    ref: 'refs/heads/main',
    branch: 'main',
    before: BEFORE,
    after: SHA,
    forced: false,
    created: false,
    pusher: { name: 'Ada', username: 'ada' },
    commits: [],
    changedPaths: services.map((service) => `src/${service}/main.go`),
    services,
    servicesResolved: true,
    order: ORDER(runId),
  }),
  sourceMirrored: (runId: string, services: string[]): EventInput<'source-mirrored'> => ({
    runId,
    pipeline: 'shop',
    kind: 'app',
    repository: 'acme/shop',
    ref: 'refs/heads/main',
    sha: SHA,
    before: BEFORE,
    mirrorUrl: 'https://mirror.test/acme/shop.git',
    services,
    order: ORDER(runId),
  }),
  buildFinished: (runId: string, service: string, status: 'SUCCESS' | 'FAILURE'): EventInput<'build-finished'> => ({
    runId,
    pipeline: 'shop',
    service,
    buildId: `build-${service}`,
    status,
    sha: SHA,
    ...(status === 'SUCCESS' ? { image: image(service) } : { detail: 'step 2 exited 1' }),
    logUrl: `https://console.test/builds/build-${service}`,
  }),
  approvalDecided: (runId: string, decision: 'approved' | 'rejected' | 'expired', services: string[]): EventInput<'approval-decided'> => ({
    runId,
    pipeline: 'shop',
    decision,
    decidedBy: { id: 'U123', name: 'Grace', via: 'slack' },
    images: services.map(image),
    sha: SHA,
    order: ORDER(runId),
  }),
  chartPublished: (runId: string, services: string[]): EventInput<'chart-published'> => ({
    runId,
    pipeline: 'shop',
    chart: 'online-boutique',
    chartVersion: '0.1.1',
    ociRef: 'oci://registry.test/charts/online-boutique:0.1.1',
    manifestDigest: digest('d'),
    chartCommit: 'e'.repeat(40),
    images: services.map(image),
  }),
  deployFinished: (runId: string, status: 'synced' | 'degraded' | 'timeout' | 'failed' | 'skipped'): EventInput<'deploy-finished'> => ({
    runId,
    pipeline: 'shop',
    status,
    application: 'boutique',
    revision: '0.1.1',
    ...(status === 'synced' ? {} : { reason: `argo says ${status}` }),
  }),
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the jest global setup starts the emulators; run the tests with npm test`);
  return value;
}

/** Lets a few ledger polls and message deliveries happen. */
export const settle = (ms = 1_500) => new Promise((resolve) => setTimeout(resolve, ms));
