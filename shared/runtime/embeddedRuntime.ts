import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import { InProcessBus } from '../bus/inProcessBus.js';
import type { InProcessBusOptions } from '../bus/inProcessBus.js';
import { PubSubBus } from '../bus/pubsubBus.js';
import type { BatonConfig, Pipeline } from '../config/pipelineConfig.js';
import type { Builder } from './builders/builder.js';
import { loadConfig } from '../config/pipelineConfig.js';
import { FirestoreDocStore } from '../ledger/firestoreDocStore.js';
import { LEDGER_EXPIRY, LEDGER_INDEXES, RunLedger } from '../ledger/runLedger.js';
import { SqliteDocStore } from '../ledger/sqliteDocStore.js';
import { CLOUD_BUILD_TOPIC } from '../contracts/topics.js';
import { createLogger } from '../log/logger.js';
import { LocalBuilder } from './builders/localBuilder.js';
import type { Logger } from '../log/logger.js';
import { registerEnvSecrets } from './cloudRuntime.js';
import type { LocalSettings, Runtime } from './runtime.js';
import { serviceCache } from './runtime.js';

export type EmbeddedOptions = {
  env?: NodeJS.ProcessEnv;
  /** Config already loaded (the demo writes its own); default: read `BATON_CONFIG`. */
  config?: BatonConfig;
  /** Local builder and registry settings. */
  local: LocalSettings;
  /** SQLite file for the ledger; default `<workDir>/ledger.sqlite`. Ignored under the Firestore emulator. */
  ledgerFile?: string;
  /** In-process bus options (e.g. duplicate deliveries). Ignored under the Pub/Sub emulator. */
  bus?: InProcessBusOptions;
  log?: Logger;
  /** Namespace for Firestore collections (tests share one emulator). */
  firestoreNamespace?: string;
  /** Another builder than the local one (tests check the Cloud Build requests at its client boundary). */
  builder?: (pipeline: Pipeline) => Builder;
};

/**
 * The embedded runtime: one process. With `PUBSUB_EMULATOR_HOST` / `FIRESTORE_EMULATOR_HOST`
 * set it uses the real Pub/Sub and Firestore clients against the emulators (the deployed code
 * path); otherwise the in-process bus and SQLite.
 */
export function embeddedRuntime(options: EmbeddedOptions): Runtime & { local: LocalSettings } {
  const env = options.env ?? process.env;
  registerEnvSecrets(env);
  const service = serviceCache();
  let config = options.config;
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? 'baton-local';
  const log = options.log ?? createLogger();
  const bus = () => service<Bus>('bus', () => (env.PUBSUB_EMULATOR_HOST ? new PubSubBus({ projectId, autoCreate: true }) : new InProcessBus(options.bus)));
  return {
    mode: 'embedded',
    env,
    instanceId: randomUUID(),
    log,
    local: options.local,
    config: () => (config ??= loadConfig(env)),
    bus,
    // One buildah builder for the process; it plays Cloud Build, so it announces on Cloud Build's topic.
    builder: (pipeline) =>
      options.builder?.(pipeline) ??
      service('localBuilder', () =>
        new LocalBuilder({
          workDir: options.local.workDir,
          registry: options.local.registry,
          log: log.child({ stage: 'localBuilder' }),
          publish: async (build) => {
            await bus().publish(CLOUD_BUILD_TOPIC, Buffer.from(JSON.stringify(build)), { buildId: build.id, status: build.status });
          },
        }),
      ),
    ledger: () =>
      service('ledger', () =>
        new RunLedger(
          env.FIRESTORE_EMULATOR_HOST
            ? new FirestoreDocStore({ projectId, namespace: options.firestoreNamespace, expiry: LEDGER_EXPIRY })
            : new SqliteDocStore(options.ledgerFile ?? join(options.local.workDir, 'ledger.sqlite'), LEDGER_INDEXES, LEDGER_EXPIRY),
        ),
      ),
    now: () => new Date(),
    accessToken: async () => undefined,
    service,
  };
}
