import { join } from 'node:path';
import type { ChartRepo, PreparedChange } from '../../domain/chart/chartRepo.js';
import { readChartTexts, writeChartTexts } from '../../domain/chart/chartDir.js';
import { applyImagesToChart, imageBlocks } from '../../domain/chart/chartEdit.js';
import type { ImageBlock } from '../../domain/chart/chartEdit.js';
import { readFile } from 'node:fs/promises';
import { ChartYamlError } from '../../domain/chart/chartYaml.js';
import { ImageUpdateError } from '../../domain/chart/imageUpdate.js';
import { ChartVersionConflictError, publishChart } from '../../domain/chart/ociPublish.js';
import { packageChart } from '../../domain/chart/package.js';
import { ValuesPathError } from '../../domain/chart/valuesPath.js';
import { YamlEditError } from '../../domain/chart/yamlEdit.js';
import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import type { ApprovalDecided, ReleaseImage } from '../../shared/contracts/index.js';
import { environmentsOf } from '../../domain/environments/config.js';
import { outboxKey } from '../../domain/environments/keys.js';
import { releaseDigests } from '../../domain/environments/runRelease.js';
import type { EnvironmentDeployment } from '../../shared/ledger/environments.js';
import { botCommitMessage, commitTrailer } from '../../shared/git/botCommit.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import type { OciRegistry } from '../../shared/oci/registryClient.js';
import { crashPoint } from '../../shared/stage/crashPoint.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';
import type { ChartSettings } from './settings.js';
import { chartSettings } from './settings.js';

/**
 * chartBump: an approved release goes into its environment's values file in the chart repo
 * (one bot commit: the environment's release, audited in git) and the packaged chart goes to
 * the OCI registry, then `chart-published` goes out, once per run and environment.
 *
 * Safe under at-least-once delivery and racing runs:
 * - ordering: each service is claimed in the ledger with the run's order
 *   (`advanceDeployed`) before anything is written; an older run finds a newer one there and is
 *   superseded for that service. Before every push attempt the claim is checked again, and the
 *   push itself only lands on the head the check was made against, so a service never ends
 *   older-last in the chart;
 * - redelivery: the landed commit is recorded once per run; without that record, a bump the
 *   values already hold is found by its `Baton-Run` trailer instead of committed again;
 * - publishing is idempotent (same chart, same bytes, same digest), and `chart-published` goes
 *   into the run's outbox once.
 */
export type ChartBumpDeps = {
  config: BatonConfig;
  ledger: RunLedger;
  log: Logger;
  /** The chart repo (kept clones) for a pipeline's settings. */
  chartRepo: (settings: ChartSettings) => ChartRepo;
  /** A registry client for a chart registry host. */
  registry: (settings: ChartSettings) => OciRegistry;
  /** Registry used when `chart.registry` is unset (the embedded runtime's local one). */
  defaultRegistry?: string;
  progress: (detail: string) => Promise<void>;
};

/** What landed in the chart repo for a run and environment; written once, read by redeliveries. */
type LandedBump = { commit: string; services: string[]; superseded: string[] };

/** The values file an event's environment is deployed from, and whether it is the implicit one. */
type Target = { environment: string; valuesFile: string; implicit: boolean };

type AttemptValue = { services: string[]; superseded: string[]; alreadyApplied: boolean };

type Result = Outcome<'chart-published'>;

/** Mistakes that retrying cannot fix: the stage fails at once. */
const PERMANENT = [ImageUpdateError, YamlEditError, ChartYamlError, ValuesPathError, ChartVersionConflictError];

