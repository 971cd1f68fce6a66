import { defineStage, on } from '../../shared/stage/declaration.js';

export const terraformApply = defineStage({
  name: 'terraformApply',
  doc: "a Terraform run's deploy: applies exactly the approved saved plan on Cloud Build, and reports the apply's end",
  ledgerStage: 'deploy',
  kinds: ['terraform'],
  trigger: on.topics('approval-decided', 'cloud-builds'),
  publishes: ['deploy-finished'],
  roles: { project: ['roles/cloudbuild.builds.editor'], actAs: ['terraform'] },
  timeoutSeconds: 120,
  maxDeliveryAttempts: 10,
  stuckAfterSeconds: (pipeline) => (pipeline?.build?.timeoutSeconds ?? 3_600) + 900,
  load: async () => (await import('./handler.js')).terraformApplyHandler,
});
