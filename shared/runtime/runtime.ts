import type { Bus } from '../bus/bus.js';
import type { BatonConfig, Pipeline } from '../config/pipelineConfig.js';
import type { RunLedger } from '../ledger/runLedger.js';
import type { Logger } from '../log/logger.js';
import type { Builder } from './builders/builder.js';

/**
 * What a stage's adapter may ask of the runtime it runs in. Two runtimes implement it: the
 * deployed one (Cloud Functions, Pub/Sub, Firestore) and the embedded one (one process,
 * in-process bus or the emulators, SQLite or Firestore, buildah and a local registry). A stage's
 * handler factory takes what it needs from here (without the raw bus: see `StageRuntime`) and
 * passes it on to logic that takes its dependencies as arguments.
 */
export interface Runtime {
  readonly mode: 'cloud' | 'embedded';
  /** This process, for the records of work it starts (the embedded runtime is one process: another id is a dead one). */
  readonly instanceId: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** The pipeline config, loaded once. */
  config(): BatonConfig;
  bus(): Bus;
  ledger(): RunLedger;
  /**
   * The builder for a pipeline's builds: Cloud Build deployed (the pipeline's project and
   * service account), the local buildah builder embedded. Created on first use.
   */
  builder(pipeline: Pipeline): Builder;
  now(): Date;
  /**
   * A Google OAuth access token from the runtime's service account (Application Default
   * Credentials), for git remotes, Artifact Registry and Cloud Build. Undefined when the runtime
   * has none (embedded, emulators).
   */
  accessToken(): Promise<string | undefined>;
  /** Creates a per-runtime service once (SDK clients are created once per process and reused). */
  service<T>(key: string, create: () => T): T;
  /** Embedded-only: the local builder's and registry's settings. */
  readonly local?: LocalSettings;
}

export type LocalSettings = {
  /** Scratch space for git work trees and buildah storage. */
  workDir: string;
  /** `host:port` of the local OCI registry (Debian's docker-registry), plain HTTP. */
  registry: string;
};

/** Memoization shared by both runtimes. */
export function serviceCache(): <T>(key: string, create: () => T) => T {
  const services = new Map<string, unknown>();
  return <T>(key: string, create: () => T): T => {
    if (!services.has(key)) services.set(key, create());
    return services.get(key) as T;
  };
}
