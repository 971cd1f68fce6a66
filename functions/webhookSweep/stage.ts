import { defineStage, on } from '../../shared/stage/declaration.js';

export const webhookSweep = defineStage({
  name: 'webhookSweep',
  doc: "asks GitHub (and GitLab 17.4+) to redeliver each push webhook that failed, once: neither redelivers by itself",
  trigger: on.schedule('*/5 * * * *', { embeddedEverySeconds: 60 }),
  publishes: [],
  // The hooks APIs take the same credentials as gitStatus: a GitHub App or GITHUB_TOKEN, and GITLAB_TOKEN.
  env: ['GITHUB_API_URL', 'GITLAB_API_URL', 'GITHUB_APP_ID', 'GITHUB_APP_INSTALLATION_ID'],
  secrets: ['GITHUB_TOKEN', 'GITHUB_APP_PRIVATE_KEY', 'GITLAB_TOKEN'],
  timeoutSeconds: 120,
  load: async () => (await import('./handler.js')).webhookSweepHandler,
});
