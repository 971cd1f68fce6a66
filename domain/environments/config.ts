import { z } from 'zod';
import { queryProblem } from '../verify/promql.js';
import { MAX_VERIFY_SECONDS, parseDuration } from './resolve.js';

/**
 * `pipelines[].environments`: the ordered list of environments a run's release goes through
 * (issue #15). The pipeline schema takes it as `environments: EnvironmentsConfig.optional()`.
 *
 * ```yaml
 * environments:
 *   - name: staging
 *     promotion: auto                  # or approval
 *     argocd: { application: shop-staging }
 *     values: values-staging.yaml      # in the chart directory; it pins this environment's release
 *     verify:
 *       prometheus: { url: http://prometheus.monitoring:9090 }   # default PROMETHEUS_URL
 *       for: 2m                        # how long to watch once the deploy is healthy
 *       checks:
 *         - name: error-ratio
 *           query: sum(rate(http_requests_total{code=~"5..",digest="$digest"}[1m])) / sum(rate(http_requests_total{digest="$digest"}[1m]))
 *           max: 0.05
 *   - name: production
 *     promotion: approval
 *     approval: { approvers: [U123], channel: C456, ttlSeconds: 3600 }   # default: the pipeline's approval
 *     argocd: { application: shop-prod }
 *     values: values-production.yaml
 * ```
 *
 * Every object is strict: an unknown key (a typo such as `promtion`) is refused with its
 * path. The schema's own refinement adds what one entry cannot see alone (duplicate names,
 * values files or applications shared by two environments) and refuses any query that
 * `@prometheus-io/lezer-promql` does not parse, so `parseConfig` reports it at load time as
 * `pipelines[0].environments[1].verify.checks[0].query: …`. Query variables: see
 * `domain/verify/promql.ts`.
 */

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const CHECK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const Duration = z.string().refine((text) => parseDuration(text) !== undefined, 'a duration such as 30s, 2m or 1h30m');

const HttpUrl = z.string().refine((text) => {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}, 'an http:// or https:// URL');

/** A values file inside the chart directory: relative, and not climbing out of it. */
const ValuesFile = z
  .string()
  .min(1)
  .refine((path) => !path.startsWith('/') && !path.split('/').includes('..'), 'a path inside the chart directory (relative, without "..")')
  .refine((path) => /\.ya?ml$/.test(path), 'a .yaml or .yml file');

export const VerifyCheckConfig = z
  .strictObject({
    /** Shown in Slack and in the run's `--json` summary. Unique within the environment. */
    name: z.string().regex(CHECK_NAME, 'letters, digits, ".", "_" and "-", at most 63'),
    /** PromQL for `/api/v1/query`, with the variables of `domain/verify/promql.ts`. */
    query: z.string(),
    /** The check fails when a value is above this. */
    max: z.number().optional(),
    /** The check fails when a value is below this. */
    min: z.number().optional(),
  })
  .superRefine((check, ctx) => {
    if ((check.max === undefined) === (check.min === undefined)) ctx.addIssue({ code: 'custom', message: 'set exactly one of max or min', path: [] });
    const problem = queryProblem(check.query);
    if (problem) ctx.addIssue({ code: 'custom', message: `query ${problem}`, path: ['query'] });
  });

export const VerifyConfig = z.strictObject({
  prometheus: z
    .strictObject({
      /** Base URL of the Prometheus HTTP API (`/api/v1/query` is appended). In production, Managed Prometheus: `https://monitoring.googleapis.com/v1/projects/PROJECT/location/global/prometheus`. */
      url: HttpUrl,
    })
    .optional(),
  /** How long to watch after the deploy is healthy, e.g. `60s`. `0s` evaluates once. */
  for: Duration.refine((text) => (parseDuration(text) ?? 0) <= MAX_VERIFY_SECONDS, `at most ${MAX_VERIFY_SECONDS / 3600}h`),
  checks: z.array(VerifyCheckConfig).min(1, 'at least one check'),
});

export const EnvironmentApprovalConfig = z.strictObject({
  /** Who may approve a promotion into this environment (same form as `approval.approvers`). */
  approvers: z.array(z.string().min(1)).min(1).optional(),
  /** Slack channel id of the approval request. */
  channel: z.string().min(1).optional(),
  /** How long the request stays open, in seconds. */
  ttlSeconds: z.number().int().positive().optional(),
  allowSelfApproval: z.boolean().optional(),
});

