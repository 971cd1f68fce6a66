import { createHash, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import { cloudBuildRequest, planLocation } from '../../shared/runtime/builders/cloudBuildRequest.js';
import { PLAN_REPORT_SCRIPT, summarizePlan } from '../../shared/runtime/builders/planReport.js';
import type { BuildRequest } from '../../shared/runtime/builders/builder.js';
import type { CloudBuildNotification } from '../../shared/contracts/index.js';
import { newRun } from '../support/stages.js';
import { tempDir } from '../support/runtimes.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

jest.setTimeout(60_000);

/**
 * Terraform pipelines on the chain: the plan build reports its plan (counts, destroyed
 * resources, the plan file's SHA-256) through its own notification; buildStatus turns that into
 * a build-finished that carries the saved plan, SHA-256 and all, so the approval is bound to
 * exactly that file; the apply build's end is the run's deploy-finished, said by terraformApply.
 */
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const PLAN_JSON = {
  format_version: '1.2',
  resource_changes: [
    { address: 'google_pubsub_topic.main["push-received"]', change: { actions: ['create'] } },
    { address: 'google_container_cluster.main', change: { actions: ['update'] } },
    { address: 'google_compute_instance.bastion', change: { actions: ['delete', 'create'] } },
    { address: 'google_storage_bucket.old', change: { actions: ['delete'] } },
    { address: 'google_project_service.run', change: { actions: ['no-op'] } },
  ],
};

describe('the plan report step', () => {
  test('has no $, which Cloud Build would take for a substitution', () => {
    expect(PLAN_REPORT_SCRIPT).not.toContain('$');
  });

  test('run for real, it reports what terraform plan counts and the plan file SHA-256', () => {
    const dir = tempDir();
    const output = join(dir, 'builder-output');
    mkdirSync(output);
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(PLAN_JSON));
    const tfplan = Buffer.from('a saved plan, zipped by terraform');
    writeFileSync(join(dir, 'tfplan'), tfplan);
    execFileSync(process.execPath, ['-e', PLAN_REPORT_SCRIPT], { cwd: dir, env: { ...process.env, BUILDER_OUTPUT: output, PLAN_LOCATION: 'gs://plans/run-1/tfplan' } });
    const report = JSON.parse(readFileSync(join(output, 'output'), 'utf8'));
    const summary = summarizePlan(PLAN_JSON);
    expect(report).toEqual({
      add: summary.add,
      change: summary.change,
      destroy: summary.destroy,
      destroyed: ['google_compute_instance.bastion', 'google_storage_bucket.old'],
      location: 'gs://plans/run-1/tfplan',
      planSha256: createHash('sha256').update(tfplan).digest('hex'),
    });
  });
});

describe('Cloud Build requests for Terraform', () => {
  const base = { runId: 'infra-3-a1b2c3d', pipeline: 'infra', service: 'terraform/envs/poc', sha: SHA, mirrorUrl: 'https://git.example/infra.git', tags: ['baton'], substitutions: { _BATON_RUN_ID: 'infra-3-a1b2c3d' } };

  test('the plan ends with the report step, told where the plan goes', () => {
    const request: BuildRequest = { ...base, what: { kind: 'terraform-plan', dir: 'terraform/envs/poc', planBucket: 'acme-plans' } };
    const { build } = cloudBuildRequest(request, { projectId: 'acme' });
    expect(build.steps.at(-1)).toMatchObject({ id: 'report', entrypoint: 'node', dir: 'terraform/envs/poc', env: ['PLAN_LOCATION=gs://acme-plans/infra-3-a1b2c3d/tfplan'] });
    expect(planLocation('gs://acme-plans/', 'r')).toBe('gs://acme-plans/r/tfplan');
  });

  test('the apply fetches the saved plan, refuses any other file, and applies exactly it', () => {
    const planSha256 = 'f'.repeat(64);
    const request: BuildRequest = { ...base, what: { kind: 'terraform-apply', dir: 'terraform/envs/poc', planBucket: 'acme-plans', planSha256 } };
    const { build } = cloudBuildRequest(request, { projectId: 'acme' });
    expect(build.source).toEqual({ gitSource: { url: 'https://git.example/infra.git', revision: SHA } });
    expect(build.steps.map((step) => step.id)).toEqual(['fetch-plan', 'init', 'apply']);
    expect(build.steps[0]!.args.join(' ')).toContain(`gcloud storage cp gs://acme-plans/infra-3-a1b2c3d/tfplan tfplan && echo "${planSha256}  tfplan" | sha256sum -c -`);
    expect(build.steps[2]!.args).toEqual(['apply', '-input=false', '-lock-timeout=5m', 'tfplan']);
    expect(build.images).toBeUndefined();
    expect(build.artifacts).toBeUndefined();
  });
});