export async function bumpChart(event: ApprovalDecided, deps: ChartBumpDeps): Promise<Result> {
  const log = deps.log.child({ stage: 'chart', runId: event.runId, pipeline: event.pipeline });
  if (event.decision !== 'approved') return result.none(`run ${event.decision}: the chart is unchanged`);
  const pipeline = findPipeline(deps.config, event.pipeline);
  if (!pipeline) throw new PermanentError(`pipeline ${event.pipeline} is not in ${deps.config.file}`);
  const run = await deps.ledger.getRun(event.runId);
  if (run?.outbox[outboxKey('chart-published', event.environment)]) return result.none(`the chart is already published for this run in ${event.environment}`);
  const environment = environmentsOf(pipeline).find((candidate) => candidate.name === event.environment);
  if (!environment) throw new PermanentError(`pipeline ${event.pipeline} has no environment ${event.environment} in ${deps.config.file}`);
  try {
    const settings = chartSettings(deps.config, pipeline, deps.defaultRegistry);
    const target: Target = { environment: environment.name, valuesFile: environment.implicit ? settings.valuesFile : environment.values, implicit: environment.implicit };
    const claimKey = claimKeys.chartCommit(target.implicit ? event.runId : `${event.runId}~${target.environment}`);
    const landed = (await deps.ledger.getClaim<LandedBump>(claimKey)) ?? (await land(event, settings, target, claimKey, deps, log));
    if ('supersededBy' in landed) return landed.outcome;
    return await publish(event, settings, target, landed, deps, log);
  } catch (error) {
    if (PERMANENT.some((kind) => error instanceof kind)) throw new PermanentError((error as Error).message, { cause: error });
    throw error; // a config error is permanent already; git remote and registry trouble is transient: the bus retries
  }
}

/**
 * The order an image is claimed with in an environment: the order of the run that built it, so
 * an image a release kept from earlier never replaces a newer build. A rollback claims with its
 * own (newest) order: it is the one explicit way back, and automation after it cannot undo it.
 */
function claimOf(event: ApprovalDecided, image: ReleaseImage): { order: string; runId: string } {
  if (event.kind === 'rollback' || !image.builtBy) return { order: event.order, runId: event.runId };
  return image.builtBy;
}

/** Claims each service of the release in the environment; those a newer build already holds are superseded. */
async function claimServices(event: ApprovalDecided, environment: string, deps: ChartBumpDeps): Promise<{ kept: ReleaseImage[]; superseded: string[] }> {
  const kept: ReleaseImage[] = [];
  const superseded: string[] = [];
  for (const image of event.images) {
    const claim = claimOf(event, image);
    const { advanced, current } = await deps.ledger.advanceDeployed(event.pipeline, image.service, claim.order, claim.runId, environment);
    // Orders are unique (they end in the run id), so `current === order` is this image's own earlier claim.
    if (advanced || current === claim.order) kept.push(image);
    else superseded.push(image.service);
  }
  return { kept, superseded };
}

