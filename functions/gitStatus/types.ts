import type { RunRecord, RunStatus, StageRecord, StageStatus } from '../../shared/ledger/runRecord.js';

/**
 * What the gitStatus stage works on and with. A `RunSnapshot` is the part of the ledger's run
 * record that reporting reads, picked from the ledger's own type so that the statuses and field
 * names are declared once; `ReportLedger` is the three ledger operations the reporter needs (see
 * its doc for how each maps onto the ledger). Only types cross: the stage needs no ledger code.
 */

export type { RunStatus, StageStatus };

/** What reporting reads of one stage: its status, its times, its one line and links for people. */
export type StageSnapshot = Pick<StageRecord, 'status' | 'startedAt' | 'endedAt' | 'detail' | 'links'>;

/**
 * The part of a ledger run record that reporting reads. Stage names are ledger stage names
 * (`intake`, `build`, `approval`, `deploy`, `deploy:prod`, `verify:prod`, …); nothing here
 * depends on the list. Statuses and deployments are reported on `after`, the pushed commit.
 */
export type RunSnapshot = Pick<RunRecord, 'runId' | 'pipeline' | 'provider' | 'repository' | 'after' | 'status' | 'reason'> & {
  stages: Record<string, StageSnapshot>;
};

/** The states GitHub's commit status API knows (`POST /repos/{owner}/{repo}/statuses/{sha}`). */
export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export type DesiredStatus = {
  /** `baton/<stage>`. */
  context: string;
  /** The ledger stage the status reports. */
  stage: string;
  state: CommitState;
  /** One line, at most 139 characters. */
  description: string;
  targetUrl?: string;
  /**
   * Finer than `state`, for hosts that can say more (GitLab has `running` besides `pending`, and
   * `canceled`): the stage's own status, or the run's when the run ended around an open stage.
   */
  stageStatus: StageStatus;
  /**
   * Order of the state within its context: a state is sent only when its rank is above the
   * highest rank already sent, so a status never goes backwards. Open 0, ended 1, and 2 for a
   * stage that ended and was then rolled back.
   */
  rank: number;
};

/** The states of a GitHub deployment status (`POST …/deployments/{id}/statuses`). */
export type DeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'inactive' | 'error';

export type DesiredDeployment = {
  environment: string;
  state: DeploymentState;
  description: string;
  /**
   * queued 0, in_progress 1, success/failure/error 2, a failure after a success (verify failed,
   * rolled back) 3, inactive 4: as for statuses, only a higher rank than the last one is sent.
   */
  rank: number;
  /**
   * Whether this state may create the environment's deployment. `error` and `inactive` only
   * close a deployment that exists: a run that never reached an environment creates nothing.
   */
  create: boolean;
};

/** A status or deployment report the host refused for good (a 4xx other than a rate limit). */
export class PermanentGitHostError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PermanentGitHostError';
  }
}

/**
 * A report that may work later: a 5xx, a network error, or a rate limit that outlasted the
 * in-process waits. The stage throws it so the bus redelivers the event (and dead-letters it
 * after the allowed attempts); the run itself is never touched.
 */
export class TransientGitHostError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TransientGitHostError';
  }
}

/** A deployment as the host identifies it. */
export type HostDeployment = { id: number };

/**
 * One git host, as the reporter needs it. Implementations throw `PermanentGitHostError` or
 * `TransientGitHostError`, never anything else, and never put a token in a message.
 */
export interface GitHost {
  readonly provider: 'github' | 'gitlab';
  /** Sets the commit status `status.context` on `sha` (one API call). */
  setStatus(repository: string, sha: string, status: DesiredStatus): Promise<void>;
  /** Deployments, where the host supports them through baton (GitHub). */
  readonly deployments?: {
    /** Creates the environment's deployment of `sha` (one API call). */
    create(repository: string, sha: string, environment: string, details: { runId: string; pipeline: string; description: string }): Promise<HostDeployment>;
    /** Adds a status to a deployment (one API call). */
    setState(repository: string, deploymentId: number, state: DeploymentState, details: { environment: string; description: string; logUrl?: string }): Promise<void>;
  };
}

/**
 * The ledger operations the reporter needs. Each maps onto one the run ledger already has:
 * - `claim(key)`: `RunLedger.claim(key)`, a create-once write; true for the one caller that took
 *   the key. The reporter claims `git-status:<runId>:<context>:<state>` (and
 *   `git-deployment:<runId>:<environment>:<state>`) before the API call, so each transition is
 *   sent at most once, whatever the bus duplicates.
 * - `release(key)`: `RunLedger.releaseClaim(key)`. Called only when the guarded call failed
 *   transiently, so the bus's retry can take the key again.
 * - `update(key, next)`: an atomic read-modify-write of one small document (`DocStore.update`
 *   on `git-report/<docId(key)>`; every such key starts with `git-report:`). `next` sees the
 *   current value and returns the new one, or `undefined` to leave it; the result is the value
 *   after the call. `next` may run more than once (Firestore retries on contention), so it must
 *   be pure. The reporter keeps in it the per-(run, context) order (the highest rank sent and
 *   the send in flight: what keeps a late `pending` from landing after a `success`), the
 *   deployment id per (run, environment), and the latest successful deployment per
 *   (repository, environment), which is the release a new one replaces.
 */
export interface ReportLedger {
  claim(key: string): Promise<boolean>;
  release(key: string): Promise<void>;
  update<T extends Record<string, unknown>>(key: string, next: (current: T | undefined) => T | undefined): Promise<{ value: T | undefined; changed: boolean }>;
}

/** The logger subset the stage uses (`shared/log`'s `Logger` fits). */
export type ReportLog = {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
};
