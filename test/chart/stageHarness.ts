import { topicHandler } from '../../shared/adapters/topic.js';
import type { TopicTarget } from '../../shared/adapters/topic.js';
import type { Subscription } from '../../shared/bus/bus.js';
import { decodeEvent, publishEvent } from '../../shared/bus/events.js';
import type { ApprovalDecided, BuiltImage, ChartPublished, DeployFinished, TopicName } from '../../shared/contracts/index.js';
import type { Stage, StageRecord } from '../../shared/ledger/runLedger.js';
import { isTerminalStageStatus } from '../../shared/ledger/runLedger.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { eventually, testRuntime } from '../support/runtimes.js';
import type { RuntimeKind, TestRuntimeOptions } from '../support/runtimes.js';
import { digestOf, uniqueName } from './fixtures.js';

/**
 * Runs one stage's real target on a real bus (in-process, or the Pub/Sub emulator) with a real
 * ledger (SQLite, or the Firestore emulator), and collects what it publishes downstream.
 */
export const SHA = 'a'.repeat(40);

export type StageHarness = {
  runtime: Runtime;
  chartPublished: ChartPublished[];
  deployFinished: DeployFinished[];
  /** Creates the run as intake would and publishes its approval decision. */
  approve(input: { runId?: string; seq: number; images: BuiltImage[]; decision?: ApprovalDecided['decision']; pipeline?: string; duplicate?: boolean }): Promise<string>;
  /** Waits until the run's stage has ended. */
  stageEnded(runId: string, stage: Stage, timeoutMs?: number): Promise<StageRecord>;
  close(): Promise<void>;
};

export function image(service: string, tag: string): BuiltImage {
  return { service, repository: `registry.test/shop/${service}`, tag, digest: digestOf(`${service}:${tag}`) };
}

export async function startStage<T extends TopicName>(kind: RuntimeKind, configYaml: string, target: TopicTarget<T>, name: string, options: TestRuntimeOptions = {}): Promise<StageHarness> {
  const runtime = testRuntime(kind, configYaml, options);
  const bus = runtime.bus();
  const prefix = uniqueName('sub');
  // Collected per published message: a redelivered copy (same message id) is not a second publish.
  const seen = new Set<string>();
  const chartPublished: ChartPublished[] = [];
  const deployFinished: DeployFinished[] = [];
  // Deliveries of the stage under test still running: close() waits for them, so a late
  // duplicate never meets a closed ledger.
  let inFlight = 0;
  const handler = topicHandler(target, runtime, name);
  const subscriptions: Subscription[] = [
    await bus.subscribe(
      target.topic,
      `${prefix}-${name}`,
      async (message) => {
        inFlight++;
        try {
          await handler(message);
        } finally {
          inFlight--;
        }
      },
      { minBackoffMs: 100, maxBackoffMs: 1_000, maxDeliveryAttempts: 5 },
    ),
    await bus.subscribe('chart-published', `${prefix}-collect-chart`, async (message) => {
      const decoded = decodeEvent('chart-published', message.data);
      if (decoded.ok && !seen.has(message.id)) chartPublished.push(decoded.event);
      seen.add(message.id);
    }),
    await bus.subscribe('deploy-finished', `${prefix}-collect-deploy`, async (message) => {
      const decoded = decodeEvent('deploy-finished', message.data);
      if (decoded.ok && !seen.has(message.id)) deployFinished.push(decoded.event);
      seen.add(message.id);
    }),
  ];
  const ledger = runtime.ledger();
  return {
    runtime,
    chartPublished,
    deployFinished,
    async approve({ runId, seq, images, decision = 'approved', pipeline = 'shop', duplicate = false }) {
      const id = runId ?? `${pipeline}-${seq}-${uniqueName('r')}`;
      await ledger.createRun({
        runId: id,
        pipeline,
        kind: 'app',
        seq,
        provider: 'github',
        deliveryId: `delivery-${id}`,
        repository: 'acme/shop',
        ref: 'refs/heads/main',
        branch: 'main',
        before: '0'.repeat(40),
        after: SHA,
        pusher: { name: 'Ada' },
        services: images.map((entry) => entry.service),
      }).catch(() => undefined);
      const input = { runId: id, pipeline, decision, decidedBy: { id: 'U123', name: 'Ada', via: 'slack' as const }, images, sha: SHA, seq };
      await publishEvent(bus, 'approval-decided', input);
      if (duplicate) await publishEvent(bus, 'approval-decided', input);
      return id;
    },
    stageEnded: (runId, stage, timeoutMs = 60_000) =>
      eventually(async () => {
        const record = (await ledger.getRun(runId))?.stages[stage];
        return record && isTerminalStageStatus(record.status) ? record : undefined;
      }, timeoutMs, `${stage} stage of ${runId} to end`),
    async close() {
      await Promise.all(subscriptions.map((subscription) => subscription.close({ remove: true }).catch(() => undefined)));
      await eventually(() => (inFlight === 0 ? true : undefined), 60_000, `${name} deliveries to finish`);
      await bus.close();
      await ledger.close();
    },
  };
}
