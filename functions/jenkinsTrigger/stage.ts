import { defineStage, on } from '../../shared/stage/declaration.js';

export const jenkinsTrigger = defineStage({
  name: 'jenkinsTrigger',
  doc: "starts each run's Jenkins build, the window people watch, through Jenkins' remote build trigger",
  // No ledger stage: a reporter. The run goes on whatever Jenkins says, and Jenkins only follows it.
  // Every run that starts from a push publishes push-received first: a webhook's, and a `baton
  // retry`'s from any machine, so both show in Jenkins without the CLI holding the token.
  trigger: on.topics('push-received'),
  publishes: [],
  secrets: ['JENKINS_TRIGGER_TOKEN'],
  timeoutSeconds: 60,
  // A Jenkins that is down or restarting: some minutes of Pub/Sub's backoff, then the dead-letter topic.
  maxDeliveryAttempts: 10,
  load: async () => (await import('./handler.js')).jenkinsTriggerHandler,
});
