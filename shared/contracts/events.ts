import { z } from 'zod';
import { BuiltImage, DeployKind, EnvironmentName, ReleaseImage, RunOrder, SavedPlan, Sha, envelope } from './envelope.js';
import { TERMINAL_BUILD_STATUSES } from './cloudBuild.js';

/**
 * baton's own event contracts, one schema per topic (DESIGN.md "Topics"). Each type is inferred
 * from its schema; consumers validate with the schema before acting. Fields that later stages
 * only display are optional so that an older producer does not break a newer consumer.
 */

/** Who did something: a git pusher or commit author, as the git host reports them. */
export const Person = z.object({
  /** Display name. */
  name: z.string(),
  /** E-mail, when the host sends one. */
  email: z.string().optional(),
  /** Login on the git host, when known. */
  username: z.string().optional(),
});
export type Person = z.infer<typeof Person>;

/** One commit of a push, as the webhook lists it. */
export const PushedCommit = z.object({
  /** Commit sha. */
  id: Sha,
  /** Full commit message. */
  message: z.string(),
  /** Commit author. */
  author: Person,
  /** Commit time (ISO-8601), when sent. */
  timestamp: z.string().optional(),
  /** Link to the commit on the git host. */
  url: z.string().optional(),
  /** Paths the commit added, modified and removed. */
  added: z.array(z.string()),
  modified: z.array(z.string()),
  removed: z.array(z.string()),
});
export type PushedCommit = z.infer<typeof PushedCommit>;

/** Why intake could not tell the affected services from the payload alone. */
export const UnresolvedReason = z.enum(['truncated', 'forced', 'created']);

/** `push-received`: a verified push that a pipeline lists; the start of a run. */
export const PushReceived = envelope('push-received', 2).extend({
  /** Name of the pipeline (config `pipelines[].name`) the push belongs to. */
  pipeline: z.string(),
  /** Pipeline kind: an application build, or a Terraform plan/apply. */
  kind: z.enum(['app', 'terraform']),
  /** Which git host sent the webhook. */
  provider: z.enum(['github', 'gitlab']),
  /** The host's delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`). */
  deliveryId: z.string(),
  /** `owner/name` (GitHub) or `group/project` (GitLab). */
  repository: z.string(),
  /** URL the pushed commits can be fetched from. */
  cloneUrl: z.string(),
  /** Full ref, e.g. `refs/heads/main`. */
  ref: z.string(),
  /** Branch (or tag) name without the `refs/heads/` prefix. */
  branch: z.string(),
  /** Sha the ref pointed at before the push; all zeros for a new branch. */
  before: Sha,
  /** Sha the ref points at after the push: what gets built. */
  after: Sha,
  /** The push rewrote history (force push). */
  forced: z.boolean(),
  /** The push created the ref. */
  created: z.boolean(),
  /** Who pushed. */
  pusher: Person,
  /** The pushed commits as the payload lists them (GitHub caps the list at 20). */
  commits: z.array(PushedCommit),
  /** Every path the listed commits touched, de-duplicated. */
  changedPaths: z.array(z.string()),
  /** Services whose path a changed path starts with. Meaningful only when `servicesResolved`. */
  services: z.array(z.string()),
  /** False when the payload cannot tell (see `unresolvedReason`): the mirror stage diffs in git. */
  servicesResolved: z.boolean(),
  /** Why the services are unresolved. */
  unresolvedReason: UnresolvedReason.optional(),
  /** Compare view on the git host, for people. */
  compareUrl: z.string().optional(),
  /** The run's place in its pipeline's order of receipt; orders deploys. */
  order: RunOrder,
});
export type PushReceived = z.infer<typeof PushReceived>;

/** `source-mirrored`: the exact pushed commit is in the backup remote; builds read from there. */
export const SourceMirrored = envelope('source-mirrored', 2).extend({
  /** Pipeline name. */
  pipeline: z.string(),
  /** Pipeline kind. */
  kind: z.enum(['app', 'terraform']),
  /** Source repository name, as in the push. */
  repository: z.string(),
  /** Full ref that was mirrored. */
  ref: z.string(),
  /** Exact mirrored commit: what every build of the run checks out. */
  sha: Sha,
  /** Sha before the push (all zeros for a new branch). */
  before: Sha,
  /** Backup remote URL, credentials stripped. */
  mirrorUrl: z.string(),
  /** Services to build, from the push or worked out from `git diff before..sha`. */
  services: z.array(z.string()),
  /** Run order (copied from `push-received`). */
  order: RunOrder,
});
export type SourceMirrored = z.infer<typeof SourceMirrored>;