async function land(event: ApprovalDecided, settings: ChartSettings, target: Target, claimKey: string, deps: ChartBumpDeps, log: Logger): Promise<LandedBump | { supersededBy: string[]; outcome: Result }> {
  await deps.progress(target.implicit ? 'bumping the chart' : `bumping ${target.valuesFile} for ${target.environment}`);
  const { kept, superseded } = await claimServices(event, target.environment, deps);
  // Superseded when nothing this run built is still its to deploy (what it kept is older by definition).
  const ownBuilt = event.images.filter((image) => !image.builtBy);
  if (!kept.length || (event.kind === 'promotion' && ownBuilt.length > 0 && !kept.some((image) => !image.builtBy))) return supersede(superseded, log);
  const repo = deps.chartRepo(settings);
  const restored = await restoredBlocks(event, settings, target, repo, deps);
  const prepare = async (workTree: string): Promise<PreparedChange<AttemptValue>> => {
    // A newer run may have claimed a service since the last attempt: it must land last.
    const stillOurs = await Promise.all(kept.map(async (image) => (await deps.ledger.deployed(event.pipeline, image.service, target.environment))?.order === claimOf(event, image).order));
    const images = kept.filter((_, index) => stillOurs[index]);
    const lost = [...superseded, ...kept.filter((_, index) => !stillOurs[index]).map((image) => image.service)];
    const services = [...images.map((image) => image.service), ...restored.map((block) => block.service)];
    if (!images.length) return { kind: 'none', value: { services, superseded: lost, alreadyApplied: false } };
    const chartDir = join(workTree, settings.path);
    const result = applyImagesToChart(
      await readChartTexts(chartDir, target.valuesFile),
      images,
      { valuesFile: target.valuesFile, imagePath: settings.imagePath, appVersion: commonTagOr(images, event.sha.slice(0, 7)) },
      restored,
    );
    if (!result.changed) return { kind: 'none', value: { services, superseded: lost, alreadyApplied: true } };
    await writeChartTexts(chartDir, result.texts, target.valuesFile);
    const where = target.implicit ? '' : `${target.environment}: `;
    const verb = event.kind === 'rollback' ? 'roll back' : 'to';
    const subject = `chart: ${result.chart} ${result.version}: ${where}${services.join(', ')} ${verb} ${commonTagOr(images, event.sha.slice(0, 7))}`;
    const body = [
      ...images.map((image) => `${image.service}: ${image.repository}:${image.tag}@${image.digest}${image.builtBy ? ` (built by ${image.builtBy.runId})` : ''}`),
      ...restored.map((block) => `${block.service}: ${block.repository}:${block.tag}${block.digest ? `@${block.digest}` : ''} (restored from ${event.restoreFrom})`),
    ].join('\n');
    const why = event.kind === 'rollback' ? `Rollback by ${event.decidedBy.name ?? event.decidedBy.id} via ${event.decidedBy.via}${event.reason ? `: ${event.reason}` : ''}.` : `Approved by ${event.decidedBy.name ?? event.decidedBy.id} via ${event.decidedBy.via}.`;
    return {
      kind: 'commit',
      message: botCommitMessage(subject, event.runId, `${body}\n\n${why}`, target.implicit ? {} : { [ENVIRONMENT_TRAILER]: target.environment }),
      paths: [join(settings.path, target.valuesFile), join(settings.path, 'Chart.yaml')],
      value: { services, superseded: lost, alreadyApplied: false },
    };
  };
  const outcome = await repo.update(prepare);
  const { services, superseded: lost, alreadyApplied } = outcome.value;
  if (!services.length) return supersede(lost, log);
  crashPoint('chart:after-commit-push');
  let commit = outcome.commit;
  if (!outcome.pushed && alreadyApplied) {
    // A redelivery after the push but before the record: find the commit this run made.
    commit = (await repo.findRunCommit(event.runId, (message) => environmentOfCommit(message) === (target.implicit ? undefined : target.environment))) ?? outcome.commit;
    log.info('the chart repo already holds this run\'s images; not committing again', { commit });
  } else {
    log.info('pushed the chart bump', { commit, attempts: outcome.attempts, services });
  }
  const landed: LandedBump = { commit, services, superseded: lost };
  if (!(await deps.ledger.claim(claimKey, landed))) {
    return (await deps.ledger.getClaim<LandedBump>(claimKey))!;
  }
  return landed;
}

function supersede(services: string[], log: Logger): { supersededBy: string[]; outcome: Result } {
  log.warn('superseded: a newer run already deployed every service of this run', { services });
  return { supersededBy: services, outcome: { status: 'superseded', detail: `a newer run already holds ${services.join(', ')}; the chart never moves a service back` } };
}