export const EnvironmentConfig = z.strictObject({
  /** Lower-case letters, digits and dashes: it is a CLI argument (`--env`) and a JSON key. */
  name: z.string().regex(NAME, 'lower-case letters, digits and dashes, at most 63, starting and ending with a letter or digit'),
  /** `auto`: promoted as soon as the previous environment succeeded; `approval`: after an approval bound to the release and this environment. */
  promotion: z.enum(['auto', 'approval']),
  /** Only for `promotion: approval`. Each key defaults to the pipeline's `approval`. */
  approval: EnvironmentApprovalConfig.optional(),
  argocd: z.strictObject({ application: z.string().min(1) }),
  /** The environment's values file in the chart directory; the chart commit pins the release there. */
  values: ValuesFile,
  verify: VerifyConfig.optional(),
});

type EnvironmentShape = z.infer<typeof EnvironmentConfig>;

/** A config problem: the field path (e.g. `pipelines[0].environments[1].values`) and what is wrong. */
export type ConfigProblem = { field: string; problem: string };

type RelativeProblem = { path: Array<string | number>; problem: string };

/** What a single entry cannot see: names, values files and applications shared between entries, approval on an `auto` entry. */
function crossEntryProblems(environments: readonly EnvironmentShape[]): RelativeProblem[] {
  const problems: RelativeProblem[] = [];
  const firstWith = (key: (environment: EnvironmentShape) => string, index: number) => environments.findIndex((other) => key(other) === key(environments[index]!));
  environments.forEach((environment, index) => {
    const sameName = firstWith((e) => e.name, index);
    if (sameName < index) problems.push({ path: [index, 'name'], problem: `duplicate environment name "${environment.name}" (also environments[${sameName}])` });
    const sameValues = firstWith((e) => e.values, index);
    if (sameValues < index) problems.push({ path: [index, 'values'], problem: `"${environment.values}" is already environments[${sameValues}]'s values file; each environment records its own release` });
    const sameApp = firstWith((e) => e.argocd.application, index);
    if (sameApp < index) problems.push({ path: [index, 'argocd', 'application'], problem: `Argo CD application "${environment.argocd.application}" already deploys environments[${sameApp}]` });
    if (environment.promotion === 'auto' && environment.approval) problems.push({ path: [index, 'approval'], problem: 'is set, but promotion is auto: nothing would ask for it (use promotion: approval)' });
    const checks = environment.verify?.checks ?? [];
    checks.forEach((check, checkIndex) => {
      const first = checks.findIndex((other) => other.name === check.name);
      if (first < checkIndex) problems.push({ path: [index, 'verify', 'checks', checkIndex, 'name'], problem: `duplicate check name "${check.name}" (also checks[${first}])` });
    });
  });
  return problems;
}

export const EnvironmentsConfig = z
  .array(EnvironmentConfig)
  .min(1, 'at least one environment (leave the key out for the single implicit environment)')
  .superRefine((environments, ctx) => {
    for (const { path, problem } of crossEntryProblems(environments)) ctx.addIssue({ code: 'custom', message: problem, path });
  });

export type EnvironmentsConfig = z.infer<typeof EnvironmentsConfig>;
export type EnvironmentConfig = z.infer<typeof EnvironmentConfig>;
export type VerifyCheckConfig = z.infer<typeof VerifyCheckConfig>;

function fieldPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : `${out}.${String(key)}`), prefix);
}

/**
 * Every problem of a pipeline's `environments` value (not just the first), each with its full
 * field path under `pipelinePath` (e.g. `pipelines[0]`): the schema's (types, unknown keys,
 * durations, exactly one of max/min, queries that do not parse) and the cross-entry ones.
 * An empty list means it loads.
 */
export function validateEnvironments(environments: unknown, pipelinePath: string): ConfigProblem[] {
  const prefix = `${pipelinePath}.environments`;
  if (environments === undefined) return [];
  const result = EnvironmentsConfig.safeParse(environments);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ field: fieldPath(prefix, issue.path), problem: issue.message }));
}

// ---------------------------------------------------------------------------------------------
// Resolved environments: in resolve.ts, which loads no zod (the stage manifest needs it at every
// cold start); re-exported here for the config's readers.

export { IMPLICIT_ENVIRONMENT, MAX_VERIFY_SECONDS, environmentsOf, parseDuration } from './resolve.js';
export type { Environment, EnvironmentApproval, PipelineEnvironmentsInput, VerifyCheck } from './resolve.js';
