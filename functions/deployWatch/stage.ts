import { defineStage, on } from '../../shared/stage/declaration.js';

export const deployWatch = defineStage({
  name: 'deployWatch',
  doc: 'asks Argo CD to refresh now and watches the Application until it is Synced and Healthy at the published chart',
  ledgerStage: 'deploy',
  kinds: ['app'],
  perEnvironment: {},
  trigger: on.topics('chart-published'),
  publishes: ['deploy-finished'],
  secrets: ['ARGOCD_AUTH_TOKEN'],
  // It waits for Argo CD (300 s by default, `deploy.argocd.timeoutSeconds`), from inside the VPC.
  timeoutSeconds: 540,
  network: 'vpc',
  maxDeliveryAttempts: 10,
  watch: { as: 'deploy', topic: 'deploy-finished', defaultTimeoutSeconds: 1_800 },
  load: async () => (await import('./handler.js')).deployWatchHandler,
});
