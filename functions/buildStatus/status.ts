import type { BuiltImage, CloudBuildNotification, SavedPlan, TerminalBuildStatus } from '../../shared/contracts/index.js';
import { Sha, TERMINAL_BUILD_STATUSES, isTerminal } from '../../shared/contracts/index.js';
import type { BuildRecord } from '../../shared/ledger/builds.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import type { RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import { parseReference } from '../../shared/oci/reference.js';
import { readPlanReport } from '../../shared/runtime/builders/planReport.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { result } from '../../shared/stage/outcome.js';

/** The registry call buildStatus needs: the digest the registry holds for a tag or digest. */
export type RegistryLookup = { manifestDigest(repository: string, reference: string): Promise<string | undefined> };

export type BuildStatusDeps = {
  ledger: RunLedger;
  log: Logger;
  /** A registry client for an image host (Artifact Registry with the service account's token, or the local registry). */
  registryFor: (host: string) => RegistryLookup;
  /** Deliveries during which a registry that does not (yet) hold the digest is retried. Default 3. */
  confirmAttempts?: number;
};

const SUCCESS = 'SUCCESS';

/**
 * buildStatus: turns Cloud Build's notifications of image builds and Terraform plans into
 * `build-finished`, once per build.
 *
 * Non-terminal states only refresh the run's record of the build. Builds baton did not start (no
 * ledger record and no `_BATON_RUN_ID` substitution) are ignored, as are builds a later start
 * replaced, and applies (terraformApply reads those). On SUCCESS an image's digest is confirmed
 * in the registry before anything is said; a registry that does not hold it is retried, then
 * reported as INTERNAL_ERROR. When every service of the run has ended, so has the build stage.
 */
export async function handleBuildNotification(build: CloudBuildNotification, delivery: { deliveryAttempt: number }, deps: BuildStatusDeps): Promise<Outcome<'build-finished'>> {
  const record = await buildRecordFor(build, deps.ledger);
  if (!record) return result.none(`ignored build ${build.id}: baton did not start it`);
  if (record.kind === 'terraform-apply') return result.none(`build ${build.id} is an apply; terraformApply reads it`);
  const log = deps.log.child({ stage: 'buildStatus', runId: record.runId, pipeline: record.pipeline, service: record.service, buildId: build.id });

  const current = await deps.ledger.getClaim<{ buildId?: string }>(claimKeys.buildStart(record.runId, record.service, record.kind));
  if (current?.buildId && current.buildId !== build.id) {
    log.info('ignored a build that a later start replaced', { current: current.buildId, status: build.status });
    return result.none('a later start replaced this build');
  }

  if (!isTerminal(build.status)) {
    return result.none(`build is ${build.status}`, {
      runId: record.runId,
      update: (run) => {
        const entry = run.builds[record.service];
        if (!entry || entry.buildId !== build.id || isTerminalName(entry.status) || entry.status === build.status) return false;
        run.builds[record.service] = { ...entry, status: build.status };
        return true;
      },
    });
  }

  let status: TerminalBuildStatus = build.status;
  let detail = describeFailure(build);
  let image: BuiltImage | undefined;
  let plan: SavedPlan | undefined;
  if (status === SUCCESS && record.kind === 'terraform-plan') {
    const report = readPlanReport(build);
    if (report) plan = { dir: record.service, location: report.location, sha256: report.planSha256, summary: { add: report.add, change: report.change, destroy: report.destroy, destroyed: report.destroyed } };
    else {
      status = 'INTERNAL_ERROR';
      detail = 'the plan build did not report its plan (no output from its report step)';
    }
  }
  if (status === SUCCESS && record.kind === 'image') {
    try {
      image = await confirmImage(build, record, deps);
    } catch (error) {
      if (delivery.deliveryAttempt < (deps.confirmAttempts ?? 3)) {
        log.warn('could not confirm the image in the registry yet; retrying', { error, deliveryAttempt: delivery.deliveryAttempt });
        throw error;
      }
      status = 'INTERNAL_ERROR';
      detail = `the build succeeded but the registry does not confirm its image: ${(error as Error).message}`;
      log.error('gave up confirming the image; reporting the build as failed', { detail });
    }
  }
  const logUrl = build.logUrl ?? record.logUrl;
  log.info('build finished', { status, digest: image?.digest, planSha256: plan?.sha256 });
  return {
    runId: record.runId,
    update: (run) => {
      const existing = run.builds[record.service];
      // A service's first terminal result stands (a duplicate or reordered notification changes nothing).
      if (existing && existing.buildId === build.id && isTerminalName(existing.status)) return false;
      run.builds[record.service] = {
        buildId: build.id,
        status,
        ...(image ? { image: { repository: image.repository, tag: image.tag, digest: image.digest } } : {}),
        ...(plan ? { plan } : {}),
        ...(logUrl ? { logUrl } : {}),
        ...(detail ? { detail } : {}),
      };
      return true;
    },
    settle: buildStageOf,
    emit: [
      {
        topic: 'build-finished',
        key: `build-finished:${record.service}:${build.id}`,
        input: {
          runId: record.runId,
          pipeline: record.pipeline,
          service: record.service,
          buildId: build.id,
          status,
          sha: record.sha,
          ...(image ? { image } : {}),
          ...(plan ? { plan } : {}),
          ...(logUrl ? { logUrl } : {}),
          ...(detail ? { detail } : {}),
        },
      },
    ],
  };
}

