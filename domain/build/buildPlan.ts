import type { Pipeline, ServiceConfig } from '../../shared/config/pipelineConfig.js';
import type { ImageBuild } from '../../shared/runtime/builders/builder.js';

/**
 * Pure naming rules for builds: the image a service's build produces, where its Dockerfile is,
 * and the tags and substitutions that let `buildStatus` match a Cloud Build notification back to
 * its run and service.
 */
export const SHORT_SHA_LENGTH = 7;

/** Where a service's image goes: `imageRepository/<image or name>:<short sha>`. */
export function imageBuildFor(imageRepository: string, service: ServiceConfig, sha: string): ImageBuild {
  const path = service.path.replace(/^\/+/, '');
  const dir = path === '' ? '' : path.endsWith('/') ? path : `${path}/`;
  return {
    kind: 'image',
    repository: `${imageRepository.replace(/\/+$/, '')}/${service.image ?? service.name}`,
    tag: sha.slice(0, SHORT_SHA_LENGTH),
    dockerfile: `${dir}${service.dockerfile ?? 'Dockerfile'}`,
    context: dir === '' ? '.' : dir.replace(/\/$/, ''),
  };
}

/** The image repository root for a pipeline: `build.imageRepository`, or under the builder's default root (the local registry). */
export function imageRepositoryFor(pipeline: Pipeline, defaultRoot?: string): string | undefined {
  return pipeline.build?.imageRepository ?? (defaultRoot ? `${defaultRoot}/${pipeline.name}` : undefined);
}

/** Cloud Build tags allow `[A-Za-z0-9_.-]`, start with a word character, and are at most 128 long. */
export function cloudBuildTag(value: string): string {
  const cleaned = value.replace(/[^\w.-]/g, '-').replace(/^[^\w]+/, '');
  return (cleaned || 'x').slice(0, 128);
}

export type Correlation = { tags: string[]; substitutions: Record<string, string> };

export function correlationFor(runId: string, pipeline: string, service: string, sha: string): Correlation {
  return {
    tags: ['baton', cloudBuildTag(`run-${runId}`), cloudBuildTag(`svc-${service}`)],
    substitutions: {
      _BATON_RUN_ID: runId,
      _BATON_SERVICE: service,
      _BATON_PIPELINE: pipeline,
      _BATON_SHA: sha,
    },
  };
}
