import type { CloudBuildNotification } from '../../contracts/cloudBuild.js';
import type { PlanSummary } from '../../contracts/envelope.js';

/**
 * The one implementation of a Terraform plan's summary. It runs inside the plan build (Cloud
 * Build, a plain `node` image without baton's code): `PLAN_REPORT_SCRIPT` is this function's own
 * source plus a few lines that read `terraform show -json`'s output, hash the plan file and write
 * the report to `$BUILDER_OUTPUT/output`, so that it comes back in the build's notification
 * (`results.buildStepOutputs`), where `readPlanReport` finds it. `terraform/cloudbuild/plan.yaml`
 * embeds the same script (`npm run generate` writes it; a test fails when it is stale).
 *
 * Counting follows Terraform's own "Plan: X to add, Y to change, Z to destroy." line: a
 * replacement is one add and one destroy (and one `replace`). Data source reads, no-ops and
 * `forget` count as nothing; an unknown action is refused rather than risk hiding a destroy.
 *
 * Self-contained on purpose: no reference outside its body, so its source runs on its own; and
 * no `$` in it, which Cloud Build would take for a substitution (hence no template literals).
 */
export function summarizePlan(planJson: unknown): PlanSummary & { replace: number } {
  const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  const known = ['no-op', 'create', 'read', 'update', 'delete', 'forget'];
  if (!isRecord(planJson)) throw new Error('failed to summarize plan: expected the JSON object of terraform show -json');
  const changes = planJson.resource_changes ?? [];
  if (!Array.isArray(changes)) throw new Error('failed to summarize plan: resource_changes is not an array');
  const summary = { add: 0, change: 0, destroy: 0, replace: 0, destroyed: [] as string[] };
  changes.forEach((value: unknown, index: number) => {
    if (!isRecord(value) || typeof value.address !== 'string') throw new Error('failed to summarize plan: resource_changes[' + index + '] has no address');
    const change = value.change;
    const actions = isRecord(change) && Array.isArray(change.actions) && change.actions.every((a) => typeof a === 'string') ? (change.actions as string[]) : [];
    if (actions.length === 0) throw new Error('failed to summarize plan: ' + value.address + ' has no change.actions');
    const unknown = actions.filter((action) => !known.includes(action));
    if (unknown.length > 0) throw new Error('failed to summarize plan: ' + value.address + ' has unknown actions ' + unknown.join(', '));
    if (value.mode === 'data') return;
    const creates = actions.includes('create');
    const deletes = actions.includes('delete');
    if (creates && deletes) summary.replace += 1;
    if (creates) summary.add += 1;
    if (deletes) {
      summary.destroy += 1;
      summary.destroyed.push(value.address);
    }
    if (actions.includes('update')) summary.change += 1;
  });
  return summary;
}

/** At most this many destroyed addresses travel in the report (the notification is small). */
export const MAX_DESTROYED = 40;

/**
 * The report step's script (`node -e`), run in the Terraform directory after
 * `terraform show -json tfplan > plan.json`, with `PLAN_LOCATION` set.
 */
export const PLAN_REPORT_SCRIPT = [
  'const summarizePlan = ' + summarizePlan.toString() + ';',
  "const fs = require('fs');",
  "const summary = summarizePlan(JSON.parse(fs.readFileSync('plan.json', 'utf8')));",
  'const report = { add: summary.add, change: summary.change, destroy: summary.destroy, destroyed: summary.destroyed.slice(0, ' + MAX_DESTROYED + '), location: process.env.PLAN_LOCATION };',
  "report.planSha256 = require('crypto').createHash('sha256').update(fs.readFileSync('tfplan')).digest('hex');",
  "fs.writeFileSync(process.env.BUILDER_OUTPUT + '/output', JSON.stringify(report));",
].join('\n');

export type PlanReport = PlanSummary & { location: string; planSha256: string };

/** The report in a plan build's notification: the last step output that parses as one. */
export function readPlanReport(build: CloudBuildNotification): PlanReport | undefined {
  const outputs = build.results?.buildStepOutputs ?? [];
  for (let index = outputs.length - 1; index >= 0; index--) {
    const text = Buffer.from(outputs[index] ?? '', 'base64').toString('utf8').trim();
    if (!text) continue;
    try {
      const report = JSON.parse(text) as Partial<PlanReport>;
      if (typeof report.planSha256 === 'string' && /^[0-9a-f]{64}$/.test(report.planSha256) && typeof report.location === 'string') {
        return { add: report.add ?? 0, change: report.change ?? 0, destroy: report.destroy ?? 0, destroyed: report.destroyed ?? [], location: report.location, planSha256: report.planSha256 };
      }
    } catch {
      // not the report
    }
  }
  return undefined;
}
