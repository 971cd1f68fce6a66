import { docId } from '../../shared/ledger/docStore.js';

/**
 * The ledger's record of a build baton started (`builds/<buildId>`): how `buildStatus` tells its
 * own builds from anyone else's on the shared `cloud-builds` topic, and maps one back to its run
 * and service. Notifications also carry the same facts in their substitutions, which covers a
 * notification that arrives before this record is written.
 */
export type BuildRecord = {
  buildId: string;
  runId: string;
  pipeline: string;
  service: string;
  sha: string;
  kind: 'image' | 'terraform-plan' | 'terraform-apply';
  /** Image repository (with host) and tag, for image builds. */
  repository?: string;
  tag?: string;
  logUrl?: string;
  startedAt: string;
};

/**
 * The claim that holds the current build of a run's service (see `startBuildOnce`). An apply has
 * its own, so it never reads as a newer start replacing the plan of the same Terraform directory.
 */
export function startClaimKey(runId: string, service: string, kind: BuildRecord['kind']): string {
  return kind === 'terraform-apply' ? `build:${runId}:${service}:apply` : `build:${runId}:${service}`;
}

export function buildDocPath(buildId: string): string {
  return `builds/${docId(buildId)}`;
}
