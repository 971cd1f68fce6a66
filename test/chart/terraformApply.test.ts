import { makeEvent } from '../../shared/contracts/index.js';
import type { BuildRequest, Builder } from '../../shared/runtime/builders/builder.js';
import { decodeEvent } from '../../shared/bus/events.js';
import { testRuntime } from '../support/runtimes.js';
import { deliver, newRun } from '../support/stages.js';

/**
 * terraformApply: an approved Terraform run applies exactly the plan the approval was bound to:
 * one apply build, however often the approval is delivered, fetching the saved plan and
 * checking its SHA-256. Driven through the stage runner, with a builder that records its starts.
 */
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const PLAN_SHA = 'cd'.repeat(32);
const CONFIG = `
pipelines:
  - name: infra
    kind: terraform
    repository: acme/infra
    branches: ["main"]
    services: [{ name: infra, path: terraform/ }]
    mirror: { url: "https://git.example/acme/infra.git" }
    terraform: { dir: terraform/envs/poc, planBucket: acme-plans }
`;

function approved(runId: string) {
  return makeEvent('approval-decided', {
    runId,
    pipeline: 'infra',
    decision: 'approved',
    decidedBy: { id: 'U1', name: 'Ops', via: 'slack' },
    images: [],
    plan: { dir: 'terraform/envs/poc', location: `gs://acme-plans/${runId}/tfplan`, sha256: PLAN_SHA, summary: { add: 1, change: 0, destroy: 0, destroyed: [] } },
    sha: SHA,
    order: `2026-01-01T00:00:03.000Z~${runId}`,
  });
}

async function setup(withCloudBuild: boolean) {
  const started: BuildRequest[] = [];
  const builder: Builder = {
    supports: () => true,
    start: async (request) => (started.push(request), { buildId: `apply-${started.length}`, logUrl: 'https://console.cloud.google.com/cloud-build/builds/apply-1' }),
    get: async () => undefined,
    find: async () => undefined,
    cancel: async () => undefined,
  };
  const runtime = testRuntime('in-process', CONFIG, withCloudBuild ? { builder: () => builder } : {});
  const deploys: unknown[] = [];
  await runtime.bus().subscribe('deploy-finished', 'watch', async (message) => {
    const decoded = decodeEvent('deploy-finished', message.data);
    if (decoded.ok) deploys.push(decoded.event);
  });
  const runId = 'infra-3-a1b2c3d';
  await runtime.ledger().createRun(newRun({ runId, pipeline: 'infra', kind: 'terraform', repository: 'acme/infra', before: SHA, after: SHA, services: ['terraform/envs/poc'] }), new Date(), {}, {});
  const apply = () => deliver(runtime, 'terraformApply', 'approval-decided', approved(runId));
  return { runtime, started, deploys, runId, apply };
}

test('an approved plan is applied once, exactly that plan, and the deploy stage follows the build', async () => {
  const { runtime, started, runId, apply } = await setup(true);
  // Deliveries that arrive while another is starting the apply are told to retry (the bus
  // redelivers them); the redelivery finds the apply already started.
  const first = await Promise.allSettled([apply(), apply(), apply()]);
  expect(first.filter((outcome) => outcome.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
  for (const outcome of first) if (outcome.status === 'rejected') expect(String(outcome.reason)).toMatch(/another delivery is starting it/);
  await Promise.all(first.filter((outcome) => outcome.status === 'rejected').map(() => apply()));
  expect(started).toHaveLength(1);
  expect(started[0]).toMatchObject({
    runId,
    service: 'terraform/envs/poc',
    sha: SHA,
    mirrorUrl: 'https://git.example/acme/infra.git',
    what: { kind: 'terraform-apply', dir: 'terraform/envs/poc', planBucket: 'acme-plans', planSha256: PLAN_SHA },
  });
  expect(started[0]!.substitutions).toMatchObject({ _BATON_RUN_ID: runId, _BATON_KIND: 'terraform-apply' });
  expect(await runtime.ledger().builds.get('apply-1')).toMatchObject({ kind: 'terraform-apply', runId });
  const run = await runtime.ledger().getRun(runId);
  // A Terraform run has no chart stage: its plan is the run's stage order, from the manifest.
  expect(run?.stages.chart).toBeUndefined();
  expect(run?.stages.deploy).toMatchObject({ status: 'running', links: { 'apply logs': expect.stringContaining('apply-1') } });
  await runtime.ledger().close();
});

test('a builder that cannot apply (the embedded one): the deploy is skipped, once, with the reason', async () => {
  const { started, deploys, runId, apply, runtime } = await setup(false);
  await apply();
  await apply();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(started).toHaveLength(0);
  expect(deploys).toEqual([expect.objectContaining({ runId, status: 'skipped', reason: expect.stringMatching(/embedded runtime does not apply/) })]);
  expect((await runtime.ledger().getRun(runId))?.stages.deploy?.status).toBe('skipped');
  await runtime.ledger().close();
});
