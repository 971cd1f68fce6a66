import { defineStage, on } from '../../shared/stage/declaration.js';

export const repoMirror = defineStage({
  name: 'repoMirror',
  doc: 'mirrors the pushed commit to the backup remote and works out the affected services',
  ledgerStage: 'mirror',
  trigger: on.topics('push-received'),
  publishes: ['source-mirrored'],
  timeoutSeconds: 300,
  maxDeliveryAttempts: 10,
  watch: { as: 'mirror', topic: 'source-mirrored', defaultTimeoutSeconds: 900 },
  load: async () => (await import('./handler.js')).repoMirrorHandler,
});
