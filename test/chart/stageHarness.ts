import type { Subscription } from '../../shared/bus/bus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import type { ApprovalDecided, BuiltImage, ChartPublished, DeployFinished } from '../../shared/contracts/index.js';
import type { StageRecord } from '../../shared/ledger/runLedger.js';
import { isTerminalStageStatus } from '../../shared/ledger/runLedger.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { MANIFEST } from '../../functions/stages.js';
import { eventually, testRuntime } from '../support/runtimes.js';
import type { RuntimeKind, TestRuntimeOptions } from '../support/runtimes.js';
import { emit, newRun, subscribeStages } from '../support/stages.js';
import { digestOf, uniqueName } from './fixtures.js';

/**
 * Runs one stage through the stage runner on a real bus (in-process, or the Pub/Sub emulator)
 * with a real ledger (SQLite, or the Firestore emulator), and collects what it publishes downstream.
 */
export const SHA = 'a'.repeat(40);

export type StageHarness = {
  runtime: Runtime;
  chartPublished: ChartPublished[];
  deployFinished: DeployFinished[];
  /**
   * Creates the run as intake would and says its approval decision, as approvalCallback would
   * (a rejection also ends the run there). `seq` orders the runs: a higher one was pushed later.
   */
  approve(input: { runId?: string; seq: number; images: BuiltImage[]; decision?: ApprovalDecided['decision']; pipeline?: string; duplicate?: boolean }): Promise<string>;
  /** Waits until the run's stage has ended. */
  stageEnded(runId: string, stage: string, timeoutMs?: number): Promise<StageRecord>;
  close(): Promise<void>;
};

export function image(service: string, tag: string): BuiltImage {
  return { service, repository: `registry.test/shop/${service}`, tag, digest: digestOf(`${service}:${tag}`) };
}

/** A run's order from a test's sequence number: later numbers were received later. */
export function orderOf(seq: number, runId: string): string {
  return `${new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString()}~${runId}`;
}

export async function startStage(kind: RuntimeKind, configYaml: string, name: string, options: TestRuntimeOptions = {}): Promise<StageHarness> {
  const runtime = testRuntime(kind, configYaml, options);
  const bus = runtime.bus();
  const prefix = uniqueName('sub');
  // Collected per published message: a redelivered copy (same message id) is not a second publish.
  const seen = new Set<string>();
  const chartPublished: ChartPublished[] = [];
  const deployFinished: DeployFinished[] = [];
  const subscriptions: Subscription[] = [
    ...(await subscribeStages(runtime, [name], { prefix: `${prefix}-`, minBackoffMs: 100, maxBackoffMs: 1_000 })),
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
      const kind = runtime.config().pipelines.find((p) => p.name === pipeline)?.kind ?? 'app';
      const run = newRun({ runId: id, pipeline, kind, after: SHA, pusher: { name: 'Ada' }, services: images.map((entry) => entry.service), order: orderOf(seq, id) });
      if (!(await ledger.getRun(id))) await ledger.createRun(run, new Date(), {}, {});
      if (decision !== 'approved') await ledger.recordStage(id, 'approval', { status: decision, detail: `${decision} by Ada via slack` }, MANIFEST.plan);
      const input = { runId: id, pipeline, decision, decidedBy: { id: 'U123', name: 'Ada', via: 'slack' as const }, images, sha: SHA, order: run.order };
      await emit(runtime, 'approval-decided', input);
      if (duplicate) await emit(runtime, 'approval-decided', input);
      return id;
    },
    stageEnded: (runId, stage, timeoutMs = 60_000) =>
      eventually(async () => {
        const record = (await ledger.getRun(runId))?.stages[stage];
        return record && isTerminalStageStatus(record.status) ? record : undefined;
      }, timeoutMs, `${stage} stage of ${runId} to end`),
    async close() {
      await Promise.all(subscriptions.map((subscription) => subscription.close({ remove: true }).catch(() => undefined)));
      await bus.close();
      await ledger.close();
    },
  };
}
