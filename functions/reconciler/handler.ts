import { CLOUD_BUILD_TOPIC, TOPICS } from '../../shared/contracts/topics.js';
import type { ScheduledHandler, StageRuntime } from '../../shared/stage/declaration.js';
import { reconcile } from './reconcile.js';

type AllTopics = (typeof TOPICS)[number];

/**
 * The reconciler's tick. Deployed, Cloud Scheduler runs it every minute; the embedded stack runs
 * it at start-up (re-driving at once whatever the previous process left in flight) and every few
 * seconds after.
 */
export function reconcilerHandler(runtime: StageRuntime<AllTopics>): ScheduledHandler {
    const startedAt = runtime.now();
    return (tick) =>
      reconcile(
        {
          ledger: runtime.ledger(),
          manifest: runtime.manifest,
          config: runtime.config(),
          builderFor: (pipeline) => runtime.builder(pipeline),
          republish: (key, entry) => runtime.publisher.republish(key, entry),
          announceBuild: (build) => runtime.publisher.raw(CLOUD_BUILD_TOPIC, Buffer.from(JSON.stringify(build)), { buildId: build.id, status: build.status }),
          now: () => runtime.now(),
          log: runtime.log,
        },
        // One process in the embedded runtime: what started before it was left by a dead one.
        runtime.mode === 'embedded' && tick.startup ? { restartedAt: startedAt } : {},
      );
}
