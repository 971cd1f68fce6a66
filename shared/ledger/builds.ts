import type { DocStore } from './docStore.js';
import { docId } from './docStore.js';

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

export class BuildRecords {
  constructor(private readonly store: DocStore) {}

  get(buildId: string): Promise<BuildRecord | undefined> {
    return this.store.get<BuildRecord>(`builds/${docId(buildId)}`);
  }

  put(record: BuildRecord): Promise<void> {
    return this.store.set(`builds/${docId(record.buildId)}`, record);
  }
}
