/**
 * Every once-only claim key, built in one place so that two stages can never spell the same
 * claim two ways. A claim is a create-if-absent document: the first caller holds it.
 */
export const claimKeys = {
  /**
   * The build of a run's service (or Terraform directory) that is current: it holds the build id
   * once started. An apply has its own, so it never reads as a newer start replacing the plan of
   * the same directory.
   */
  buildStart: (runId: string, service: string, kind: 'image' | 'terraform-plan' | 'terraform-apply') =>
    kind === 'terraform-apply' ? `build:${runId}:${service}:apply` : `build:${runId}:${service}`,
  /** The chart commit a run landed (its sha and services), written once. */
  chartCommit: (runId: string) => `chart-commit:${runId}`,
  /** The Slack message telling that a run's verification failed in an environment, posted once. */
  verificationFailedMessage: (runId: string, environment: string) => `verification-failure:${runId}:${environment}`,
  /** The Jenkins build that follows a run, started once. */
  jenkinsBuild: (runId: string) => `jenkins-build:${runId}`,
  /** The Slack message telling that a run's build failed, posted once. */
  buildFailedMessage: (runId: string) => `approval-failure:${runId}`,
} as const;
