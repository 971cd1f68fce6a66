import { defineStage, on } from '../../shared/stage/declaration.js';

export const buildStatus = defineStage({
  name: 'buildStatus',
  doc: "reads Cloud Build's own notifications and says build-finished, with the image digest confirmed in the registry",
  ledgerStage: 'build',
  trigger: on.topics('cloud-builds'),
  publishes: ['build-finished'],
  roles: { repositories: { images: 'roles/artifactregistry.reader' } },
  timeoutSeconds: 60,
  maxDeliveryAttempts: 10,
  watch: { as: 'build', topic: 'build-finished', defaultTimeoutSeconds: 3_600 },
  load: async () => (await import('./handler.js')).buildStatusHandler,
});
