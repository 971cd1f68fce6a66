import { defineStage, on } from '../../shared/stage/declaration.js';

export const approvalRequest = defineStage({
  name: 'approvalRequest',
  doc: 'once every build of a run has succeeded, posts one Slack approval message with signed, expiring buttons',
  ledgerStage: 'approval',
  trigger: on.topics('build-finished'),
  publishes: ['approval-requested'],
  env: ['SLACK_CHANNEL', 'SLACK_APPROVERS', 'SLACK_API_URL'],
  secrets: ['SLACK_BOT_TOKEN', 'BATON_APPROVAL_SECRET'],
  timeoutSeconds: 60,
  maxDeliveryAttempts: 10,
  // A failed build has ended the run already; its one Slack message is still this stage's to post.
  afterRunEnds: true,
  load: async () => (await import('./handler.js')).approvalRequestHandler,
});
