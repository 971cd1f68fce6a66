import { defineStage, on } from '../../shared/stage/declaration.js';

export const buildTrigger = defineStage({
  name: 'buildTrigger',
  doc: "starts one build per affected service (or the Terraform plan) at the exact mirrored commit",
  ledgerStage: 'build',
  trigger: on.topics('source-mirrored'),
  publishes: ['build-started'],
  roles: { project: ['roles/cloudbuild.builds.editor'], actAs: ['builds', 'terraform'] },
  timeoutSeconds: 120,
  maxDeliveryAttempts: 10,
  // The builds themselves: Cloud Build's default timeout is an hour.
  stuckAfterSeconds: (pipeline) => (pipeline?.build?.timeoutSeconds ?? 3_600) + 900,
  load: async () => (await import('./handler.js')).buildTriggerHandler,
});
