import { defineStage, on } from '../../shared/stage/declaration.js';

export const approvalExpiry = defineStage({
  name: 'approvalExpiry',
  doc: 'expires approval requests left undecided past their time, and finishes decisions a crash interrupted',
  ledgerStage: 'approval',
  trigger: on.schedule('* * * * *', { embeddedEverySeconds: 60 }),
  publishes: ['approval-decided'],
  env: ['SLACK_CHANNEL', 'SLACK_APPROVERS', 'SLACK_API_URL'],
  secrets: ['SLACK_BOT_TOKEN', 'BATON_APPROVAL_SECRET'],
  timeoutSeconds: 120,
  load: async () => (await import('./handler.js')).approvalExpiryHandler,
});
