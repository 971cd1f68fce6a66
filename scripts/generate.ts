/**
 * `npm run generate`: writes the files that derive from code, so that they can be committed
 * and reviewed, and checked by a test that fails when one is stale (`test/manifest`):
 * - terraform/modules/functions/stages.json, from functions/stages.ts;
 * - the report step of terraform/cloudbuild/plan.yaml, from summarizePlan();
 * - the environment table in README.md, from the stage declarations and shared/config/envVars.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedFiles } from './generated.js';

const root = process.cwd();
let changed = 0;
for (const file of generatedFiles(root)) {
  const path = join(root, file.path);
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (before === file.text) continue;
  writeFileSync(path, file.text);
  changed++;
  process.stdout.write(`wrote ${file.path}\n`);
}
process.stdout.write(changed ? `generate: ${changed} file(s) updated\n` : 'generate: everything is up to date\n');
