import type { z } from 'zod';
import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/implicitEnvironment.js';
import type { EnvironmentApprovalConfig, EnvironmentsConfig } from './config.js';

/**
 * A pipeline's environments as the stages use them: resolved from the validated config
 * (config.ts) with defaults applied. This file only imports types from the config schema, so
 * the stage manifest, which every function loads at cold start, can use it without loading zod.
 */

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
/** A verification longer than this is a soak test, not a deploy check. */
export const MAX_VERIFY_SECONDS = 6 * 3600;

/** Seconds in a duration such as `30s`, `2m`, `1h30m`, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  const [, hours, minutes, seconds] = match;
  return Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0);
}

/** Approval settings of one environment; each key already falls back to the pipeline's `approval`. The Slack env vars (`SLACK_CHANNEL`, `SLACK_APPROVERS`) remain the last fallback, as for the run's approval. */
export type EnvironmentApproval = z.infer<typeof EnvironmentApprovalConfig>;

export type VerifyCheck = { name: string; query: string } & ({ max: number; min?: undefined } | { min: number; max?: undefined });

export type Environment = {
  name: string;
  promotion: 'auto' | 'approval';
  /** Only meaningful for `promotion: approval`. */
  approval: EnvironmentApproval;
  /** The environment's Argo CD Application; undefined only for the implicit environment of a pipeline without `deploy.argocd`. */
  argocd?: { application: string };
  /** Values file inside the chart directory. */
  values: string;
  verify?: {
    /** `verify.prometheus.url`, else `PROMETHEUS_URL`; undefined when neither is set (verification then fails closed, saying so). */
    prometheusUrl?: string;
    forSeconds: number;
    checks: VerifyCheck[];
  };
  /** True for the one environment of a pipeline without `environments`. */
  implicit: boolean;
};

/** The name of the single environment of a pipeline without `environments` (declared with the event contracts). */
export { IMPLICIT_ENVIRONMENT };

/** The parts of a pipeline this module reads (the shape of `shared/config`'s `Pipeline`). */
export type PipelineEnvironmentsInput = {
  approval?: EnvironmentApproval;
  chart?: { valuesFile?: string };
  deploy?: { argocd?: { application?: string } };
  environments?: EnvironmentsConfig;
};

/**
 * A pipeline's environments, in promotion order, with defaults applied. A pipeline without
 * `environments` has one implicit environment named `default` that behaves as today: it is
 * deployed after the run's own approval (`promotion: approval`, the pipeline's approval), by
 * the pipeline's `deploy.argocd.application`, from the chart's `chart.valuesFile`
 * (default `values.yaml`), without verification. "default" rather than the pipeline's name
 * so that `baton rollback shop --env default` and the `--json` summary read the same for
 * every pipeline.
 */
export function environmentsOf(pipeline: PipelineEnvironmentsInput, env: { PROMETHEUS_URL?: string } = process.env): Environment[] {
  const pipelineApproval = pipeline.approval ?? {};
  if (!pipeline.environments?.length) {
    const application = pipeline.deploy?.argocd?.application;
    return [
      {
        name: IMPLICIT_ENVIRONMENT,
        promotion: 'approval',
        approval: { ...pipelineApproval },
        ...(application ? { argocd: { application } } : {}),
        values: pipeline.chart?.valuesFile ?? 'values.yaml',
        implicit: true,
      },
    ];
  }
  return pipeline.environments.map((environment) => {
    const approval: EnvironmentApproval = { ...pipelineApproval };
    for (const [key, value] of Object.entries(environment.approval ?? {})) if (value !== undefined) (approval as Record<string, unknown>)[key] = value;
    const verify = environment.verify;
    const prometheusUrl = verify?.prometheus?.url ?? (env.PROMETHEUS_URL || undefined);
    return {
      name: environment.name,
      promotion: environment.promotion,
      approval,
      argocd: { application: environment.argocd.application },
      values: environment.values,
      ...(verify
        ? {
            verify: {
              ...(prometheusUrl ? { prometheusUrl } : {}),
              forSeconds: parseDuration(verify.for)!,
              checks: verify.checks.map((check) => (check.max !== undefined ? { name: check.name, query: check.query, max: check.max } : { name: check.name, query: check.query, min: check.min! })),
            },
          }
        : {}),
      implicit: false,
    };
  });
}
