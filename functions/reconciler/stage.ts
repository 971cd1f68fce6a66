import { TOPICS } from '../../shared/contracts/topics.js';
import { defineStage, on } from '../../shared/stage/declaration.js';

export const reconciler = defineStage({
  name: 'reconciler',
  doc: 'walks the runs that have not ended: re-drives overdue events and lost builds, fails runs stuck past a limit',
  trigger: on.schedule('* * * * *', { embeddedEverySeconds: 5 }),
  // It re-publishes whatever a run's outbox holds, and re-announces builds on Cloud Build's topic.
  publishes: TOPICS,
  roles: { project: ['roles/cloudbuild.builds.viewer'] },
  timeoutSeconds: 300,
  load: async () => (await import('./handler.js')).reconcilerHandler,
});
