import type { BuildRequest, ImageBuild, TerraformApplyBuild, TerraformPlanBuild } from './builder.js';
import { imageName } from './builder.js';
import { PLAN_REPORT_SCRIPT } from './planReport.js';

/**
 * The `createBuild` request for a baton build, as a pure function so that the call made at the
 * client boundary can be checked without Google Cloud. The shapes are the Cloud Build v1 API's
 * (`google.devtools.cloudbuild.v1.CreateBuildRequest`); only the fields baton sets are typed.
 */
export type CloudBuildSettings = {
  projectId: string;
  /** Regional builds (`projects/P/locations/R`); default the global pool. */
  region?: string;
  /** Email of the service account builds run as. */
  serviceAccount?: string;
  /** gs:// bucket for build logs; without one (and with a custom service account) logs go to Cloud Logging only. */
  logsBucket?: string;
  /** Build timeout; default Cloud Build's (60 minutes). */
  timeoutSeconds?: number;
};

export type CloudBuildStep = { id: string; name: string; args: string[]; dir?: string; entrypoint?: string; env?: string[] };

export type CloudBuildSpec = {
  source: { gitSource: { url: string; revision: string } };
  steps: CloudBuildStep[];
  images?: string[];
  artifacts?: { objects: { location: string; paths: string[] } };
  tags: string[];
  substitutions: Record<string, string>;
  options: { substitutionOption: 'ALLOW_LOOSE'; logging?: 'CLOUD_LOGGING_ONLY' };
  serviceAccount?: string;
  logsBucket?: string;
  timeout?: { seconds: number };
};

export type CreateBuildRequest = { projectId: string; parent?: string; build: CloudBuildSpec };

const DOCKER_BUILDER = 'gcr.io/cloud-builders/docker';
const GCLOUD_IMAGE = 'gcr.io/google.com/cloudsdktool/google-cloud-cli:stable';
const NODE_IMAGE = 'node:22-alpine';
const TERRAFORM_IMAGE = 'hashicorp/terraform:1.11';

export function cloudBuildRequest(request: BuildRequest, settings: CloudBuildSettings): CreateBuildRequest {
  const what = request.what;
  const steps = what.kind === 'image' ? imageSteps(what, request.sha) : what.kind === 'terraform-plan' ? terraformSteps(what, request.runId) : applySteps(what, request.runId);
  const timeoutSeconds = request.timeoutSeconds ?? settings.timeoutSeconds;
  const build: CloudBuildSpec = {
    // The exact mirrored commit: never a branch name, which may have moved since.
    source: { gitSource: { url: request.mirrorUrl, revision: request.sha } },
    steps,
    ...(request.what.kind === 'image' ? { images: [imageName(request.what)] } : {}),
    ...(request.what.kind === 'terraform-plan'
      ? { artifacts: { objects: { location: `gs://${request.what.planBucket.replace(/^gs:\/\//, '').replace(/\/+$/, '')}/${request.runId}/`, paths: planPaths(request.what) } } }
      : {}),
    tags: request.tags,
    substitutions: request.substitutions,
    options: {
      // baton's substitutions are for correlation only; no step uses them, which Cloud Build
      // rejects unless substitutions are loose.
      substitutionOption: 'ALLOW_LOOSE',
      ...(settings.serviceAccount && !settings.logsBucket ? { logging: 'CLOUD_LOGGING_ONLY' as const } : {}),
    },
    ...(settings.serviceAccount ? { serviceAccount: `projects/${settings.projectId}/serviceAccounts/${settings.serviceAccount}` } : {}),
    ...(settings.logsBucket ? { logsBucket: settings.logsBucket } : {}),
    ...(timeoutSeconds ? { timeout: { seconds: timeoutSeconds } } : {}),
  };
  return {
    projectId: settings.projectId,
    ...(settings.region ? { parent: `projects/${settings.projectId}/locations/${settings.region}` } : {}),
    build,
  };
}

function imageSteps(image: ImageBuild, sha: string): CloudBuildStep[] {
  return [
    {
      id: 'build',
      name: DOCKER_BUILDER,
      args: ['build', '--file', image.dockerfile, '--tag', imageName(image), '--label', `org.opencontainers.image.revision=${sha}`, image.context],
    },
  ];
}

const terraformStep = (dir: string) => (id: string, args: string[]): CloudBuildStep => ({ id, name: TERRAFORM_IMAGE, dir, args, env: ['TF_IN_AUTOMATION=1', 'TF_INPUT=0'] });

/** Where a run's saved plan lives. */
export function planLocation(planBucket: string, runId: string): string {
  return `gs://${planBucket.replace(/^gs:\/\//, '').replace(/\/+$/, '')}/${runId}/tfplan`;
}

/** fmt, init, validate, plan, its JSON form and its report, in the Terraform directory (kept in step with terraform/cloudbuild/plan.yaml). */
function terraformSteps(plan: TerraformPlanBuild, runId: string): CloudBuildStep[] {
  const dir = plan.dir.replace(/\/+$/, '') || '.';
  const step = terraformStep(dir);
  return [
    step('fmt', ['fmt', '-check', '-recursive']),
    step('init', ['init', '-input=false']),
    step('validate', ['validate']),
    step('plan', ['plan', '-input=false', '-lock-timeout=5m', '-out=tfplan']),
    { ...step('show', ['-c', 'terraform show -json tfplan > plan.json']), entrypoint: 'sh' },
    { id: 'report', name: NODE_IMAGE, dir, entrypoint: 'node', args: ['-e', PLAN_REPORT_SCRIPT], env: [`PLAN_LOCATION=${planLocation(plan.planBucket, runId)}`] },
  ];
}

/**
 * The approved apply: fetch the run's saved plan, refuse it unless its SHA-256 is the one the
 * approval was bound to, then `terraform apply` that file (Terraform itself refuses a plan whose
 * state has moved on). Same steps as terraform/cloudbuild/apply.yaml, without its extras.
 */
function applySteps(apply: TerraformApplyBuild, runId: string): CloudBuildStep[] {
  const dir = apply.dir.replace(/\/+$/, '') || '.';
  const step = terraformStep(dir);
  return [
    {
      id: 'fetch-plan',
      name: GCLOUD_IMAGE,
      dir,
      entrypoint: 'bash',
      args: ['-c', `gcloud storage cp ${planLocation(apply.planBucket, runId)} tfplan && echo "${apply.planSha256}  tfplan" | sha256sum -c -`],
    },
    step('init', ['init', '-input=false']),
    step('apply', ['apply', '-input=false', '-lock-timeout=5m', 'tfplan']),
  ];
}

function planPaths(plan: TerraformPlanBuild): string[] {
  const dir = plan.dir.replace(/\/+$/, '');
  // Only the plan file: its JSON form may hold attribute values, and the report has the counts.
  return [`${dir ? `${dir}/` : ''}tfplan`];
}
