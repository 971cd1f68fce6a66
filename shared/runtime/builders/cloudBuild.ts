import type { CloudBuildNotification } from '../../contracts/cloudBuild.js';
import { BuildStatus } from '../../contracts/cloudBuild.js';
import { redactedError } from '../../log/redact.js';
import { requireCredentials } from '../credentials.js';
import { once } from '../once.js';
import type { BuildHandle, BuildRequest, Builder } from './builder.js';
import { cloudBuildRequest } from './cloudBuildRequest.js';
import type { CloudBuildSettings, CreateBuildRequest } from './cloudBuildRequest.js';

/** The part of `@google-cloud/cloudbuild`'s `CloudBuildClient` baton calls (tests pass a recorder). */
export type CloudBuildClientLike = {
  createBuild(request: CreateBuildRequest): Promise<unknown[]>;
  getBuild(request: { projectId: string; id: string; name?: string }): Promise<unknown[]>;
  listBuilds(request: { projectId: string; parent?: string; filter: string; pageSize: number }): Promise<unknown[]>;
  cancelBuild(request: { projectId: string; id: string; name?: string }): Promise<unknown[]>;
};

type OperationLike = { metadata?: { build?: { id?: string | null; logUrl?: string | null } | null } | null; name?: string | null };

/**
 * Starts builds on Cloud Build. `createBuild` returns a long-running operation whose metadata
 * already holds the build id and log URL; baton does not wait on the operation, since the
 * outcome arrives on `cloud-builds` like every other state change. `get` is `getBuild`, for the
 * reconciler, turned into the notification's JSON shape.
 */
export class CloudBuildBuilder implements Builder {
  constructor(
    private readonly settings: CloudBuildSettings,
    private readonly client: () => Promise<CloudBuildClientLike>,
  ) {}

  supports(): boolean {
    return true;
  }

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

  async get(buildId: string): Promise<CloudBuildNotification | undefined> {
    let response: unknown[];
    try {
      response = await (await this.client()).getBuild(this.buildName(buildId));
    } catch (error) {
      if ((error as { code?: number }).code === 5) return undefined; // NOT_FOUND
      throw redactedError(`failed to read Cloud Build build ${buildId}`, error);
    }
    return buildAsNotification(response[0]);
  }

  async cancel(buildId: string): Promise<void> {
    try {
      await (await this.client()).cancelBuild(this.buildName(buildId));
    } catch (error) {
      // NOT_FOUND, or FAILED_PRECONDITION: the build has already ended.
      if ((error as { code?: number }).code === 5 || (error as { code?: number }).code === 9) return;
      throw redactedError(`failed to cancel Cloud Build build ${buildId}`, error);
    }
  }

  /** A build by id, in its region when the builds run in one (`projects/…/locations/…/builds/…`). */
  private buildName(buildId: string): { projectId: string; id: string; name?: string } {
    return {
      projectId: this.settings.projectId,
      id: buildId,
      ...(this.settings.region ? { name: `projects/${this.settings.projectId}/locations/${this.settings.region}/builds/${buildId}` } : {}),
    };
  }

  async find(request: BuildRequest): Promise<BuildHandle | undefined> {
    let response: unknown[];
    try {
      response = await (await this.client()).listBuilds({
        projectId: this.settings.projectId,
        ...(this.settings.region ? { parent: `projects/${this.settings.projectId}/locations/${this.settings.region}` } : {}),
        filter: correlationFilter(request),
        pageSize: 20,
      });
    } catch (error) {
      throw redactedError(`failed to look for the build of ${request.service}`, error);
    }
    const kind = request.substitutions._BATON_KIND ?? '';
    const builds = (response[0] ?? []) as Array<{ id?: string; logUrl?: string; substitutions?: Record<string, string> }>;
    const match = builds.find((build) => build.id && (build.substitutions?._BATON_KIND ?? '') === kind && build.substitutions?._BATON_RUN_ID === request.runId);
    return match?.id ? { buildId: match.id, ...(match.logUrl ? { logUrl: match.logUrl } : {}) } : undefined;
  }
}

