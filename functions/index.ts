/**
 * The package `main`: registers every target with functions-framework, so after
 * `npm run build`, `npx functions-framework --target=<name>` serves it. Each target's module
 * (and the SDKs it uses) is imported on its first request, not here: cold start matters.
 */
import * as functions from '@google-cloud/functions-framework';
import { functionsFrameworkHttp } from '../shared/adapters/http.js';
import type { HttpTarget } from '../shared/adapters/http.js';
import { functionsFrameworkCloudEvent } from '../shared/adapters/topic.js';
import type { TopicTarget } from '../shared/adapters/topic.js';
import type { TopicName } from '../shared/contracts/topics.js';
import { defaultCloudRuntime } from '../shared/runtime/cloudRuntime.js';
import { TARGETS } from './targets.js';

for (const { name, trigger } of TARGETS) {
  const load = () => import(`./${name}/index.js`) as Promise<{ target: unknown }>;
  if (trigger.kind === 'http') {
    functions.http(name, functionsFrameworkHttp(async () => (await load()).target as HttpTarget, defaultCloudRuntime));
  } else {
    functions.cloudEvent(name, functionsFrameworkCloudEvent(async () => (await load()).target as TopicTarget<TopicName>, defaultCloudRuntime, name));
  }
}