async function publish(event: ApprovalDecided, settings: ChartSettings, target: Target, landed: LandedBump, deps: ChartBumpDeps, log: Logger): Promise<Result> {
  const published = await deps.chartRepo(settings).withCommit(landed.commit, async (workTree) => {
    const chart = await packageChart(join(workTree, settings.path));
    return { chart, oci: await publishChart(deps.registry(settings), settings.registryPath, chart) };
  });
  const { chart, oci } = published;
  crashPoint('chart:after-registry-push');
  log.info(oci.alreadyPublished ? 'the chart version was already in the registry' : 'published the chart', { environment: target.environment, ociRef: oci.ociRef, manifestDigest: oci.manifestDigest });
  // What the environment runs once this is deployed: its last release, with what landed now.
  const history = (await deps.ledger.environments.get(event.pipeline, target.environment)).history;
  const written = event.images.filter((image) => landed.services.includes(image.service));
  // A rollback puts the environment back to exactly the restored release.
  const images = event.kind === 'rollback' ? [...event.images] : mergeImages(history.at(-1)?.images ?? [], written);
  const deployment: EnvironmentDeployment = {
    environment: target.environment,
    runId: event.runId,
    order: event.order,
    release: releaseDigests(images),
    images,
    at: new Date().toISOString(),
    status: 'in-progress',
    kind: event.kind,
    chartVersion: chart.version,
    chartCommit: landed.commit,
  };
  await deps.ledger.environments.recordDeployment(event.pipeline, deployment);
  const supersededNote = landed.superseded.length ? `; superseded by newer runs: ${landed.superseded.join(', ')}` : '';
  return result.succeeded(`${chart.name} ${chart.version} with ${landed.services.join(', ')}${target.implicit ? '' : ` in ${target.valuesFile}`}${supersededNote}`, {
    environment: target.environment,
    links: { chart: oci.ociRef, manifest: oci.manifestDigest, commit: landed.commit },
    update: (run) => {
      if (run.deployments?.[target.environment]) return false;
      run.deployments = { ...run.deployments, [target.environment]: { images, chartVersion: chart.version } };
      return true;
    },
    emit: [
      {
        topic: 'chart-published',
        key: outboxKey('chart-published', target.environment),
        input: {
          runId: event.runId,
          pipeline: event.pipeline,
          chart: chart.name,
          chartVersion: chart.version,
          ociRef: oci.ociRef,
          manifestDigest: oci.manifestDigest,
          chartCommit: landed.commit,
          // The implicit environment keeps announcing just what changed, as before environments.
          images: target.implicit ? written : images,
          environment: target.environment,
          valuesFile: target.valuesFile,
          kind: event.kind,
        },
      },
    ],
  });
}

/**
 * A rollback's other half: services the environment runs now that the restored release did not
 * set (a later run added them) go back to the pins the values file had at the restored
 * release's chart commit, so the rollback undoes every image since, not just those it knows.
 */
async function restoredBlocks(event: ApprovalDecided, settings: ChartSettings, target: Target, repo: ChartRepo, deps: ChartBumpDeps): Promise<ImageBlock[]> {
  if (event.kind !== 'rollback' || !event.restoreFrom) return [];
  const current = (await deps.ledger.environments.get(event.pipeline, target.environment)).history.at(-1)?.images ?? [];
  const services = current.map((image) => image.service).filter((service) => !event.images.some((image) => image.service === service));
  if (!services.length) return [];
  const values = await repo.withCommit(event.restoreFrom, (workTree) => readFile(join(workTree, settings.path, target.valuesFile), 'utf8'));
  const blocks = imageBlocks(values, services, { imagePath: settings.imagePath, valuesFile: target.valuesFile });
  // They move back too: claimed with the rollback's order, so nothing older lands over them.
  for (const block of blocks) await deps.ledger.advanceDeployed(event.pipeline, block.service, event.order, event.runId, target.environment);
  return blocks;
}

/** An environment's images after a deployment: the earlier ones, with each written service replaced. */
function mergeImages(before: readonly ReleaseImage[], written: readonly ReleaseImage[]): ReleaseImage[] {
  const byService = new Map(before.map((image) => [image.service, image]));
  for (const image of written) byService.set(image.service, image);
  return [...byService.values()].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}

/** The trailer that names a chart commit's environment (none for the implicit one). */
const ENVIRONMENT_TRAILER = 'Baton-Environment';

function environmentOfCommit(message: string): string | undefined {
  return commitTrailer(message, ENVIRONMENT_TRAILER);
}

function commonTagOr(images: readonly ReleaseImage[], fallback: string): string {
  const tags = new Set(images.map((image) => image.tag));
  return tags.size === 1 ? images[0]!.tag : fallback;
}
