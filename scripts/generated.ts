import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envTable, stagesJson, stagesJsonText } from '../functions/stagesJson.js';
import { PLAN_REPORT_SCRIPT } from '../shared/runtime/builders/planReport.js';

/** The files `npm run generate` writes, with their expected text (the staleness test compares them). */
export function generatedFiles(root: string): Array<{ path: string; text: string }> {
  return [
    { path: 'terraform/modules/functions/stages.json', text: stagesJsonText() },
    { path: 'terraform/cloudbuild/plan.yaml', text: replaceBlock(readFileSync(join(root, 'terraform/cloudbuild/plan.yaml'), 'utf8'), '  # <generated: plan report (npm run generate)>', '  # </generated>', planReportStep()) },
    { path: 'README.md', text: replaceBlock(readFileSync(join(root, 'README.md'), 'utf8'), '<!-- <generated: env table (npm run generate)> -->', '<!-- </generated> -->', envTableMarkdown()) },
    { path: 'terraform/modules/functions/README.md', text: replaceBlock(readFileSync(join(root, 'terraform/modules/functions/README.md'), 'utf8'), '<!-- <generated: stage table (npm run generate)> -->', '<!-- </generated> -->', stageTableMarkdown()) },
  ];
}

/** The generated files whose committed text differs from what the code says. */
export function staleFiles(root: string): string[] {
  return generatedFiles(root)
    .filter((file) => !existsSync(join(root, file.path)) || readFileSync(join(root, file.path), 'utf8') !== file.text)
    .map((file) => file.path);
}

function replaceBlock(text: string, open: string, close: string, body: string): string {
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`generate: markers "${open}" … "${close}" not found`);
  return `${text.slice(0, start + open.length)}\n${body}${text.slice(end)}`;
}

/** The plan build's report step; the same script baton's own plan builds run (cloudBuildRequest.ts). */
function planReportStep(): string {
  const script = PLAN_REPORT_SCRIPT.split('\n').map((line) => `        ${line}`).join('\n');
  return [
    '  - id: report',
    '    name: node:22',
    '    dir: ${_ENV_DIR}',
    '    env:',
    '      - PLAN_LOCATION=gs://${_PLANS_BUCKET}/${_RUN_ID}/tfplan',
    '    entrypoint: node',
    '    args:',
    '      - -e',
    '      - |',
    script,
    '',
  ].join('\n');
}

function envTableMarkdown(): string {
  const rows = envTable().map((row) => `| \`${row.name}\` | ${row.secret ? 'secret' : 'plain'} | ${row.stages.length ? row.stages.map((stage) => `\`${stage}\``).join(', ') : 'local only'} | ${row.doc} |`);
  return ['| variable | kind | read by | meaning |', '|---|---|---|---|', ...rows, ''].join('\n');
}

function stageTableMarkdown(): string {
  const code = (items: string[]) => items.map((item) => `\`${item}\``).join(', ');
  const rows = Object.entries(stagesJson().stages).map(([name, stage]) => {
    const trigger = stage.trigger === 'topic' ? code(stage.topics) : stage.trigger === 'http' ? (stage.public ? 'HTTP, public' : 'HTTP') : `schedule \`${stage.schedule}\``;
    const grants = [
      stage.publishes.length > 4 ? `publish every topic (${stage.publishes.length})` : stage.publishes.length ? `publish ${code(stage.publishes)}` : '',
      ...stage.projectRoles.filter((role) => role !== 'roles/datastore.user').map((role) => `\`${role.replace('roles/', '')}\``),
      ...stage.actAs.map((label) => `act as the ${label} service account`),
      ...Object.entries(stage.buckets).map(([label, role]) => `\`${role.replace('roles/', '')}\` on the ${label} bucket`),
      ...Object.entries(stage.repositories).map(([label, role]) => `\`${role.replace('roles/', '')}\` on the ${label} repository`),
      ...(stage.vpc ? ['VPC connector'] : []),
    ].filter(Boolean);
    return `| \`${name}\` | ${trigger} | ${grants.join('; ')} | ${code(stage.secrets) || '–'} | ${stage.timeoutSeconds} s | ${stage.maxDeliveryAttempts || '–'} |`;
  });
  return ['| stage | trigger | grants beyond the ledger | secrets | timeout | delivery attempts |', '|---|---|---|---|---|---|', ...rows, ''].join('\n');
}
