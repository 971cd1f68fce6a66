import { CLOUD_BUILD_TOPIC, TOPICS } from '../../shared/contracts/topics.js';
import type { TopicName } from '../../shared/contracts/topics.js';
import { defineStage, on } from '../../shared/stage/declaration.js';

/**
 * The topics a run's stage changes on: every one of baton's own, `run-finished` included (a run
 * can end without any stage event, when the reconciler fails it). Cloud Build's notifications
 * are left out: buildStatus turns them into `build-finished`, which is when the build stage changes.
 */
export const GIT_STATUS_TOPICS = TOPICS.filter((topic): topic is Exclude<TopicName, typeof CLOUD_BUILD_TOPIC> => topic !== CLOUD_BUILD_TOPIC);

export const gitStatus = defineStage({
  name: 'gitStatus',
  doc: "reports each run's stages where developers look: commit statuses baton/<stage> on GitHub and GitLab, and GitHub deployments",
  // No ledger stage: it reports on the run's timeline and never adds to it (a reporter; see isReporter).
  trigger: on.topics(...GIT_STATUS_TOPICS),
  publishes: [],
  env: ['GITHUB_API_URL', 'GITLAB_API_URL', 'GITHUB_APP_ID', 'GITHUB_APP_INSTALLATION_ID', 'BATON_RUN_URL'],
  secrets: ['GITHUB_TOKEN', 'GITHUB_APP_PRIVATE_KEY', 'GITLAB_TOKEN'],
  // A rate limit is waited out in-process up to 60 s, twice, besides GitHub's second between writes.
  timeoutSeconds: 300,
  // A git host that stays down: about an hour of Pub/Sub's backoff, then the dead-letter topic.
  maxDeliveryAttempts: 15,
  // A run's last statuses are reported after it has ended (run-finished, a late build-finished).
  afterRunEnds: true,
  load: async () => (await import('./handler.js')).gitStatusHandler,
});
