import type { CloudBuildNotification } from '../../contracts/cloudBuild.js';

/**
 * A builder turns one service's Dockerfile at one commit of the mirror into an image. Two
 * implement it: Cloud Build (deployed) and buildah (embedded). Both are asynchronous like Cloud
 * Build's long-running operation: `start` returns once the build is accepted, and the outcome
 * arrives later as Cloud Build notifications on `cloud-builds`, which `buildStatus` reads.
 */
export type ImageBuild = {
  kind: 'image';
  /** Image repository without tag, e.g. `europe-west1-docker.pkg.dev/p/shop/frontend`. */
  repository: string;
  /** The short commit sha. */
  tag: string;
  /** Dockerfile path relative to the repository root. */
  dockerfile: string;
  /** Build context relative to the repository root (`.` for the root). */
  context: string;
};

export type TerraformPlanBuild = {
  kind: 'terraform-plan';
  /** Root module directory inside the repository. */
  dir: string;
  /** Bucket (without gs://) the plan goes to, under `<runId>/`. */
  planBucket: string;
};

/** Applies exactly the plan a Terraform run saved and a person approved (identified by its SHA-256). */
export type TerraformApplyBuild = {
  kind: 'terraform-apply';
  /** Root module directory inside the repository. */
  dir: string;
  /** Bucket (without gs://) holding `<runId>/tfplan`. */
  planBucket: string;
  /** SHA-256 (hex) of the approved plan file: anything else is refused. */
  planSha256: string;
};

export type BuildRequest = {
  runId: string;
  pipeline: string;
  /** Service name (for a Terraform plan: the Terraform directory). */
  service: string;
  /** The exact commit to build. */
  sha: string;
  /** Git URL of the mirror the source is read from. */
  mirrorUrl: string;
  /** Correlation tags: `baton`, `run-<runId>`, `svc-<service>`. */
  tags: string[];
  /** Correlation substitutions: `_BATON_RUN_ID`, `_BATON_SERVICE`, `_BATON_PIPELINE`, `_BATON_SHA`. */
  substitutions: Record<string, string>;
  timeoutSeconds?: number;
  what: ImageBuild | TerraformPlanBuild | TerraformApplyBuild;
};

export type BuildHandle = {
  buildId: string;
  /** Where people read the build's logs. */
  logUrl?: string;
};

export interface Builder {
  /** Where images go when a pipeline names no `build.imageRepository` (the local builder's registry); none for Cloud Build. */
  readonly defaultImageRoot?: string;
  /** Which build kinds this builder can run (the local builder only builds images). */
  supports(kind: BuildRequest['what']['kind']): boolean;
  /** Starts the build and returns its id once the builder has accepted it. */
  start(request: BuildRequest): Promise<BuildHandle>;
  /**
   * The build as the builder knows it now, in Cloud Build's notification format (the Build
   * resource), or undefined when the builder has no such build. The reconciler asks this about
   * builds whose end it never heard of.
   */
  get(buildId: string): Promise<CloudBuildNotification | undefined>;
  /**
   * A build already started for this request's run, service and kind (by its correlation tags
   * and substitutions), if any: how a start whose starter died before recording the id is found.
   */
  find(request: BuildRequest): Promise<BuildHandle | undefined>;
  /**
   * Stops a build that has not ended (`baton cancel`): Cloud Build's `cancelBuild`, or the local
   * job told to stop. Its CANCELLED state is announced on `cloud-builds` like any other. A build
   * that has ended, or that the builder does not know, is left alone.
   */
  cancel(buildId: string): Promise<void>;
}

/** `repository:tag`, as Cloud Build's `images` and `results.images[].name` write it. */
export function imageName(build: ImageBuild): string {
  return `${build.repository}:${build.tag}`;
}
