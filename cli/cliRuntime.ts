import { join, resolve } from 'node:path';
import { cloudRuntime } from '../shared/runtime/cloudRuntime.js';
import { embeddedRuntime } from '../shared/runtime/embeddedRuntime.js';
import type { Runtime } from '../shared/runtime/runtime.js';

/** Where the embedded runtime keeps its state: `$BATON_HOME`, default `./.baton`. */
export function batonHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BATON_HOME ?? '.baton');
}

/**
 * The runtime a CLI command works against. With the emulators, or on Google Cloud
 * (`GOOGLE_CLOUD_PROJECT` set), it is the deployed one: Pub/Sub and Firestore, as Jenkins uses
 * it. Otherwise it is the embedded one, sharing `baton dev`'s SQLite ledger under `BATON_HOME`;
 * a separate process cannot reach `baton dev`'s in-process bus, so commands that publish go
 * through `baton dev`'s HTTP endpoint (`BATON_DEV_URL`) in that case.
 */
export function cliRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  const emulated = Boolean(env.PUBSUB_EMULATOR_HOST || env.FIRESTORE_EMULATOR_HOST);
  if (emulated || env.GOOGLE_CLOUD_PROJECT) return cloudRuntime(env);
  const home = batonHome(env);
  return embeddedRuntime({ env, local: { workDir: home, registry: env.BATON_REGISTRY ?? '127.0.0.1:5000' }, ledgerFile: join(home, 'ledger.sqlite') });
}

/** Base URL of a running `baton dev`. */
export function devUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.BATON_DEV_URL ?? 'http://127.0.0.1:8080';
}
