import type { Server } from 'node:http';
import type { MessageHandler, Subscription } from '../shared/bus/bus.js';
import type { Route } from '../shared/adapters/http.js';
import { serveHttp } from '../shared/adapters/http.js';
import type { Runtime } from '../shared/runtime/runtime.js';
import type { AnyStage } from '../shared/stage/declaration.js';
import { isHttpStage, isScheduledStage, isTopicStage } from '../shared/stage/declaration.js';
import type { Manifest } from '../shared/stage/manifest.js';
import { httpStageTarget, scheduledStageTick, stageRuntime, topicStageHandler } from '../shared/stage/runner.js';
import { isLoopbackHost, localApprovalRoutes } from '../domain/approval/localRoutes.js';
import type { LocalRetryBody } from '../domain/approval/localRoutes.js';
import { decide } from '../domain/approval/decide.js';
import { expireStale } from '../domain/approval/expiry.js';
import { decideDepsFor } from '../domain/approval/runtimeDeps.js';
import { operationDepsFor, runEnvironmentOperation } from '../domain/environments/operations.js';
import { approvalCallback } from './approvalCallback/stage.js';
import { webhookIntake } from './webhookIntake/stage.js';
import { runStartDeps } from './webhookIntake/handler.js';
import { retryRun } from './webhookIntake/retry.js';
import { MANIFEST } from './stages.js';

export type EmbeddedStack = {
  /** Base URL; the HTTP targets are at `/<targetName>`, e.g. `/webhookIntake`. */
  url: string;
  server: Server;
  /** Runs every scheduled stage once now (tests; `baton dev` at start-up). */
  tick(): Promise<Record<string, Record<string, unknown>>>;
  close(): Promise<void>;
};

export type StackOptions = {
  port?: number;
  host?: string;
  /** Prefix for subscription names, so several stacks can share one Pub/Sub emulator. */
  subscriptionPrefix?: string;
  /** First redelivery delay; Pub/Sub's own minimum is 10 s, which is long for a local run. */
  minBackoffMs?: number;
  /** Scheduled stages' timers; `false` turns them off (tests drive `tick()` themselves). Default on. */
  schedules?: boolean;
  /** The stages to run; default every stage of `functions/stages.ts` (a test can add a sample stage). */
  manifest?: Manifest;
};

/**
 * Runs every stage of the manifest in one process: each topic stage subscribes to its topics on
 * the runtime's bus (in-process, or the Pub/Sub emulator) through the same stage runner the
 * deployed functions use, the HTTP stages are served on localhost, and the scheduled stages run
 * on timers, and once at start-up, so a restarted stack re-drives what the last one left in
 * flight. Used by `baton dev`, `baton demo` and the end-to-end tests.
 */
export async function startEmbeddedStack(runtime: Runtime, options: StackOptions = {}): Promise<EmbeddedStack> {
  const manifest = options.manifest ?? MANIFEST;
  const bus = runtime.bus();
  const subscriptions: Subscription[] = [];
  const routes: Route[] = [];
  const prefix = options.subscriptionPrefix ?? 'baton-';
  const stages = manifest.stages as readonly AnyStage[];
  // Deliveries being handled: close() lets them finish, so none meets a closed ledger.
  let inFlight = 0;
  const counted = (handler: MessageHandler): MessageHandler => async (message) => {
    inFlight++;
    try {
      await handler(message);
    } finally {
      inFlight--;
    }
  };
  for (const stage of stages) {
    if (isTopicStage(stage)) {
      for (const topic of stage.trigger.topics) {
        // One subscription per stage and topic, as Eventarc creates one per trigger.
        const name = stage.trigger.topics.length === 1 ? `${prefix}${stage.name}` : `${prefix}${stage.name}-${topic}`;
        subscriptions.push(
          await bus.subscribe(topic, name, counted(topicStageHandler(stage, topic, runtime, manifest)), {
            maxDeliveryAttempts: stage.maxDeliveryAttempts,
            minBackoffMs: options.minBackoffMs ?? 200,
            maxBackoffMs: 5_000,
            // The start-up reconciler pass (below) re-drives what the old subscription still held.
            fresh: true,
          }),
        );
      }
    } else if (isHttpStage(stage)) {
      routes.push({ method: 'POST', path: `/${stage.name}`, target: httpStageTarget(stage, runtime, manifest) });
    }
  }
  const scheduled = stages.filter(isScheduledStage).map((stage) => ({ stage, tick: scheduledStageTick(stage, runtime, manifest) }));
  const host = options.host ?? '127.0.0.1';
  // `baton approve|reject|expire|retry` and the environment commands reach the in-process bus through these; only on loopback.
  if (isLoopbackHost(host) && manifest.find(approvalCallback.name)) {
    const decideRuntime = stageRuntime<'approval-decided' | 'promotion-requested'>(runtime, approvalCallback, manifest);
    const decideNow = (body: Parameters<typeof decide>[0]) => decide(body, decideDepsFor(decideRuntime, 'background'));
    const intake = manifest.find(webhookIntake.name) ? stageRuntime<'push-received'>(runtime, webhookIntake, manifest) : undefined;
    routes.push(
      ...localApprovalRoutes({
        decide: decideNow,
        expire: () => expireStale(decideDepsFor(decideRuntime, 'background')),
        environment: (operation) => runEnvironmentOperation(operation, operationDepsFor(decideRuntime, decideNow)),
        ...(intake ? { retry: (request: LocalRetryBody) => retryRun(request, runStartDeps(intake)) } : {}),
      }),
    );
  }
  const { server, url } = await serveHttp(routes, runtime, options.port ?? 0, host);

  const runTick = async (startup: boolean) => {
    const results: Record<string, Record<string, unknown>> = {};
    for (const { stage, tick } of scheduled) {
      try {
        results[stage.name] = await tick({ now: runtime.now(), startup });
      } catch (error) {
        runtime.log.warn('a scheduled stage failed; its next tick retries', { stage: stage.name, error });
      }
    }
    return results;
  };
  const timers: NodeJS.Timeout[] = [];
  if (options.schedules !== false) {
    // Start-up first: re-drive at once what a previous process of this stack left in flight.
    void runTick(true);
    for (const { stage, tick } of scheduled) {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        tick({ now: runtime.now(), startup: false })
          .catch((error: unknown) => runtime.log.warn('a scheduled stage failed; its next tick retries', { stage: stage.name, error }))
          .finally(() => (running = false));
      }, stage.trigger.embeddedEverySeconds * 1000);
      timer.unref();
      timers.push(timer);
    }
  }
  return {
    url,
    server,
    tick: () => runTick(false),
    async close() {
      for (const timer of timers) clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
      for (const deadline = Date.now() + 30_000; inFlight > 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}
