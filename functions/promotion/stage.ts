import { defineStage, on } from '../../shared/stage/declaration.js';

/** promotion: see promote.ts. */
export const promotion = defineStage({
  name: 'promotion',
  doc: "moves a run's release through its environments in order: deploys `auto` ones, asks Slack for `approval` ones (bound to the release and the environment), never moves a held one; settles the deployments an ended run left in progress",
  ledgerStage: 'approval',
  // Only environments promoted by approval have an approval stage; `auto` ones go straight to the chart.
  perEnvironment: { when: (environment) => environment.promotion === 'approval' },
  trigger: on.topics('build-finished', 'deploy-finished', 'release-verified', 'promotion-requested', 'run-finished'),
  publishes: ['approval-requested', 'approval-decided'],
  env: ['SLACK_CHANNEL', 'SLACK_APPROVERS', 'SLACK_API_URL'],
  secrets: ['SLACK_BOT_TOKEN', 'BATON_APPROVAL_SECRET'],
  timeoutSeconds: 60,
  maxDeliveryAttempts: 10,
  // A failed build has ended the run already; its one Slack message is still this stage's to post.
  // And run-finished only comes after the end: it settles the deployments the run left in progress.
  afterRunEnds: true,
  load: async () => (await import('./handler.js')).promotionHandler,
});