/** When every service of the run has a terminal build, the build stage ends: succeeded only if all succeeded. */
export function buildStageOf(run: RunRecord): { status: 'succeeded' | 'failed'; detail: string } | undefined {
  const services = run.services.length > 0 ? run.services : Object.keys(run.builds);
  const builds = services.map((service) => [service, run.builds[service]] as const);
  if (builds.some(([, build]) => !build || !isTerminalName(build.status))) return undefined;
  const failed = builds.filter(([, build]) => build!.status !== SUCCESS);
  return failed.length === 0
    ? { status: 'succeeded', detail: `built ${services.join(', ')}` }
    : { status: 'failed', detail: failed.map(([service, build]) => `${service}: ${build!.status}${build!.detail ? ` (${build!.detail})` : ''}`).join('; ') };
}

/** The ledger's record of the build, or one rebuilt from the notification's substitutions. */
async function buildRecordFor(build: CloudBuildNotification, ledger: RunLedger): Promise<BuildRecord | undefined> {
  const stored = await ledger.builds.get(build.id);
  if (stored) return stored;
  const subs = build.substitutions ?? {};
  const runId = subs._BATON_RUN_ID;
  const service = subs._BATON_SERVICE;
  const pipeline = subs._BATON_PIPELINE;
  const sha = subs._BATON_SHA;
  if (!runId || !service || !pipeline || !sha || !Sha.safeParse(sha).success) return undefined;
  const image = build.images?.[0];
  const parsed = image ? safeParse(image) : undefined;
  return {
    buildId: build.id,
    runId,
    pipeline,
    service,
    sha,
    kind: subs._BATON_KIND === 'terraform-apply' ? 'terraform-apply' : image ? 'image' : 'terraform-plan',
    ...(parsed ? { repository: `${parsed.host}/${parsed.repository}`, ...(parsed.tag ? { tag: parsed.tag } : {}) } : {}),
    ...(build.logUrl ? { logUrl: build.logUrl } : {}),
    startedAt: build.createTime ?? new Date().toISOString(),
  };
}

/** The pushed image: digest from the build's results, confirmed by the registry holding it. */
async function confirmImage(build: CloudBuildNotification, record: BuildRecord, deps: BuildStatusDeps): Promise<BuiltImage> {
  const name = build.images?.[0] ?? (record.repository && record.tag ? `${record.repository}:${record.tag}` : undefined);
  if (!name) throw new Error('the build names no image');
  const { host, repository, tag } = parseReference(name);
  const fullRepository = `${host}/${repository}`;
  if (!tag) throw new Error(`the image ${name} has no tag`);
  const found = build.results?.images?.find((entry) => entry.name === name || withoutTag(entry.name) === fullRepository);
  const registry = deps.registryFor(host);
  let digest = found?.digest;
  if (digest) {
    // By digest, not tag: another run of the same commit may have re-pushed the tag since.
    const held = await registry.manifestDigest(repository, digest);
    if (held !== digest) throw new Error(`${fullRepository}@${digest} is not in the registry`);
  } else {
    digest = await registry.manifestDigest(repository, tag);
    if (!digest) throw new Error(`${name} is not in the registry`);
  }
  return { service: record.service, repository: fullRepository, tag, digest };
}

function describeFailure(build: CloudBuildNotification): string | undefined {
  if (build.status === SUCCESS) return undefined;
  const reason = build.failureInfo?.detail ?? build.statusDetail;
  return reason ? `${build.status}: ${reason}` : build.status;
}

export function isTerminalName(status: string): boolean {
  return (TERMINAL_BUILD_STATUSES as readonly string[]).includes(status);
}

function withoutTag(name: string): string {
  const at = name.split('@')[0]!;
  const slash = at.lastIndexOf('/');
  const colon = at.lastIndexOf(':');
  return colon > slash ? at.slice(0, colon) : at;
}

function safeParse(reference: string) {
  try {
    return parseReference(reference);
  } catch {
    return undefined;
  }
}
