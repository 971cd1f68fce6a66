import { randomUUID } from 'node:crypto';
import { PubSubBus } from '../bus/pubsubBus.js';
import { loadConfig } from '../config/pipelineConfig.js';
import type { BatonConfig } from '../config/pipelineConfig.js';
import { FirestoreDocStore } from '../ledger/firestoreDocStore.js';
import { LEDGER_EXPIRY, RunLedger } from '../ledger/runLedger.js';
import type { Builder } from './builders/builder.js';
import { cloudBuilders } from './builders/cloudBuilders.js';
import { createLogger } from '../log/logger.js';
import { registerSecrets } from '../log/redact.js';
import { ENV_VARS, withoutUnsetSecrets } from '../config/envVars.js';
import type { Runtime } from './runtime.js';
import { serviceCache } from './runtime.js';

/** Every secret the environment holds is masked in logs from the start. */
export function registerEnvSecrets(env: NodeJS.ProcessEnv): void {
  registerSecrets(...ENV_VARS.filter((spec) => spec.secret).map((spec) => env[spec.name]));
}

/**
 * The deployed runtime: Pub/Sub, Firestore and the service account's credentials. Everything
 * is created on first use, so each function target loads only the SDKs it touches. A secret
 * Terraform left at its unset value (`unused_secrets`) is not in its `env`.
 */
export function cloudRuntime(processEnv: NodeJS.ProcessEnv = process.env): Runtime {
  const env = withoutUnsetSecrets(processEnv);
  registerEnvSecrets(env);
  const service = serviceCache();
  const emulated = Boolean(env.PUBSUB_EMULATOR_HOST || env.FIRESTORE_EMULATOR_HOST);
  // The emulators accept any project id; the clients still need one.
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? (emulated ? 'baton-local' : undefined);
  let config: BatonConfig | undefined;
  const getConfig = () => (config ??= loadConfig(env));
  return {
    mode: 'cloud',
    env,
    instanceId: randomUUID(),
    log: createLogger(),
    config: getConfig,
    builder: (pipeline) => service<(p: typeof pipeline) => Builder>('builders', () => cloudBuilders(getConfig, env))(pipeline),
    bus: () => service('bus', () => new PubSubBus({ projectId })),
    ledger: () => service('ledger', () => new RunLedger(new FirestoreDocStore({ projectId, expiry: LEDGER_EXPIRY }))),
    now: () => new Date(),
    accessToken: () =>
      service('accessToken', () => {
        // Off Google Cloud (emulators) there is no metadata server: no token, and no probe.
        if (emulated) return () => Promise.resolve(undefined);
        const auth = import('google-auth-library').then(
          ({ GoogleAuth }) => new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }),
        );
        return async () => (await (await auth).getAccessToken()) ?? undefined;
      })(),
    service,
  };
}

let processRuntime: Runtime | undefined;
/** One runtime per function instance, created on the first request. */
export function defaultCloudRuntime(): Runtime {
  return (processRuntime ??= cloudRuntime());
}
