import { correlationFor, imageBuildFor, imageRepositoryFor } from '../../domain/build/buildPlan.js';
import { startBuildOnce } from '../../domain/build/startBuildOnce.js';
import type { StartedBuild } from '../../domain/build/startBuildOnce.js';
import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { findPipeline, requireKey } from '../../shared/config/pipelineConfig.js';
import type { SourceMirrored } from '../../shared/contracts/index.js';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import type { BuildRequest, Builder } from '../../shared/runtime/builders/builder.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';

export type BuildTriggerDeps = {
  config: BatonConfig;
  ledger: RunLedger;
  log: Logger;
  /** The runtime's builder for a pipeline: Cloud Build deployed, buildah embedded. */
  builderFor: (pipeline: Pipeline) => Builder;
  progress: (detail: string) => Promise<void>;
  now?: () => Date;
  instanceId?: string;
  singleProcess?: boolean;
};

/**
 * buildTrigger: starts one build per affected service at the exact mirrored commit (one
 * Terraform plan for a Terraform run), and says `build-started`. A claim per (run, service)
 * records the build id, so a redelivered `source-mirrored` finds the builds it already started
 * instead of starting them again.
 */
export async function handleSourceMirrored(event: SourceMirrored, deps: BuildTriggerDeps): Promise<Outcome<'build-started'>> {
  const log = deps.log.child({ stage: 'buildTrigger', runId: event.runId, pipeline: event.pipeline });
  const pipeline = findPipeline(deps.config, event.pipeline);
  if (!pipeline) throw new PermanentError(`pipeline "${event.pipeline}" is no longer in ${deps.config.file}`);

  const builder = deps.builderFor(pipeline);
  if (event.kind === 'terraform' && !builder.supports('terraform-plan')) {
    log.info('skipped the Terraform plan: this runtime has no Cloud Build');
    return result.skipped('Terraform plans run on Cloud Build; the embedded runtime does not plan', { skipRest: 'the embedded runtime neither plans nor applies Terraform' });
  }
  const requests = event.kind === 'terraform' ? [terraformRequest(deps, pipeline, event)] : imageRequests(deps, pipeline, builder, event, log);
  if (requests.length === 0) throw new PermanentError(`none of the services ${event.services.join(', ')} is in the pipeline's config`);

  await deps.progress(`building ${requests.map((request) => request.service).join(', ')}`);
  const started: StartedBuild[] = [];
  for (const request of requests) started.push(await startBuildOnce(request, builder, deps, log));
  log.info('started the builds', { builds: started.map(({ service, buildId }) => ({ service, buildId })) });

  return result.running(`building ${started.map((build) => build.service).join(', ')}`, {
    update: (run) => {
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
      return changed;
    },
    emit: [
      {
        topic: 'build-started',
        input: {
          runId: event.runId,
          pipeline: event.pipeline,
          sha: event.sha,
          builds: started.map((build) => ({ service: build.service, buildId: build.buildId, image: build.image ?? '', ...(build.logUrl ? { logUrl: build.logUrl } : {}) })),
        },
      },
    ],
  });
}

function imageRequests(deps: BuildTriggerDeps, pipeline: Pipeline, builder: Builder, event: SourceMirrored, log: Logger): BuildRequest[] {
  const root = requireKey(deps.config, pipeline, 'build.imageRepository', imageRepositoryFor(pipeline, builder.defaultImageRoot), 'buildTrigger');
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