/** One build that was started. */
export const StartedBuild = z.object({
  /** Service being built. */
  service: z.string(),
  /** Builder's build id (Cloud Build's UUID, or the local builder's). */
  buildId: z.string(),
  /** Image reference being produced, `repository:tag`. */
  image: z.string(),
  /** Link to the build logs. */
  logUrl: z.string().optional(),
});

/** `build-started`: one build per affected service is under way. */
export const BuildStarted = envelope('build-started', 1).extend({
  /** Pipeline name. */
  pipeline: z.string(),
  /** Commit being built. */
  sha: Sha,
  /** The builds, one per service. */
  builds: z.array(StartedBuild).min(1),
});
export type BuildStarted = z.infer<typeof BuildStarted>;

/** `build-finished`: one service's build reached a terminal state. */
export const BuildFinished = envelope('build-finished', 2).extend({
  /** Pipeline name. */
  pipeline: z.string(),
  /** Service that was built. */
  service: z.string(),
  /** Builder's build id. */
  buildId: z.string(),
  /** Terminal Cloud Build status. */
  status: z.enum(TERMINAL_BUILD_STATUSES),
  /** Commit that was built. */
  sha: Sha,
  /** Image builds only: the pushed image, confirmed in the registry; present exactly when status is SUCCESS. */
  image: BuiltImage.optional(),
  /** Link to the build logs. */
  logUrl: z.string().optional(),
  /** Why it failed, timed out or was cancelled. */
  detail: z.string().optional(),
  /** Terraform plan builds only: the saved plan, present exactly when status is SUCCESS. */
  plan: SavedPlan.optional(),
});
export type BuildFinished = z.infer<typeof BuildFinished>;

/** `approval-requested`: the Slack approval message is out. */
export const ApprovalRequested = envelope('approval-requested', 2).extend({
  /** Pipeline name. */
  pipeline: z.string(),
  /** Slack channel id the message went to. */
  channel: z.string(),
  /** Slack message timestamp (its id within the channel). */
  ts: z.string(),
  /** The images the approval covers, with the digests shown (none for a Terraform run). */
  images: z.array(BuiltImage),
  /** Terraform runs: the saved plan the approval covers. */
  plan: SavedPlan.optional(),
  /** When the request expires undecided (ISO-8601). */
  expiresAt: z.iso.datetime({ offset: true }),
  /** The environment the approval would deploy to. */
  environment: EnvironmentName,
}).refine((event) => event.images.length > 0 || event.plan !== undefined, 'an approval covers at least one image or a plan');
export type ApprovalRequested = z.infer<typeof ApprovalRequested>;

/** Who decided, and through which channel. */
export const Decider = z.object({
  /** Stable identity: a Slack user id, a Jenkins user id, or a local user name. */
  id: z.string().min(1),
  /** Display name, when known. */
  name: z.string().optional(),
  /** Where the decision was made. */
  via: z.enum(['slack', 'cli', 'jenkins', 'system']),
});
export type Decider = z.infer<typeof Decider>;

/**
 * `approval-decided`: a release may go to an environment (`approved`), or may not. Exactly one
 * per run and environment. An `auto` environment's promotion and a rollback are approved ones
 * too (`decidedBy.via: system` for automation), so chartBump has one trigger.
 */
export const ApprovalDecided = envelope('approval-decided', 2).extend({
  /** Pipeline name. */
  pipeline: z.string(),
  /** The decision. Only `approved` deploys. */
  decision: z.enum(['approved', 'rejected', 'expired']),
  /** Who decided. */
  decidedBy: Decider,
  /** The exact release (digests) the decision is bound to (none for a Terraform run). */
  images: z.array(ReleaseImage),
  /** Terraform runs: the exact saved plan the decision is bound to. */
  plan: SavedPlan.optional(),
  /** Commit the images were built from. */
  sha: Sha,
  /** Run order, so the chart never moves a service backwards. */
  order: RunOrder,
  /** Free-text reason, e.g. for a rejection. */
  reason: z.string().optional(),
  /** The environment the release goes to. */
  environment: EnvironmentName,
  /** A promotion of the run's release, or a rollback run restoring an earlier one (which may move services back). */
  kind: DeployKind,
  /** A rollback: the chart commit of the release it restores, whose image pins it writes back for services that release did not set. */
  restoreFrom: Sha.optional(),
}).refine((event) => event.images.length > 0 || event.plan !== undefined, 'a decision covers at least one image or a plan');
export type ApprovalDecided = z.infer<typeof ApprovalDecided>;