/** Builds carry their run and service in tags (`run-<runId>`, `svc-<service>`), which the list API filters on. */
function correlationFilter(request: BuildRequest): string {
  return request.tags
    .filter((tag) => tag.startsWith('run-') || tag.startsWith('svc-'))
    .map((tag) => `tags="${tag}"`)
    .join(' AND ');
}

type Timestamp = { seconds?: number | string | { toString(): string } | null; nanos?: number | null } | null | undefined;

function iso(value: Timestamp): string | undefined {
  if (!value || value.seconds === undefined || value.seconds === null) return undefined;
  return new Date(Number(String(value.seconds)) * 1000 + Math.round((value.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * The client's Build message (enums as strings or numbers, timestamps as seconds and nanos, step
 * outputs as bytes) in the JSON form Cloud Build publishes on `cloud-builds`, so `buildStatus`
 * reads a build the reconciler fetched exactly like a notification.
 */
export function buildAsNotification(message: unknown): CloudBuildNotification | undefined {
  const build = (message ?? {}) as Record<string, unknown> & { id?: string; status?: unknown; results?: Record<string, unknown> | null; failureInfo?: Record<string, unknown> | null };
  if (typeof build.id !== 'string') return undefined;
  const status = typeof build.status === 'number' ? BuildStatus.options[build.status] : BuildStatus.safeParse(build.status).data;
  const results = build.results ?? undefined;
  const images = (results?.images as Array<{ name?: string; digest?: string }> | undefined)?.map((image) => ({ name: image.name ?? '', digest: image.digest ?? '' }));
  const outputs = (results?.buildStepOutputs as Array<Uint8Array | string> | undefined)?.map((output) => (typeof output === 'string' ? output : Buffer.from(output).toString('base64')));
  const failure = build.failureInfo ?? undefined;
  return {
    id: build.id,
    status: status ?? 'STATUS_UNKNOWN',
    ...(typeof build.projectId === 'string' ? { projectId: build.projectId } : {}),
    ...(typeof build.statusDetail === 'string' && build.statusDetail ? { statusDetail: build.statusDetail } : {}),
    ...(Array.isArray(build.tags) ? { tags: build.tags as string[] } : {}),
    ...(build.substitutions && typeof build.substitutions === 'object' ? { substitutions: build.substitutions as Record<string, string> } : {}),
    ...(Array.isArray(build.images) ? { images: build.images as string[] } : {}),
    ...(images || outputs ? { results: { ...(images ? { images } : {}), ...(outputs ? { buildStepOutputs: outputs } : {}) } } : {}),
    ...(typeof build.logUrl === 'string' ? { logUrl: build.logUrl } : {}),
    ...(iso(build.createTime as Timestamp) ? { createTime: iso(build.createTime as Timestamp) } : {}),
    ...(iso(build.startTime as Timestamp) ? { startTime: iso(build.startTime as Timestamp) } : {}),
    ...(iso(build.finishTime as Timestamp) ? { finishTime: iso(build.finishTime as Timestamp) } : {}),
    ...(failure && (failure.detail || failure.type) ? { failureInfo: { ...(failure.type ? { type: String(failure.type) } : {}), ...(failure.detail ? { detail: String(failure.detail) } : {}) } } : {}),
  } as CloudBuildNotification;
}

/** One Cloud Build client per process, loaded on first use (the SDK is heavy), once credentials are found (`requireCredentials`). */
export function lazyCloudBuildClient(): () => Promise<CloudBuildClientLike> {
  return once(() =>
    requireCredentials('Cloud Build')
      .then(() => import('@google-cloud/cloudbuild'))
      .then(({ v1 }) => {
        const instance = new v1.CloudBuildClient();
        return {
          createBuild: (request: CreateBuildRequest) => instance.createBuild(request as never) as Promise<unknown[]>,
          getBuild: (request: { projectId: string; id: string; name?: string }) => instance.getBuild(request) as Promise<unknown[]>,
          cancelBuild: (request: { projectId: string; id: string; name?: string }) => instance.cancelBuild(request) as Promise<unknown[]>,
          // autoPaginate off: the first page is enough, and one call is all a takeover may cost.
          listBuilds: (request: { projectId: string; parent?: string; filter: string; pageSize: number }) => instance.listBuilds(request, { autoPaginate: false }) as Promise<unknown[]>,
        };
      }),
  );
}
