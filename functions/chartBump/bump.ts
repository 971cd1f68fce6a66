import { join } from 'node:path';
import type { ChartRepo, PreparedChange } from '../../domain/chart/chartRepo.js';
import { readChartTexts, writeChartTexts } from '../../domain/chart/chartDir.js';
import { applyImagesToChart } from '../../domain/chart/chartEdit.js';
import { ChartYamlError } from '../../domain/chart/chartYaml.js';
import { ImageUpdateError } from '../../domain/chart/imageUpdate.js';
import { ChartVersionConflictError, publishChart } from '../../domain/chart/ociPublish.js';
import { packageChart } from '../../domain/chart/package.js';
import { ValuesPathError } from '../../domain/chart/valuesPath.js';
import { YamlEditError } from '../../domain/chart/yamlEdit.js';
import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import type { ApprovalDecided, BuiltImage } from '../../shared/contracts/index.js';
import { botCommitMessage } from '../../shared/git/botCommit.js';
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
 * chartBump: an approved run's images go into the chart repo (one bot commit) and the packaged
 * chart goes to the OCI registry, then `chart-published` goes out, once.
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

/** What landed in the chart repo for a run; written once, read by redeliveries. */
type LandedBump = { commit: string; services: string[]; superseded: string[] };

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
  if (run?.outbox['chart-published']) return result.none('the chart is already published for this run');
  try {
    const settings = chartSettings(deps.config, pipeline, deps.defaultRegistry);
    const landed = (await deps.ledger.getClaim<LandedBump>(claimKeys.chartCommit(event.runId))) ?? (await land(event, settings, deps, log));
    if ('supersededBy' in landed) return landed.outcome;
    return await publish(event, settings, landed, deps, log);
  } catch (error) {
    if (PERMANENT.some((kind) => error instanceof kind)) throw new PermanentError((error as Error).message, { cause: error });
    throw error; // a config error is permanent already; git remote and registry trouble is transient: the bus retries
  }
}

/** Claims each service for this run; those a newer run already holds are superseded. */
async function claimServices(event: ApprovalDecided, deps: ChartBumpDeps): Promise<{ kept: BuiltImage[]; superseded: string[] }> {
  const kept: BuiltImage[] = [];
  const superseded: string[] = [];
  for (const image of event.images) {
    const { advanced, current } = await deps.ledger.advanceDeployed(event.pipeline, image.service, event.order, event.runId);
    // Orders are unique (they end in the run id), so `current === order` is this run's own earlier claim.
    if (advanced || current === event.order) kept.push(image);
    else superseded.push(image.service);
  }
  return { kept, superseded };
}

async function land(event: ApprovalDecided, settings: ChartSettings, deps: ChartBumpDeps, log: Logger): Promise<LandedBump | { supersededBy: string[]; outcome: Result }> {
  await deps.progress('bumping the chart');
  const { kept, superseded } = await claimServices(event, deps);
  if (!kept.length) return supersede(superseded, log);
  const repo = deps.chartRepo(settings);
  const prepare = async (workTree: string): Promise<PreparedChange<AttemptValue>> => {
    // A newer run may have claimed a service since the last attempt: it must land last.
    const stillOurs = await Promise.all(kept.map(async (image) => (await deps.ledger.deployed(event.pipeline, image.service))?.order === event.order));
    const images = kept.filter((_, index) => stillOurs[index]);
    const lost = [...superseded, ...kept.filter((_, index) => !stillOurs[index]).map((image) => image.service)];
    const services = images.map((image) => image.service);
    if (!images.length) return { kind: 'none', value: { services, superseded: lost, alreadyApplied: false } };
    const chartDir = join(workTree, settings.path);
    const result = applyImagesToChart(await readChartTexts(chartDir, settings.valuesFile), images, {
      valuesFile: settings.valuesFile,
      imagePath: settings.imagePath,
      appVersion: commonTagOr(images, event.sha.slice(0, 7)),
    });
    if (!result.changed) return { kind: 'none', value: { services, superseded: lost, alreadyApplied: true } };
    await writeChartTexts(chartDir, result.texts, settings.valuesFile);
    const subject = `chart: ${result.chart} ${result.version}: ${services.join(', ')} to ${commonTagOr(images, event.sha.slice(0, 7))}`;
    const body = images.map((image) => `${image.service}: ${image.repository}:${image.tag}@${image.digest}`).join('\n');
    return {
      kind: 'commit',
      message: botCommitMessage(subject, event.runId, `${body}\n\nApproved by ${event.decidedBy.name ?? event.decidedBy.id} via ${event.decidedBy.via}.`),
      paths: [join(settings.path, settings.valuesFile), join(settings.path, 'Chart.yaml')],
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
    commit = (await repo.findRunCommit(event.runId)) ?? outcome.commit;
    log.info('the chart repo already holds this run\'s images; not committing again', { commit });
  } else {
    log.info('pushed the chart bump', { commit, attempts: outcome.attempts, services });
  }
  const landed: LandedBump = { commit, services, superseded: lost };
  if (!(await deps.ledger.claim(claimKeys.chartCommit(event.runId), landed))) {
    return (await deps.ledger.getClaim<LandedBump>(claimKeys.chartCommit(event.runId)))!;
  }
  return landed;
}

function supersede(services: string[], log: Logger): { supersededBy: string[]; outcome: Result } {
  log.warn('superseded: a newer run already deployed every service of this run', { services });
  return { supersededBy: services, outcome: { status: 'superseded', detail: `a newer run already holds ${services.join(', ')}; the chart never moves a service back` } };
}

async function publish(event: ApprovalDecided, settings: ChartSettings, landed: LandedBump, deps: ChartBumpDeps, log: Logger): Promise<Result> {
  const published = await deps.chartRepo(settings).withCommit(landed.commit, async (workTree) => {
    const chart = await packageChart(join(workTree, settings.path));
    return { chart, oci: await publishChart(deps.registry(settings), settings.registryPath, chart) };
  });
  const { chart, oci } = published;
  crashPoint('chart:after-registry-push');
  log.info(oci.alreadyPublished ? 'the chart version was already in the registry' : 'published the chart', { ociRef: oci.ociRef, manifestDigest: oci.manifestDigest });
  const supersededNote = landed.superseded.length ? `; superseded by newer runs: ${landed.superseded.join(', ')}` : '';
  return result.succeeded(`${chart.name} ${chart.version} with ${landed.services.join(', ')}${supersededNote}`, {
    links: { chart: oci.ociRef, manifest: oci.manifestDigest, commit: landed.commit },
    emit: [
      {
        topic: 'chart-published',
        input: {
          runId: event.runId,
          pipeline: event.pipeline,
          chart: chart.name,
          chartVersion: chart.version,
          ociRef: oci.ociRef,
          manifestDigest: oci.manifestDigest,
          chartCommit: landed.commit,
          images: event.images.filter((image) => landed.services.includes(image.service)),
        },
      },
    ],
  });
}

function commonTagOr(images: readonly BuiltImage[], fallback: string): string {
  const tags = new Set(images.map((image) => image.tag));
  return tags.size === 1 ? images[0]!.tag : fallback;
}
