import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../shared/config/pipelineConfig.js';
import { embeddedRuntime } from '../../shared/runtime/embeddedRuntime.js';
import type { EmbeddedOptions } from '../../shared/runtime/embeddedRuntime.js';
import type { InProcessBusOptions } from '../../shared/bus/inProcessBus.js';
import type { Runtime, LocalSettings } from '../../shared/runtime/runtime.js';
import { createLogger, setLogSink } from '../../shared/log/logger.js';

export type RuntimeKind = 'in-process' | 'emulators';
export const RUNTIME_KINDS: RuntimeKind[] = ['in-process', 'emulators'];

/** Collected log lines, so tests can assert on what was (and was not) logged. */
export const logLines: string[] = [];
setLogSink((line) => {
  logLines.push(line);
  if (process.env.BATON_TEST_LOGS) process.stderr.write(`${line}\n`);
});

export function tempDir(prefix = 'baton-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A project id no other test uses: the emulators keep projects apart, so tests never see each other's messages. */
export function uniqueProject(): string {
  return `baton-test-${randomBytes(4).toString('hex')}`;
}

export type TestRuntimeOptions = {
  env?: Record<string, string>;
  /** Another builder than the local buildah one (a Cloud Build builder with a recording client). */
  builder?: EmbeddedOptions['builder'];
  bus?: InProcessBusOptions;
  local?: Partial<LocalSettings>;
};

/**
 * A runtime for tests: in-process bus + in-memory SQLite, or the real clients against the
 * emulators under a fresh project id. The environment is built explicitly, so the emulator
 * switches set for the whole test run never leak into an in-process runtime.
 */
export function testRuntime(kind: RuntimeKind, configYaml: string, options: TestRuntimeOptions = {}): Runtime & { local: LocalSettings } {
  const workDir = options.local?.workDir ?? tempDir();
  const base: Record<string, string> = { METADATA_SERVER_DETECTION: 'none', ...options.env };
  const env =
    kind === 'emulators'
      ? {
          ...base,
          GOOGLE_CLOUD_PROJECT: uniqueProject(),
          PUBSUB_EMULATOR_HOST: required('PUBSUB_EMULATOR_HOST'),
          FIRESTORE_EMULATOR_HOST: required('FIRESTORE_EMULATOR_HOST'),
        }
      : base;
  return embeddedRuntime({
    env,
    config: parseConfig(configYaml, 'test-config.yaml'),
    local: { workDir, registry: options.local?.registry ?? process.env.BATON_REGISTRY ?? '127.0.0.1:5000' },
    ledgerFile: kind === 'in-process' ? ':memory:' : undefined,
    bus: options.bus,
    log: createLogger(),
    ...(options.builder ? { builder: options.builder } : {}),
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the jest global setup starts the emulators; run the tests with npm test`);
  return value;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
