import { redactedError } from '../../shared/log/redact.js';
import type { BuildHandle, BuildRequest, Builder } from './builder.js';
import { cloudBuildRequest } from './cloudBuildRequest.js';
import type { CloudBuildSettings, CreateBuildRequest } from './cloudBuildRequest.js';

/** The part of `@google-cloud/cloudbuild`'s `CloudBuildClient` baton calls (tests pass a recorder). */
export type CloudBuildClientLike = {
  createBuild(request: CreateBuildRequest): Promise<unknown[]>;
};

type OperationLike = { metadata?: { build?: { id?: string | null; logUrl?: string | null } | null } | null; name?: string | null };

/**
 * Starts builds on Cloud Build. `createBuild` returns a long-running operation whose metadata
 * already holds the build id and log URL; baton does not wait on the operation, since the
 * outcome arrives on `cloud-builds` like every other state change.
 */
export class CloudBuildBuilder implements Builder {
  constructor(
    private readonly settings: CloudBuildSettings,
    private readonly client: () => Promise<CloudBuildClientLike>,
  ) {}

  async start(request: BuildRequest): Promise<BuildHandle> {
    const call = cloudBuildRequest(request, this.settings);
    let response: unknown[];
    try {
      response = await (await this.client()).createBuild(call);
    } catch (error) {
      throw redactedError(`failed to start the Cloud Build build of ${request.service}`, error);
    }
    const operation = response[0] as OperationLike | undefined;
    const build = operation?.metadata?.build;
    if (!build?.id) throw new Error(`failed to start the Cloud Build build of ${request.service}: the operation ${operation?.name ?? ''} carries no build id`);
    return { buildId: build.id, ...(build.logUrl ? { logUrl: build.logUrl } : {}) };
  }
}

/** One Cloud Build client per process, loaded on first use (the SDK is heavy). */
export function lazyCloudBuildClient(): () => Promise<CloudBuildClientLike> {
  let client: Promise<CloudBuildClientLike> | undefined;
  return () =>
    (client ??= import('@google-cloud/cloudbuild').then(({ v1 }) => {
      const instance = new v1.CloudBuildClient();
      return { createBuild: (request: CreateBuildRequest) => instance.createBuild(request as never) as Promise<unknown[]> };
    }));
}
