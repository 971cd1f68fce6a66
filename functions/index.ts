/**
 * The package `main`: registers every target with functions-framework, so after
 * `npm run build`, `npx functions-framework --target=<name>` serves it. Loading `main` imports
 * nothing but the framework and the target table: each target's adapter, its module and the SDKs
 * it uses are imported on its first request, so a cold start pays only for what that target runs.
 */
import * as functions from '@google-cloud/functions-framework';
import type { HttpTarget } from '../shared/adapters/http.js';
import type { TopicTarget } from '../shared/adapters/topic.js';
import type { TopicName } from '../shared/contracts/topics.js';
import type { Runtime } from '../shared/runtime/runtime.js';
import { TARGETS } from './targets.js';

type Handler<A extends unknown[]> = (...args: A) => Promise<void>;

/** Builds the real handler on first use and reuses it. */
function lazy<A extends unknown[]>(build: () => Promise<Handler<A>>): Handler<A> {
  let handler: Promise<Handler<A>> | undefined;
  return async (...args: A) => {
    handler ??= build();
    handler.catch(() => (handler = undefined));
    return (await handler)(...args);
  };
}

const runtime = async (): Promise<() => Runtime> => {
  const { defaultCloudRuntime } = await import('../shared/runtime/cloudRuntime.js');
  return defaultCloudRuntime;
};

for (const { name, trigger } of TARGETS) {
  const load = async () => ((await import(`./${name}/index.js`)) as { target: unknown }).target;
  if (trigger.kind === 'http') {
    functions.http(
      name,
      lazy(async () => {
        const [{ functionsFrameworkHttp }, getRuntime] = await Promise.all([import('../shared/adapters/http.js'), runtime()]);
        return functionsFrameworkHttp(async () => (await load()) as HttpTarget, getRuntime);
      }),
    );
  } else {
    functions.cloudEvent(
      name,
      lazy(async () => {
        const [{ functionsFrameworkCloudEvent }, getRuntime] = await Promise.all([import('../shared/adapters/topic.js'), runtime()]);
        return functionsFrameworkCloudEvent(async () => (await load()) as TopicTarget<TopicName>, getRuntime, name);
      }),
    );
  }
}
