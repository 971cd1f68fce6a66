import { defineStage, on } from '../../shared/stage/declaration.js';

export const webhookIntake = defineStage({
  name: 'webhookIntake',
  doc: 'verifies GitHub and GitLab push webhooks over the raw body and starts a run',
  ledgerStage: 'intake',
  trigger: on.http({ public: true }),
  publishes: ['push-received'],
  secrets: ['GITHUB_WEBHOOK_SECRET', 'GITLAB_WEBHOOK_TOKEN'],
  timeoutSeconds: 60,
  watch: { as: 'intake', topic: 'push-received', defaultTimeoutSeconds: 120 },
  load: async () => (await import('./handler.js')).webhookIntakeHandler,
});
