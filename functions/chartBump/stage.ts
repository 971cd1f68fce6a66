import { defineStage, on } from '../../shared/stage/declaration.js';

export const chartBump = defineStage({
  name: 'chartBump',
  doc: 'commits the approved digests to the chart repo (never backwards) and pushes the packaged chart to the OCI registry',
  ledgerStage: 'chart',
  kinds: ['app'],
  perEnvironment: {},
  trigger: on.topics('approval-decided'),
  publishes: ['chart-published'],
  roles: { repositories: { charts: 'roles/artifactregistry.writer' } },
  timeoutSeconds: 300,
  maxDeliveryAttempts: 10,
  watch: { as: 'chart', topic: 'chart-published', defaultTimeoutSeconds: 900 },
  load: async () => (await import('./handler.js')).chartBumpHandler,
});
