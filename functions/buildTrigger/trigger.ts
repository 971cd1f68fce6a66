import type { Bus } from '../../shared/bus/bus.js';
import { publishOnce } from '../../shared/bus/publishOnce.js';
import type { BuildRequest, Builder } from '../../domain/build/builder.js';
import { correlationFor, imageBuildFor, imageRepositoryFor } from '../../domain/build/buildPlan.js';
import { startBuildOnce } from '../../domain/build/startBuildOnce.js';
import type { StartedBuild } from '../../domain/build/startBuildOnce.js';
import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { ConfigError, findPipeline, requireKey } from '../../shared/config/pipelineConfig.js';
import type { SourceMirrored } from '../../shared/contracts/index.js';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';

export type BuildTriggerDeps = {
  config: BatonConfig;
  ledger: RunLedger;
  bus: Bus;
  log: Logger;
  /** The builder for a pipeline: Cloud Build deployed, buildah embedded. */
  builderFor: (pipeline: Pipeline) => Builder;
  /** Embedded only: the local registry, the default image repository root. */
  localRegistry?: string;
  /** False in the embedded runtime, which cannot run Terraform plans. */
  plansTerraform: boolean;
  now?: () => Date;
};


/**
 * buildTrigger: starts one build per affected service at the exact mirrored commit, and
 * publishes `build-started`. A claim per (run, service) records the build id, so a redelivered
 * `source-mirrored` finds the builds it already started instead of starting them again.
 */
export async function handleSourceMirrored(event: SourceMirrored, deps: BuildTriggerDeps): Promise<void> {
  const log = deps.log.child({ stage: 'buildTrigger', runId: event.runId, pipeline: event.pipeline });
  const pipeline = findPipeline(deps.config, event.pipeline);
  if (!pipeline) return fail(deps, event, log, `pipeline "${event.pipeline}" is no longer in ${deps.config.file}`);

  let requests: BuildRequest[];
  let builder: Builder;
  try {
    if (event.kind === 'terraform' && !deps.plansTerraform) {
      await deps.ledger.recordStage(event.runId, 'build', { status: 'skipped', detail: 'Terraform plans run on Cloud Build; the embedded runtime does not plan' });
      log.info('skipped the Terraform plan: the embedded runtime has no Cloud Build');
      return;
    }
    requests = event.kind === 'terraform' ? [terraformRequest(deps, pipeline, event)] : imageRequests(deps, pipeline, event, log);
    builder = deps.builderFor(pipeline);
  } catch (error) {
    if (error instanceof ConfigError) return fail(deps, event, log, error.message);
    throw error;
  }
  if (requests.length === 0) return fail(deps, event, log, `none of the services ${event.services.join(', ')} is in the pipeline's config`);

  await deps.ledger.recordStage(event.runId, 'build', { status: 'running', detail: `building ${requests.map((request) => request.service).join(', ')}` });
  const started: StartedBuild[] = [];
  for (const request of requests) started.push(await startBuildOnce(request, builder, deps, log));

  await deps.ledger.updateRun(event.runId, (run) => {
    let changed = false;
    if (event.kind === 'terraform' && run.services.join() !== requests.map((request) => request.service).join()) {
      // A Terraform run has one "service": its root module, which the plan (and the approval) is for.
      run.services = requests.map((request) => request.service);
      changed = true;
    }
    for (const build of started) {
      if (run.builds[build.service]?.buildId === build.buildId) continue;
      run.builds[build.service] = { buildId: build.buildId, status: 'QUEUED', ...(build.logUrl ? { logUrl: build.logUrl } : {}) };
      changed = true;
    }
    return changed ? run : undefined;
  });

  const published = await publishOnce(deps, `build-started:${event.runId}`, 'build-started', {
    runId: event.runId,
    pipeline: event.pipeline,
    sha: event.sha,
    builds: started.map((build) => ({ service: build.service, buildId: build.buildId, image: build.image ?? '', ...(build.logUrl ? { logUrl: build.logUrl } : {}) })),
  });
  if (!published) return;
  log.info('started the builds', { builds: started.map(({ service, buildId }) => ({ service, buildId })) });
}

function imageRequests(deps: BuildTriggerDeps, pipeline: Pipeline, event: SourceMirrored, log: Logger): BuildRequest[] {
  const root = requireKey(deps.config, pipeline, 'build.imageRepository', imageRepositoryFor(pipeline, deps.localRegistry), 'buildTrigger');
  const requests: BuildRequest[] = [];
  for (const name of event.services) {
    const service = pipeline.services.find((candidate) => candidate.name === name);
    if (!service) {
      log.warn('ignored a service that is no longer in the config', { service: name });
      continue;
    }
    requests.push({
      runId: event.runId,
      pipeline: pipeline.name,
      service: name,
      sha: event.sha,
      mirrorUrl: event.mirrorUrl,
      ...correlationFor(event.runId, pipeline.name, name, event.sha),
      ...(pipeline.build?.timeoutSeconds ? { timeoutSeconds: pipeline.build.timeoutSeconds } : {}),
      what: imageBuildFor(root, service, event.sha),
    });
  }
  return requests;
}

function terraformRequest(deps: BuildTriggerDeps, pipeline: Pipeline, event: SourceMirrored): BuildRequest {
  const dir = requireKey(deps.config, pipeline, 'terraform.dir', pipeline.terraform?.dir, 'buildTrigger');
  const planBucket = requireKey(deps.config, pipeline, 'terraform.planBucket', pipeline.terraform?.planBucket, 'buildTrigger');
  return {
    runId: event.runId,
    pipeline: pipeline.name,
    service: dir,
    sha: event.sha,
    mirrorUrl: event.mirrorUrl,
    ...correlationFor(event.runId, pipeline.name, dir, event.sha),
    ...(pipeline.build?.timeoutSeconds ? { timeoutSeconds: pipeline.build.timeoutSeconds } : {}),
    what: { kind: 'terraform-plan', dir, planBucket },
  };
}

async function fail(deps: BuildTriggerDeps, event: SourceMirrored, log: Logger, reason: string): Promise<void> {
  log.error('failed to start the builds; not retrying', { reason });
  await deps.ledger.recordStage(event.runId, 'build', { status: 'failed', detail: reason });
}
