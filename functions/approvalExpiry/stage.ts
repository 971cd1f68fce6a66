import { defineStage, on } from '../../shared/stage/declaration.js';

export const approvalExpiry = defineStage({
  name: 'approvalExpiry',
  doc: 'expires approval requests left undecided past their time, finishes decisions a crash interrupted, and closes requests whose run ended first',
  ledgerStage: 'approval',
  trigger: on.schedule('* * * * *', { embeddedEverySeconds: 60 }),
  publishes: ['approval-decided'],
  env: ['SLACK_CHANNEL', 'SLACK_APPROVERS', 'SLACK_API_URL'],
  // The bot token updates the Slack message of an expired request; it checks no button tokens.
  secrets: ['SLACK_BOT_TOKEN'],
  timeoutSeconds: 120,
  load: async () => (await import('./handler.js')).approvalExpiryHandler,
});