describe('buildStatus and terraformApply for Terraform builds', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ kind: 'in-process', duplicateDeliveries: 1, targets: ['buildStatus', 'terraformApply'] });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function terraformRun(kind: 'terraform-plan' | 'terraform-apply'): Promise<{ runId: string; buildId: string }> {
    const runId = `infra-${randomUUID().slice(0, 8)}`;
    const buildId = randomUUID();
    const ledger = h.runtime.ledger();
    await ledger.createRun(newRun({ runId, kind: 'terraform', repository: 'acme/infra', before: SHA, after: SHA, services: ['terraform/envs/poc'] }), new Date(), {}, {});
    await ledger.builds.put({ buildId, runId, pipeline: 'shop', service: 'terraform/envs/poc', sha: SHA, kind, startedAt: new Date().toISOString() });
    if (kind === 'terraform-apply') {
      // The same directory's plan build holds its own start claim: the apply must not read as replaced by it.
      await ledger.claim(claimKeys.buildStart(runId, 'terraform/envs/poc', 'terraform-plan'), { buildId: randomUUID(), service: 'terraform/envs/poc', startingAt: new Date().toISOString() });
    }
    await ledger.claim(claimKeys.buildStart(runId, 'terraform/envs/poc', kind), { buildId, service: 'terraform/envs/poc', startingAt: new Date().toISOString() });
    return { runId, buildId };
  }

  const notification = (id: string, runId: string, status: 'SUCCESS' | 'FAILURE', outputs?: string[], apply = false): CloudBuildNotification =>
    ({
      id,
      status,
      substitutions: { _BATON_RUN_ID: runId, _BATON_SERVICE: 'terraform/envs/poc', _BATON_PIPELINE: 'shop', _BATON_SHA: SHA, ...(apply ? { _BATON_KIND: 'terraform-apply' } : {}) },
      logUrl: `https://console.cloud.google.com/cloud-build/builds/${id}`,
      ...(outputs ? { results: { buildStepOutputs: outputs } } : {}),
    }) as CloudBuildNotification;

  async function deliver(builds: CloudBuildNotification[]): Promise<void> {
    for (const build of builds) await h.runtime.bus().publish('cloud-builds', Buffer.from(JSON.stringify(build)), { buildId: build.id, status: build.status });
    await h.settle();
  }

  test('a successful plan gives one build-finished that carries the saved plan, with its summary', async () => {
    const { runId, buildId } = await terraformRun('terraform-plan');
    const planSha256 = 'ab'.repeat(32);
    const report = { add: 1, change: 2, destroy: 1, destroyed: ['google_storage_bucket.old'], location: `gs://acme-plans/${runId}/tfplan`, planSha256 };
    const outputs = ['', '', '', '', '', Buffer.from(JSON.stringify(report)).toString('base64')];
    await deliver([notification(buildId, runId, 'SUCCESS', outputs), notification(buildId, runId, 'SUCCESS', outputs)]);
    const finished = h.seen.of('build-finished', runId);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({
      status: 'SUCCESS',
      plan: { dir: 'terraform/envs/poc', location: `gs://acme-plans/${runId}/tfplan`, sha256: planSha256, summary: { add: 1, change: 2, destroy: 1, destroyed: ['google_storage_bucket.old'] } },
    });
    expect(finished[0]!.image).toBeUndefined();
    expect((await h.runtime.ledger().getRun(runId))?.builds['terraform/envs/poc']?.plan?.sha256).toBe(planSha256);
  });

  test('a plan build that did not report its plan is not approvable', async () => {
    const { runId, buildId } = await terraformRun('terraform-plan');
    await deliver([notification(buildId, runId, 'SUCCESS', ['', ''])]);
    expect(h.seen.of('build-finished', runId)).toEqual([expect.objectContaining({ status: 'INTERNAL_ERROR', detail: expect.stringMatching(/did not report its plan/) })]);
  });

  test.each([
    ['SUCCESS', 'synced', 'succeeded'],
    ['FAILURE', 'failed', 'failed'],
  ] as const)('an apply that ends %s is the run’s deploy: deploy-finished %s, once', async (status, published, stage) => {
    const { runId, buildId } = await terraformRun('terraform-apply');
    await deliver([notification(buildId, runId, status, undefined, true), notification(buildId, runId, status, undefined, true)]);
    expect(h.seen.of('build-finished', runId)).toHaveLength(0);
    expect(h.seen.of('deploy-finished', runId)).toEqual([expect.objectContaining({ status: published, revision: SHA })]);
    expect((await h.runtime.ledger().getRun(runId))?.stages.deploy?.status).toBe(stage);
  });
});
