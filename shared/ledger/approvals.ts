import type { Decider, ReleaseImage, SavedPlan } from '../contracts/index.js';
import { IMPLICIT_ENVIRONMENT } from '../contracts/index.js';
import type { DocStore } from './docStore.js';
import { docId } from './docStore.js';

/** What a person was asked to approve, and where the question is. One per run and environment. */
export type ApprovalRecord = {
  runId: string;
  pipeline: string;
  /** The environment the approval would deploy to. */
  environment: string;
  /** Commit the images were built from. */
  sha: string;
  /** The run's order (`RunOrder`). */
  order: string;
  /**
   * `posting`: one delivery holds the lease and is posting to Slack; `waiting`: the question
   * is out; `decided`: closed (approved, rejected, expired or superseded).
   */
  status: 'posting' | 'waiting' | 'decided';
  /** While `posting`: until when the lease holder may post before another delivery takes over. */
  leaseUntil?: string;
  /** The release the message showed, with its digests: what a decision is bound to. */
  images: ReleaseImage[];
  /** Terraform runs: the saved plan the message showed. */
  plan?: SavedPlan;
  /** Slack channel and message ts; empty when Slack is not configured (CLI/Jenkins decide). */
  channel: string;
  ts: string;
  requestedAt: string;
  expiresAt: string;
  decision?: DecisionRecord;
};

/**
 * How a request was closed. `canceled` and `run-ended`: the run ended before anyone decided
 * (`baton cancel`, or a failure such as the reconciler's limit). The expiry sweep closes such a
 * request and shows it in Slack; the run stays as it ended.
 */
export type ClosingDecision = 'approved' | 'rejected' | 'expired' | 'superseded' | 'canceled' | 'run-ended';

/** The once-only decision of one environment. */
export type DecisionRecord = {
  runId: string;
  /** Absent in decisions recorded before environments: the implicit one. */
  environment?: string;
  decision: ClosingDecision;
  decidedBy: Decider;
  decidedAt: string;
  reason?: string;
};

export type LeaseResult = { state: 'acquired' } | { state: 'in-progress' } | { state: 'done'; record: ApprovalRecord };

/**
 * Approval requests, `approvals/<runId>` (the implicit environment) or
 * `approvals/<runId>~<environment>`: one per run and environment. The undecided ones are found
 * by their status through an index, so the expiry sweep reads only those.
 */
export class ApprovalRecords {
  constructor(private readonly store: DocStore) {}

  private path(runId: string, environment: string = IMPLICIT_ENVIRONMENT): string {
    return `approvals/${docId(environment === IMPLICIT_ENVIRONMENT ? runId : `${runId}~${environment}`)}`;
  }

  get(runId: string, environment: string = IMPLICIT_ENVIRONMENT): Promise<ApprovalRecord | undefined> {
    return this.store.get<ApprovalRecord>(this.path(runId, environment));
  }

  /**
   * Takes the right to post a run's approval request. The first delivery creates the record
   * (a create-if-absent write); a later one gets `done`, or `in-progress` while the holder's
   * lease runs. A holder that died mid-post leaves an expired lease, which the next delivery
   * takes over, so a crash never leaves a run without its question.
   */
  async beginRequest(base: Pick<ApprovalRecord, 'runId' | 'pipeline' | 'environment' | 'sha' | 'order'>, now: Date, leaseMs: number): Promise<LeaseResult> {
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    const fresh: ApprovalRecord = {
      ...base,
      status: 'posting',
      leaseUntil,
      images: [],
      channel: '',
      ts: '',
      requestedAt: now.toISOString(),
      expiresAt: now.toISOString(),
    };
    const path = this.path(base.runId, base.environment);
    if (await this.store.create(path, fresh)) return { state: 'acquired' };
    let taken = false;
    const { doc } = await this.store.update<ApprovalRecord>(path, (current) => {
      taken = false;
      if (!current) {
        taken = true;
        return fresh;
      }
      if (current.status !== 'posting' || Date.parse(current.leaseUntil ?? '') > now.getTime()) return undefined;
      taken = true;
      return { ...current, leaseUntil };
    });
    if (taken) return { state: 'acquired' };
    return doc && doc.status !== 'posting' ? { state: 'done', record: doc } : { state: 'in-progress' };
  }

  /** Gives the lease back after a failed post, so the bus's retry can post. */
  async abandonRequest(runId: string, environment: string = IMPLICIT_ENVIRONMENT): Promise<void> {
    await this.store.update<ApprovalRecord>(this.path(runId, environment), (current) => (current?.status === 'posting' ? { ...current, leaseUntil: new Date(0).toISOString() } : undefined));
  }

  /** Records the posted question and opens it for deciders and the expiry sweep. */
  async completeRequest(runId: string, environment: string, fields: Pick<ApprovalRecord, 'images' | 'plan' | 'channel' | 'ts' | 'requestedAt' | 'expiresAt'>): Promise<ApprovalRecord | undefined> {
    const { doc } = await this.store.update<ApprovalRecord>(this.path(runId, environment), (current) => {
      if (!current || current.status !== 'posting') return undefined;
      const { leaseUntil: _lease, ...rest } = current;
      return { ...rest, ...fields, status: 'waiting' };
    });
    return doc;
  }

  /** Closes the request with its decision; `changed` is true for the one caller that closed it. */
  async markDecided(decision: DecisionRecord): Promise<{ record: ApprovalRecord | undefined; changed: boolean }> {
    const { doc, changed } = await this.store.update<ApprovalRecord>(this.path(decision.runId, decision.environment), (current) =>
      current && current.status !== 'decided' ? { ...current, status: 'decided', decision } : undefined,
    );
    return { record: doc, changed };
  }

  /** Undecided requests (at most `limit`): what the expiry sweep looks at. */
  listWaiting(limit = 500): Promise<ApprovalRecord[]> {
    return this.store.query<ApprovalRecord>('approvals', { where: { status: 'waiting' }, limit });
  }
}
