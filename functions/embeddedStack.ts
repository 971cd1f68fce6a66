import type { Server } from 'node:http';
import type { Subscription } from '../shared/bus/bus.js';
import type { HttpTarget, Route } from '../shared/adapters/http.js';
import { serveHttp } from '../shared/adapters/http.js';
import type { TopicTarget } from '../shared/adapters/topic.js';
import { topicHandler } from '../shared/adapters/topic.js';
import type { TopicName } from '../shared/contracts/topics.js';
import type { Runtime } from '../shared/runtime/runtime.js';
import { expireStale } from '../domain/approval/expiry.js';
import { isLoopbackHost, localApprovalRoutes } from '../domain/approval/localRoutes.js';
import { decideDepsFor } from '../domain/approval/runtimeDeps.js';
import { TARGETS } from './targets.js';

export type EmbeddedStack = {
  /** Base URL; the HTTP targets are at `/<targetName>`, e.g. `/webhookIntake`. */
  url: string;
  server: Server;
  close(): Promise<void>;
};

export type StackOptions = {
  port?: number;
  host?: string;
  /** Prefix for subscription names, so several stacks can share one Pub/Sub emulator. */
  subscriptionPrefix?: string;
  /** First redelivery delay; Pub/Sub's own minimum is 10 s, which is long for a local run. */
  minBackoffMs?: number;
  /** How often undecided approval requests are checked for expiry; 0 turns the sweep off. Default 60 s. */
  expirySweepMs?: number;
};

/**
 * Runs every target in one process: each topic target subscribes to its topic on the runtime's
 * bus (in-process, or the Pub/Sub emulator) through the same adapter the deployed functions
 * use, and the HTTP targets are served on localhost. Used by `baton dev`, `baton demo` and the
 * end-to-end tests.
 */
export async function startEmbeddedStack(runtime: Runtime, options: StackOptions = {}): Promise<EmbeddedStack> {
  const bus = runtime.bus();
  const subscriptions: Subscription[] = [];
  const routes: Route[] = [];
  const prefix = options.subscriptionPrefix ?? 'baton-';
  for (const { name, trigger } of TARGETS) {
    const module = (await import(`./${name}/index.js`)) as { target: unknown };
    if (trigger.kind === 'http') {
      routes.push({ method: 'POST', path: `/${name}`, target: module.target as HttpTarget });
    } else {
      const target = module.target as TopicTarget<TopicName>;
      subscriptions.push(
        await bus.subscribe(trigger.topic, `${prefix}${name}`, topicHandler(target, runtime, name), {
          maxDeliveryAttempts: 5,
          minBackoffMs: options.minBackoffMs ?? 200,
          maxBackoffMs: 5_000,
        }),
      );
    }
  }
  const host = options.host ?? '127.0.0.1';
  // `baton approve|reject|expire` reach the in-process bus through these; only on loopback.
  if (isLoopbackHost(host)) routes.push(...localApprovalRoutes());
  const { server, url } = await serveHttp(routes, runtime, options.port ?? 0, host);
  const sweepMs = options.expirySweepMs ?? 60_000;
  const sweep =
    sweepMs > 0
      ? setInterval(() => {
          expireStale(decideDepsFor(runtime, 'background')).catch((error: unknown) => runtime.log.warn('failed to sweep expired approvals', { error }));
        }, sweepMs)
      : undefined;
  sweep?.unref();
  return {
    url,
    server,
    async close() {
      if (sweep) clearInterval(sweep);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
    },
  };
}
