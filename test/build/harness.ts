import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Subscription } from '../../shared/bus/bus.js';
import { InProcessBus } from '../../shared/bus/inProcessBus.js';
import { LocalBuilder } from '../../shared/runtime/builders/localBuilder.js';
import { decodeEvent } from '../../shared/bus/events.js';
import type { EventInput, EventOf, TopicName } from '../../shared/contracts/index.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { tempDir, testRuntime } from '../support/runtimes.js';
import type { RuntimeKind } from '../support/runtimes.js';
import { emit, newRun, subscribeStages } from '../support/stages.js';
import { bareRepo, git, workRepo } from '../mirror/gitFixtures.js';
import type { WorkRepo } from '../mirror/gitFixtures.js';

/**
 * A real middle of the chain for tests: source and mirror bare repositories, a work clone with
 * two `FROM scratch` services, a runtime (in-process + SQLite, or the emulators), the three
 * targets of this issue subscribed through the same adapter the deployed functions use, and a
 * recorder for what they publish.
 */
export const REGISTRY = process.env.BATON_REGISTRY ?? '127.0.0.1:5000';

export type Harness = {
  runtime: Runtime;
  root: string;
  source: string;
  mirror: string;
  work: WorkRepo;
  /** Unique image repository root in the local registry. */
  imageRoot: string;
  seen: Recorder;
  /** Publishes a push-received for `after` (creating the run first, as intake does). */
  push(fields: Partial<EventInput<'push-received'>> & { after: string; before: string }): Promise<string>;
  /** Waits until the in-process bus is idle (no-op on Pub/Sub). */
  settle(): Promise<void>;
  close(): Promise<void>;
};

export type Recorder = { of<T extends TopicName>(topic: T, runId?: string): Array<EventOf<T>> };

export type HarnessOptions = {
  kind: RuntimeKind;
  /** Extra YAML under the pipeline (indented by four spaces). */
  pipelineExtra?: string;
  /** Skip the mirror.url key (to test the missing-config path). */
  noMirrorUrl?: boolean;
  duplicateDeliveries?: number;
  /** Which targets to subscribe (default all three). */
  targets?: Array<'repoMirror' | 'buildTrigger' | 'buildStatus' | 'terraformApply'>;
};

const RECORDED: TopicName[] = ['source-mirrored', 'build-started', 'build-finished', 'deploy-finished'];

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const root = tempDir('baton-build-');
  const source = bareRepo(join(root, 'source.git'));
  const mirror = bareRepo(join(root, 'mirror.git'));
  const work = workRepo(source, join(root, 'work'));
  const imageRoot = `${REGISTRY}/baton-test-${randomBytes(4).toString('hex')}`;
  const yaml = `
pipelines:
  - name: shop
    repository: acme/shop
    branches: ["main", "feature/*"]
    source:
      url: ${source}
${options.noMirrorUrl ? '' : `    mirror:\n      url: ${mirror}\n`}    build:
      imageRepository: ${imageRoot}
    services:
      - name: frontend
        path: src/frontend/
      - name: cart
        path: src/cart/
${options.pipelineExtra ?? ''}`;
  const runtime = testRuntime(options.kind, yaml, {
    local: { workDir: join(root, 'work-dir'), registry: REGISTRY },
    ...(options.duplicateDeliveries ? { bus: { duplicateDeliveries: options.duplicateDeliveries } } : {}),
  });
  const bus = runtime.bus();
  const prefix = `t-${randomBytes(4).toString('hex')}-`;
  const subscriptions: Subscription[] = [];
  const recorded: Array<{ topic: TopicName; event: unknown }> = [];
  // The recorder sees each publish once: the bus's own duplicate deliveries share a message id.
  const seenIds = new Set<string>();
  for (const topic of RECORDED) {
    subscriptions.push(
      await bus.subscribe(topic, `${prefix}record-${topic}`, async (message) => {
        if (seenIds.has(message.id)) return;
        seenIds.add(message.id);
        const decoded = decodeEvent(topic, message.data);
        if (decoded.ok) recorded.push({ topic, event: decoded.event });
      }),
    );
  }
  subscriptions.push(...(await subscribeStages(runtime, options.targets ?? ['repoMirror', 'buildTrigger', 'buildStatus'], { prefix })));
  let seq = 0;
  return {
    runtime,
    root,
    source,
    mirror,
    work,
    imageRoot,
    seen: {
      of: (topic, runId) => recorded.filter((entry) => entry.topic === topic && (!runId || (entry.event as { runId: string }).runId === runId)).map((entry) => entry.event as never),
    },
    async push(fields) {
      seq++;
      const runId = `shop-${seq}-${fields.after.slice(0, 7)}-${randomBytes(2).toString('hex')}`;
      const run = newRun({ runId, before: fields.before, after: fields.after, services: fields.servicesResolved ? (fields.services ?? []) : [] }, new Date(Date.UTC(2026, 0, 1, 0, 0, seq)));
      await emit(
        runtime,
        'push-received',
        {
          runId,
          pipeline: 'shop',
          kind: 'app' as const,
          provider: 'github' as const,
          deliveryId: run.deliveryId,
          repository: 'acme/shop',
          cloneUrl: source,
          ref: 'refs/heads/main',
          branch: 'main',
          forced: false,
          created: false,
          pusher: { name: 'Dev' },
          commits: [],
          changedPaths: [],
          services: [],
          servicesResolved: false,
          unresolvedReason: 'truncated' as const,
          order: run.order,
          ...fields,
        },
        { run },
      );
      return runId;
    },
    settle: async () => {
      if (bus instanceof InProcessBus) await bus.idle();
    },
    async close() {
      // A build still announcing its states publishes on the bus: let it finish before the bus
      // closes (a publish after close would open a new client that outlives the test).
      const builder = runtime.builder(runtime.config().pipelines[0]!);
      if (builder instanceof LocalBuilder) await Promise.race([builder.idle(), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      await Promise.all(subscriptions.map((subscription) => subscription.close({ remove: true })));
      await bus.close();
      await runtime.ledger().close();
    },
  };
}

/** Commits two services with `FROM scratch` Dockerfiles and seeds the mirror with that commit. */
export function seedServices(h: Harness): string {
  h.work.commit({
    'src/frontend/Dockerfile': 'FROM scratch\nCOPY index.html /srv/index.html\n',
    'src/frontend/index.html': '<h1>shop</h1>\n',
    'src/cart/Dockerfile': 'FROM scratch\nCOPY cart.txt /cart.txt\n',
    'src/cart/cart.txt': 'cart v1\n',
    'README.md': 'shop\n',
  });
  h.work.push('main');
  git(h.work.dir, 'push', '--quiet', h.mirror, 'main');
  return h.work.head();
}
