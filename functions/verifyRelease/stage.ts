import { defineStage, on } from '../../shared/stage/declaration.js';

/** verifyRelease: see verify.ts. */
export const verifyRelease = defineStage({
  name: 'verifyRelease',
  doc: "once an environment runs the release, watches its checks in Prometheus for the environment's `for`; a failing check rolls the environment back and stops the promotion",
  ledgerStage: 'verify',
  perEnvironment: { when: (environment) => environment.verify !== undefined },
  kinds: ['app'],
  trigger: on.topics('deploy-finished'),
  publishes: ['release-verified', 'approval-decided'],
  env: ['PROMETHEUS_URL', 'SLACK_CHANNEL', 'SLACK_API_URL'],
  secrets: ['SLACK_BOT_TOKEN'],
  // Managed Prometheus's query API (the frontend Grafana uses) needs monitoring.viewer.
  roles: { project: ['roles/monitoring.viewer'] },
  // The longest `for` (MAX_VERIFY_SECONDS) fits inside one invocation, with room for the rollback.
  timeoutSeconds: 540,
  maxDeliveryAttempts: 5,
  watch: { as: 'verify', topic: 'release-verified', defaultTimeoutSeconds: 3_600 },
  load: async () => (await import('./handler.js')).verifyReleaseHandler,
});
