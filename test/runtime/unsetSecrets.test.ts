import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UNSET_SECRET_VALUE, withoutUnsetSecrets } from '../../shared/config/envVars.js';
import { cloudRuntime } from '../../shared/runtime/cloudRuntime.js';
import { MANIFEST } from '../../functions/stages.js';
import { webhookIntake } from '../../functions/webhookIntake/stage.js';
import { httpStageTarget } from '../../shared/stage/runner.js';
import { stagesJson } from '../../functions/stagesJson.js';
import { CONFIG, GITHUB_SECRET, gitlab, gitlabPush } from '../intake/cases.js';
import { tempDir, uniqueProject } from '../support/runtimes.js';

/**
 * A secret Terraform gave only its unset version (`unused_secrets`) reads as not set in the
 * deployed runtime, so the feature behind it is off, not guarded by a known placeholder.
 */
test('a secret holding the unset value is taken out of the environment; plain variables and other secrets stay', () => {
  const env = { GITLAB_WEBHOOK_TOKEN: UNSET_SECRET_VALUE, GITHUB_WEBHOOK_SECRET: 'real', SLACK_CHANNEL: UNSET_SECRET_VALUE, OTHER: 'x' };
  expect(withoutUnsetSecrets(env)).toEqual({ GITHUB_WEBHOOK_SECRET: 'real', SLACK_CHANNEL: UNSET_SECRET_VALUE, OTHER: 'x' });
  expect(env.GITLAB_WEBHOOK_TOKEN).toBe(UNSET_SECRET_VALUE);
  // Terraform writes the value it finds in the generated manifest.
  expect(stagesJson().unsetSecretValue).toBe(UNSET_SECRET_VALUE);
});

test('deployed, a GitLab webhook token left unset refuses every GitLab webhook, even one that sends the unset value', async () => {
  const configFile = join(tempDir(), 'baton.yaml');
  writeFileSync(configFile, CONFIG);
  const runtime = cloudRuntime({ ...process.env, GOOGLE_CLOUD_PROJECT: uniqueProject(), BATON_CONFIG: configFile, GITHUB_WEBHOOK_SECRET: GITHUB_SECRET, GITLAB_WEBHOOK_TOKEN: UNSET_SECRET_VALUE });
  expect(runtime.env.GITLAB_WEBHOOK_TOKEN).toBeUndefined();
  const target = httpStageTarget(webhookIntake, runtime, MANIFEST);
  const { headers, body } = gitlab(gitlabPush(), { token: UNSET_SECRET_VALUE });
  const lowerCase = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  const response = await target({ method: 'POST', path: '/', headers: lowerCase, rawBody: body }, runtime);
  expect(response.status).toBe(401);
});
