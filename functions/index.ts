/**
 * The package `main`: registers every stage of `functions/stages.ts` with functions-framework,
 * so after `npm run build`, `npx functions-framework --target=<name>` serves it. Loading `main`
 * imports nothing but the framework and the declarations (data and lazy loaders): the stage
 * runner, the runtime, each stage's handler and the SDKs it uses are imported on its first
 * request, so a cold start pays only for what that target runs.
 */
import * as functions from '@google-cloud/functions-framework';
import type { TopicName } from '../shared/contracts/topics.js';
import type { AnyScheduledStage, AnyStage } from '../shared/stage/declaration.js';
import { isHttpStage, isTopicStage } from '../shared/stage/declaration.js';
import { once } from '../shared/runtime/once.js';
import { MANIFEST, STAGES } from './stages.js';

const platform = once(async () => {
  const [runner, http, topic, { defaultCloudRuntime }] = await Promise.all([
    import('../shared/stage/runner.js'),
    import('../shared/adapters/http.js'),
    import('../shared/adapters/topic.js'),
    import('../shared/runtime/cloudRuntime.js'),
  ]);
  return { runner, http, topic, runtime: defaultCloudRuntime };
});

for (const stage of STAGES as readonly AnyStage[]) {
  if (isTopicStage(stage)) {
    const topics = stage.trigger.topics as readonly TopicName[];
    const handlers = new Map<TopicName, ReturnType<Awaited<ReturnType<typeof platform>>['runner']['topicStageHandler']>>();
    const handler = once(async () => {
      const { runner, topic, runtime } = await platform();
      return topic.functionsFrameworkCloudEvent(
        topics,
        async (name) => {
          let forTopic = handlers.get(name);
          if (!forTopic) handlers.set(name, (forTopic = runner.topicStageHandler(stage, name, runtime(), MANIFEST)));
          return forTopic;
        },
        () => runtime().log,
        stage.name,
      );
    });
    functions.cloudEvent(stage.name, async (event: unknown) => (await handler())(event as never));
  } else {
    // HTTP stages, and scheduled ones: Cloud Scheduler POSTs to the function (with an OIDC token).
    const handler = once(async () => {
      const { runner, http, runtime } = await platform();
      const target = isHttpStage(stage) ? runner.httpStageTarget(stage, runtime(), MANIFEST) : runner.scheduledTarget(stage as AnyScheduledStage, runtime(), MANIFEST);
      return http.functionsFrameworkHttp(async () => target, runtime);
    });
    functions.http(stage.name, async (req, res) => (await handler())(req as never, res as never));
  }
}
