/**
 * The plan summary that the approval message of a `terraform` pipeline shows.
 *
 * Input: the JSON of `terraform show -json tfplan` (or the reduced plan.json that
 * terraform/cloudbuild/plan.yaml uploads, which keeps only each resource change's
 * address, mode and `change.actions`). Counting follows Terraform's own
 * "Plan: X to add, Y to change, Z to destroy." line: a replacement counts once as
 * an add and once as a destroy, and is also counted in `replace`. Data source reads,
 * no-ops and `forget` (removed from state, not destroyed) count as nothing.
 */
export type PlanSummary = {
  /** Resources to create, replacements included. */
  add: number;
  /** Resources to update in place. */
  change: number;
  /** Resources to destroy, replacements included. */
  destroy: number;
  /** Resources to destroy and re-create (either order). */
  replace: number;
  /** Addresses of every resource that will be destroyed, replaced ones included, in plan order. */
  destroyed: string[];
};

type ResourceChange = { address: string; mode: string; actions: string[] };

const KNOWN_ACTIONS = new Set(['no-op', 'create', 'read', 'update', 'delete', 'forget']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function readResourceChange(value: unknown, index: number): ResourceChange {
  if (!isRecord(value) || typeof value.address !== 'string') {
    throw new Error(`failed to summarize plan: resource_changes[${index}] has no address`);
  }
  const change = value.change;
  if (!isRecord(change) || !isStringArray(change.actions) || change.actions.length === 0) {
    throw new Error(`failed to summarize plan: ${value.address} has no change.actions`);
  }
  const unknown = change.actions.filter((a) => !KNOWN_ACTIONS.has(a));
  if (unknown.length > 0) {
    // A new action kind could hide a destroy; refuse rather than under-report it.
    throw new Error(`failed to summarize plan: ${value.address} has unknown actions ${unknown.join(', ')}`);
  }
  const mode = typeof value.mode === 'string' ? value.mode : 'managed';
  return { address: value.address, mode, actions: change.actions };
}

export function summarizePlan(planJson: unknown): PlanSummary {
  if (!isRecord(planJson)) {
    throw new Error('failed to summarize plan: expected the JSON object of terraform show -json');
  }
  const raw = planJson.resource_changes ?? [];
  if (!Array.isArray(raw)) {
    throw new Error('failed to summarize plan: resource_changes is not an array');
  }

  const summary: PlanSummary = { add: 0, change: 0, destroy: 0, replace: 0, destroyed: [] };
  raw.forEach((value, index) => {
    const rc = readResourceChange(value, index);
    if (rc.mode === 'data') return;
    const creates = rc.actions.includes('create');
    const deletes = rc.actions.includes('delete');
    if (creates && deletes) summary.replace += 1;
    if (creates) summary.add += 1;
    if (deletes) {
      summary.destroy += 1;
      summary.destroyed.push(rc.address);
    }
    if (rc.actions.includes('update')) summary.change += 1;
  });
  return summary;
}