/** `chart-published`: the chart repo has the new images and the packaged chart is in the OCI registry. */
export const ChartPublished = envelope('chart-published', 1).extend({
  /** Pipeline name. */
  pipeline: z.string(),
  /** Chart name (`Chart.yaml` name). */
  chart: z.string(),
  /** New chart version (also the OCI tag). Named apart from the envelope's schema `version`. */
  chartVersion: z.string(),
  /** OCI reference, `oci://host/path/chart:version`. */
  ociRef: z.string(),
  /** Digest of the chart's OCI manifest. */
  manifestDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** Chart-repo commit that carries the bump. */
  chartCommit: Sha,
  /** The images now in the chart: what the environment must run once deployed. */
  images: z.array(ReleaseImage).min(1),
  /** The environment whose values file the chart commit changed. */
  environment: EnvironmentName,
  /** The values file (in the chart directory) the environment is deployed from. */
  valuesFile: z.string().optional(),
  kind: DeployKind,
});
export type ChartPublished = z.infer<typeof ChartPublished>;

/** `deploy-finished`: Argo CD's verdict on the new chart, or why it was not asked. */
export const DeployFinished = envelope('deploy-finished', 1).extend({
  /** Pipeline name. */
  pipeline: z.string(),
  /**
   * synced: Synced and Healthy; degraded; timeout; failed: the API call failed; skipped: no Argo
   * CD configured; superseded: a newer release of the environment took over before this one ran.
   */
  status: z.enum(['synced', 'degraded', 'timeout', 'failed', 'skipped', 'superseded']),
  /** Argo CD Application name. */
  application: z.string().optional(),
  /** Revision (chart version) Argo CD synced to. */
  revision: z.string().optional(),
  /** Why: the reason for skipped, degraded, timeout or failed. */
  reason: z.string().optional(),
  environment: EnvironmentName,
  /** The release now live in the environment (what verification checks). */
  images: z.array(ReleaseImage).default([]),
  kind: DeployKind,
});
export type DeployFinished = z.infer<typeof DeployFinished>;

/** One verification check's verdict, as `baton status --json` and Slack show it. */
export const CheckVerdict = z.object({
  name: z.string(),
  /** The value that decided it (the failing one), or null when there was none. */
  value: z.number().nullable(),
  ok: z.boolean(),
  /** Per-service checks: the service evaluated. */
  service: z.string().optional(),
  /** Why it failed: `above max 0.05: 0.21`, `no-data: …`, `prometheus-unreachable: …`, `query-error: …`. */
  reason: z.string().optional(),
});
export type CheckVerdict = z.infer<typeof CheckVerdict>;

/** `release-verified`: an environment's verification of a run's release ended. */
export const ReleaseVerified = envelope('release-verified', 1).extend({
  pipeline: z.string(),
  environment: EnvironmentName,
  /** passed: every check held for the whole window; failed: one did not (the environment is rolled back); superseded: a newer release or a rollback took over. */
  verdict: z.enum(['passed', 'failed', 'superseded']),
  checks: z.array(CheckVerdict),
  reason: z.string().optional(),
  /** The rollback run that restores the previous release, when verification failed and there was one. */
  rollbackRunId: z.string().optional(),
});
export type ReleaseVerified = z.infer<typeof ReleaseVerified>;

/** `promotion-requested`: look again at where a run's promotion stands (an environment was released from hold; `baton promote`). */
export const PromotionRequested = envelope('promotion-requested', 1).extend({
  pipeline: z.string(),
  environment: z.string().optional(),
  /** Who asked and why, for the log. */
  reason: z.string(),
});
export type PromotionRequested = z.infer<typeof PromotionRequested>;
/**
 * `run-finished`: the run has ended, however it ended (a stage failed, the last delivery attempt
 * gave up, the reconciler failed it past a limit, `skipRest`, an approval rejected or expired,
 * `baton cancel`, or the last stage succeeded). Exactly one per run: the write that ends the run puts it in the
 * run's outbox (`shared/ledger/runRecord.ts`), so reporters learn of every end in one place.
 */
export const RunFinished = envelope('run-finished', 1).extend({
  /** Pipeline name. */
  pipeline: z.string(),
  /** How the run ended: the ledger's run status, never `running`. */
  status: z.enum(['succeeded', 'failed', 'rejected', 'expired', 'superseded', 'rolled-back', 'canceled']),
  /** Why a run ended without succeeding (`baton status` shows the same line). */
  reason: z.string().optional(),
  /** The run's place in its pipeline's order, when the run has one in `RunOrder` form. */
  order: RunOrder.optional(),
});
export type RunFinished = z.infer<typeof RunFinished>;
