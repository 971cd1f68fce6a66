import { defineStage, on } from '../../../shared/stage/declaration.js';

/**
 * A sample stage, as CONTRIBUTING.md's "Adding a stage" walks through: a smoke test after the
 * chart is published. Its folder holds two files (this declaration and its handler), and one
 * line registers it (the test adds it to the list of stages).
 */
export const smokeTest = defineStage({
  name: 'smokeTest',
  doc: 'runs a smoke test against the published chart',
  ledgerStage: 'smoke',
  trigger: on.topics('chart-published'),
  publishes: ['deploy-finished'],
  roles: { project: ['roles/monitoring.viewer'] },
  env: ['SLACK_CHANNEL'],
  secrets: ['ARGOCD_AUTH_TOKEN'],
  timeoutSeconds: 90,
  maxDeliveryAttempts: 7,
  watch: { as: 'smoke', topic: 'deploy-finished', defaultTimeoutSeconds: 300 },
  load: async () => (await import('./handler.js')).smokeTestHandler,
});
