import { defineStage, on } from '../../shared/stage/declaration.js';

export const approvalCallback = defineStage({
  name: 'approvalCallback',
  doc: "Slack's interactive callback: verifies the v0 signature and records the first decision of an approver",
  ledgerStage: 'approval',
  trigger: on.http({ public: true }),
  // `promotion-requested`: people's environment commands (baton promote|release) are this stage's too.
  publishes: ['approval-decided', 'promotion-requested'],
  env: ['SLACK_CHANNEL', 'SLACK_APPROVERS', 'SLACK_API_URL'],
  secrets: ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'BATON_APPROVAL_SECRET'],
  timeoutSeconds: 60,
  // An approval request stays open for 24 h by default (`approval.ttlSeconds`); wait a little
  // longer so the expiry itself is what ends the wait.
  watch: { as: 'approve', topic: 'approval-decided', defaultTimeoutSeconds: 25 * 3_600 },
  stuckAfterSeconds: (pipeline, environment) => (environment?.approval.ttlSeconds ?? pipeline?.approval?.ttlSeconds ?? 86_400) + 600,
  load: async () => (await import('./handler.js')).approvalCallbackHandler,
});
