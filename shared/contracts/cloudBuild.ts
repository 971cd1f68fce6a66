import { z } from 'zod';

/**
 * Cloud Build's own notification on the `cloud-builds` topic: `data` is the Build resource as
 * JSON, the attributes are `buildId` and `status` (Cloud Build docs, "Subscribing to build notifications"). Only the fields baton
 * reads are declared; the rest pass through untouched, since Google adds fields over time.
 */
export const BUILD_STATUSES = [
  'STATUS_UNKNOWN',
  'PENDING',
  'QUEUED',
  'WORKING',
  'SUCCESS',
  'FAILURE',
  'INTERNAL_ERROR',
  'TIMEOUT',
  'CANCELLED',
  'EXPIRED',
] as const;
export const BuildStatus = z.enum(BUILD_STATUSES);
export type BuildStatus = z.infer<typeof BuildStatus>;

export const TERMINAL_BUILD_STATUSES = ['SUCCESS', 'FAILURE', 'INTERNAL_ERROR', 'TIMEOUT', 'CANCELLED', 'EXPIRED'] as const;
export type TerminalBuildStatus = (typeof TERMINAL_BUILD_STATUSES)[number];
export function isTerminal(status: BuildStatus): status is TerminalBuildStatus {
  return (TERMINAL_BUILD_STATUSES as readonly string[]).includes(status);
}

export const CloudBuildNotification = z.looseObject({
  /** Build id (a UUID). */
  id: z.string().min(1),
  /** Project the build ran in. */
  projectId: z.string().optional(),
  /** Current state; a message is sent on every change. */
  status: BuildStatus,
  /** Human-readable reason for a failure or timeout. */
  statusDetail: z.string().optional(),
  /** Free-form tags; baton sets `baton`, `run-<runId>` and `svc-<service>`. */
  tags: z.array(z.string()).optional(),
  /** Substitutions; baton's are `_BATON_RUN_ID`, `_BATON_SERVICE`, `_BATON_PIPELINE`. */
  substitutions: z.record(z.string(), z.string()).optional(),
  /** Images the build was asked to push (`repo:tag`). */
  images: z.array(z.string()).optional(),
  /** What the build produced; `images[].digest` is the pushed manifest digest. */
  results: z
    .looseObject({
      images: z.array(z.looseObject({ name: z.string(), digest: z.string() })).optional(),
      /** Per step, what the step wrote to `$BUILDER_OUTPUT/output` (base64; empty for most steps). */
      buildStepOutputs: z.array(z.string()).optional(),
    })
    .optional(),
  /** Link to the build's logs in the console. */
  logUrl: z.string().optional(),
  createTime: z.string().optional(),
  startTime: z.string().optional(),
  finishTime: z.string().optional(),
  /** Set on FAILURE: the failure type and detail. */
  failureInfo: z.looseObject({ type: z.string().optional(), detail: z.string().optional() }).optional(),
});
export type CloudBuildNotification = z.infer<typeof CloudBuildNotification>;
