import { z } from 'zod';
import { IMPLICIT_ENVIRONMENT } from './implicitEnvironment.js';

/** A git object id: 40 hex characters (SHA-1) or 64 (SHA-256 repositories). */
export const Sha = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a full git commit sha');

/** An OCI content digest, `sha256:<64 hex>`. */
export const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');

/** The all-zero sha git hosts send as `before` for a new branch and `after` for a deleted one. */
export const ZERO_SHA = '0000000000000000000000000000000000000000';

/**
 * The fields every message baton publishes carries in its JSON data (DESIGN.md, "Topics").
 * `type` repeats the topic so a message read from a dead-letter topic still says what it is.
 */
export function envelope<T extends string>(type: T, version: number) {
  return z.object({
    /** The topic name. */
    type: z.literal(type),
    /** Schema version of this topic's data; bumped on an incompatible change. */
    version: z.literal(version),
    /** The run this message belongs to: one push, one run. */
    runId: z.string().min(1),
    /** When the publisher produced the message (ISO-8601). */
    at: z.iso.datetime({ offset: true }),
  });
}

/** The image one service's build produced. */
export const BuiltImage = z.object({
  /** Service name, as in the pipeline config. */
  service: z.string().min(1),
  /** Image repository without tag or digest, e.g. `europe-west1-docker.pkg.dev/p/boutique/frontend`. */
  repository: z.string().min(1),
  /** Human-readable tag: the short commit sha. */
  tag: z.string().min(1),
  /** Content digest the registry holds for the tag; what the chart pins. */
  digest: Digest,
});
export type BuiltImage = z.infer<typeof BuiltImage>;

/** The name of the one environment of a pipeline without `environments` (the ledger's stages keep their plain names there). */
export { IMPLICIT_ENVIRONMENT };

/** The environment an event is about; messages from before environments existed are the implicit one's. */
export const EnvironmentName = z.string().min(1).default(IMPLICIT_ENVIRONMENT);

/**
 * Where a run stands in its pipeline's order of receipt: the ISO-8601 time intake accepted the
 * push, then the run id as a tiebreak, so plain string comparison orders runs. It replaces a
 * per-pipeline counter, which every intake would have had to write (one hot document).
 */
export const RunOrder = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z~.+$/, 'expected <ISO-8601 UTC time>~<runId>');
export type RunOrder = z.infer<typeof RunOrder>;

/**
 * One service of a release: the image, and the run that built it. A run's release is what it
 * built plus what it kept from the environment's previous release; the builder's order is what
 * keeps an environment from moving a service back to an older build (domain/environments).
 */
export const ReleaseImage = BuiltImage.extend({
  /** The run that built the image; absent when it is the run the event is about. */
  builtBy: z.object({ runId: z.string().min(1), order: RunOrder }).optional(),
});
export type ReleaseImage = z.infer<typeof ReleaseImage>;

/** Why a release goes to an environment: its run's promotion, or a rollback to an earlier release. */
export const DeployKind = z.enum(['promotion', 'rollback']).default('promotion');

/** What a Terraform plan would do: the counts `terraform plan` prints (a replacement is one add and one destroy). */
export const PlanSummary = z.object({
  add: z.number().int().nonnegative(),
  change: z.number().int().nonnegative(),
  destroy: z.number().int().nonnegative(),
  /** Addresses of the resources the plan destroys (at most 40). */
  destroyed: z.array(z.string()),
});
export type PlanSummary = z.infer<typeof PlanSummary>;

/** A Terraform run's saved plan: what its approval is bound to and what the apply runs, byte for byte. */
export const SavedPlan = z.object({
  /** Root module directory inside the repository. */
  dir: z.string(),
  /** Where the plan file is kept, `gs://<bucket>/<runId>/tfplan`. */
  location: z.string().regex(/^gs:\/\//, 'expected a gs:// location'),
  /** SHA-256 (hex) of the plan file. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex characters'),
  summary: PlanSummary,
});
export type SavedPlan = z.infer<typeof SavedPlan>;
