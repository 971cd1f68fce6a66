import { randomUUID } from 'node:crypto';
import { handleSourceMirrored } from '../../functions/buildTrigger/trigger.js';
import type { BuildTriggerDeps } from '../../functions/buildTrigger/trigger.js';
import { CloudBuildBuilder } from '../../domain/build/cloudBuildBuilder.js';
import type { CreateBuildRequest } from '../../domain/build/cloudBuildRequest.js';
import { InProcessBus } from '../../shared/bus/inProcessBus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import { parseConfig } from '../../shared/config/pipelineConfig.js';
import { makeEvent } from '../../shared/contracts/index.js';
import type { SourceMirrored } from '../../shared/contracts/index.js';
import { RunLedger } from '../../shared/ledger/runLedger.js';
import { SqliteDocStore } from '../../shared/ledger/sqliteDocStore.js';
import { createLogger } from '../../shared/log/logger.js';
import '../support/runtimes.js'; // routes log lines away from the test output

/**
 * buildTrigger with the Cloud Build builder, checked at the client boundary: a recording client
 * stands in for `CloudBuildClient` and returns what `createBuild` returns (a long-running
 * operation whose metadata holds the build). What it was asked is the exact API request.
 */
const SHA = '0123456789abcdef0123456789abcdef01234567';
const CONFIG = parseConfig(
  `
pipelines:
  - name: shop
    repository: acme/shop
    branches: [main]
    mirror: { url: "https://europe-west1-git.sourcemanager.dev/acme-ci/shop.git" }
    build:
      imageRepository: europe-west1-docker.pkg.dev/acme-ci/shop
      projectId: acme-ci
      region: europe-west1
      serviceAccount: builder@acme-ci.iam.gserviceaccount.com
      timeoutSeconds: 900
    services:
      - { name: frontend, path: src/frontend/ }
      - { name: cart, path: src/cart/, dockerfile: build/Dockerfile, image: cart-service }
      - { name: root, path: "" }
  - name: infra
    kind: terraform
    repository: acme/infra
    branches: [main]
    terraform: { dir: terraform/envs/prod, planBucket: acme-plans }
    services: []
`,
  'cloudbuild-test.yaml',
);

function recordingClient() {
  const calls: CreateBuildRequest[] = [];
  return {
    calls,
    createBuild: async (request: CreateBuildRequest) => {
      calls.push(structuredClone(request));
      const id = randomUUID();
      return [{ name: `operations/build/acme-ci/${id}`, metadata: { build: { id, logUrl: `https://console.cloud.google.com/cloud-build/builds;region=europe-west1/${id}?project=123` } } }];
    },
  };
}

function setup(client: ReturnType<typeof recordingClient>) {
  const bus = new InProcessBus();
  const ledger = new RunLedger(new SqliteDocStore(':memory:'));
  const published: unknown[] = [];
  void bus.subscribe('build-started', 'record', async (message) => {
    const decoded = decodeEvent('build-started', message.data);
    if (decoded.ok) published.push(decoded.event);
  });
  const deps: BuildTriggerDeps = {
    config: CONFIG,
    ledger,
    bus,
    log: createLogger(),
    builderFor: (pipeline) => new CloudBuildBuilder({ projectId: pipeline.build?.projectId ?? 'acme-ci', region: pipeline.build?.region, serviceAccount: pipeline.build?.serviceAccount, timeoutSeconds: pipeline.build?.timeoutSeconds }, async () => client),
    plansTerraform: true,
  };
  return { bus, ledger, deps, published };
}

function mirrored(runId: string, services: string[], pipeline = 'shop', kind: 'app' | 'terraform' = 'app'): SourceMirrored {
  return makeEvent('source-mirrored', { runId, pipeline, kind, repository: 'acme/shop', ref: 'refs/heads/main', sha: SHA, before: '0'.repeat(40), mirrorUrl: 'https://europe-west1-git.sourcemanager.dev/acme-ci/shop.git', services, seq: 1 });
}

async function newRun(ledger: RunLedger, runId: string, services: string[]) {
  await ledger.createRun({ runId, pipeline: 'shop', kind: 'app', seq: 1, provider: 'github', deliveryId: runId, repository: 'acme/shop', ref: 'refs/heads/main', branch: 'main', before: SHA, after: SHA, pusher: { name: 'Dev' }, services });
}

describe('buildTrigger on Cloud Build', () => {
  test('one createBuild per service: exact commit from the mirror, short-sha tag, correlation tags and substitutions', async () => {
    const client = recordingClient();
    const { ledger, deps, published, bus } = setup(client);
    await newRun(ledger, 'shop-7-0123456', ['frontend', 'cart', 'root']);

    await handleSourceMirrored(mirrored('shop-7-0123456', ['frontend', 'cart', 'root']), deps);
    await bus.idle();

    expect(client.calls).toHaveLength(3);
    const [frontend, cart, root] = client.calls;
    expect(frontend).toEqual({
      projectId: 'acme-ci',
      parent: 'projects/acme-ci/locations/europe-west1',
      build: {
        source: { gitSource: { url: 'https://europe-west1-git.sourcemanager.dev/acme-ci/shop.git', revision: SHA } },
        steps: [
          {
            id: 'build',
            name: 'gcr.io/cloud-builders/docker',
            args: ['build', '--file', 'src/frontend/Dockerfile', '--tag', 'europe-west1-docker.pkg.dev/acme-ci/shop/frontend:0123456', '--label', `org.opencontainers.image.revision=${SHA}`, 'src/frontend'],
          },
        ],
        images: ['europe-west1-docker.pkg.dev/acme-ci/shop/frontend:0123456'],
        tags: ['baton', 'run-shop-7-0123456', 'svc-frontend'],
        substitutions: { _BATON_RUN_ID: 'shop-7-0123456', _BATON_SERVICE: 'frontend', _BATON_PIPELINE: 'shop', _BATON_SHA: SHA },
        options: { substitutionOption: 'ALLOW_LOOSE', logging: 'CLOUD_LOGGING_ONLY' },
        serviceAccount: 'projects/acme-ci/serviceAccounts/builder@acme-ci.iam.gserviceaccount.com',
        timeout: { seconds: 900 },
      },
    });
    expect(cart!.build.steps[0]!.args).toEqual(['build', '--file', 'src/cart/build/Dockerfile', '--tag', 'europe-west1-docker.pkg.dev/acme-ci/shop/cart-service:0123456', '--label', `org.opencontainers.image.revision=${SHA}`, 'src/cart']);
    expect(root!.build.steps[0]!.args.slice(-1)).toEqual(['.']);
    expect(root!.build.steps[0]!.args[2]).toBe('Dockerfile');

    const run = await ledger.getRun('shop-7-0123456');
    expect(Object.keys(run!.builds).sort()).toEqual(['cart', 'frontend', 'root']);
    expect(run!.builds.frontend!.status).toBe('QUEUED');
    expect(run!.stages.build?.status).toBe('running');
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ type: 'build-started', sha: SHA, builds: expect.arrayContaining([expect.objectContaining({ service: 'frontend', image: 'europe-west1-docker.pkg.dev/acme-ci/shop/frontend:0123456' })]) });
  });

  test('a redelivered source-mirrored starts no second build and publishes nothing new', async () => {
    const client = recordingClient();
    const { ledger, deps, published, bus } = setup(client);
    await newRun(ledger, 'shop-8-0123456', ['frontend']);
    const event = mirrored('shop-8-0123456', ['frontend']);

    await Promise.all([handleSourceMirrored(event, deps).catch(() => undefined), handleSourceMirrored(event, deps).catch(() => undefined)]);
    await handleSourceMirrored(event, deps);
    await bus.idle();

    expect(client.calls).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  test('a failed createBuild releases the claim so the redelivery starts the build', async () => {
    const client = recordingClient();
    const { ledger, deps } = setup(client);
    await newRun(ledger, 'shop-9-0123456', ['frontend']);
    let fail = true;
    const flaky = { createBuild: async (request: CreateBuildRequest) => (fail ? Promise.reject(new Error('UNAVAILABLE: try again')) : client.createBuild(request)) };
    const flakyDeps = { ...deps, builderFor: () => new CloudBuildBuilder({ projectId: 'acme-ci' }, async () => flaky) };

    await expect(handleSourceMirrored(mirrored('shop-9-0123456', ['frontend']), flakyDeps)).rejects.toThrow(/failed to start the Cloud Build build of frontend: UNAVAILABLE/);
    fail = false;
    await handleSourceMirrored(mirrored('shop-9-0123456', ['frontend']), flakyDeps);
    expect(client.calls).toHaveLength(1);
  });

  test('a Terraform pipeline starts one plan build that uploads the plan under the run', async () => {
    const client = recordingClient();
    const { ledger, deps } = setup(client);
    await ledger.createRun({ runId: 'infra-1-0123456', pipeline: 'infra', kind: 'terraform', seq: 1, provider: 'github', deliveryId: 'd', repository: 'acme/infra', ref: 'refs/heads/main', branch: 'main', before: SHA, after: SHA, pusher: { name: 'Dev' }, services: [] });

    await handleSourceMirrored(mirrored('infra-1-0123456', [], 'infra', 'terraform'), deps);

    expect(client.calls).toHaveLength(1);
    const { build } = client.calls[0]!;
    expect(build.source.gitSource.revision).toBe(SHA);
    expect(build.steps.map((step) => step.id)).toEqual(['fmt', 'init', 'validate', 'plan', 'show', 'report']);
    expect(build.steps.every((step) => step.dir === 'terraform/envs/prod')).toBe(true);
    expect(build.steps[3]!.args).toContain('-out=tfplan');
    expect(build.steps[4]).toMatchObject({ entrypoint: 'sh', args: ['-c', 'terraform show -json tfplan > plan.json'] });
    expect(build.artifacts).toEqual({ objects: { location: 'gs://acme-plans/infra-1-0123456/', paths: ['terraform/envs/prod/tfplan', 'terraform/envs/prod/plan.json'] } });
    expect(build.images).toBeUndefined();
    expect(build.substitutions._BATON_SERVICE).toBe('terraform/envs/prod');
    expect(build.tags).toEqual(['baton', 'run-infra-1-0123456', 'svc-terraform-envs-prod']);
  });

  test('the embedded runtime records a Terraform plan as skipped', async () => {
    const client = recordingClient();
    const { ledger, deps } = setup(client);
    await ledger.createRun({ runId: 'infra-2-0123456', pipeline: 'infra', kind: 'terraform', seq: 1, provider: 'github', deliveryId: 'd2', repository: 'acme/infra', ref: 'refs/heads/main', branch: 'main', before: SHA, after: SHA, pusher: { name: 'Dev' }, services: [] });

    await handleSourceMirrored(mirrored('infra-2-0123456', [], 'infra', 'terraform'), { ...deps, plansTerraform: false });

    expect(client.calls).toHaveLength(0);
    expect((await ledger.getRun('infra-2-0123456'))?.stages.build).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/Cloud Build/) });
  });

  test('a missing image repository fails the stage, naming the file and the field', async () => {
    const client = recordingClient();
    const { ledger, deps } = setup(client);
    const config = parseConfig('pipelines:\n  - { name: shop, repository: acme/shop, branches: [main], services: [{ name: frontend, path: src/frontend/ }] }\n', 'bare.yaml');
    await newRun(ledger, 'shop-10-0123456', ['frontend']);

    await handleSourceMirrored(mirrored('shop-10-0123456', ['frontend']), { ...deps, config });

    expect(client.calls).toHaveLength(0);
    expect((await ledger.getRun('shop-10-0123456'))?.stages.build).toMatchObject({ status: 'failed', detail: 'BATON_CONFIG bare.yaml: pipelines[0].build.imageRepository: missing; buildTrigger needs it' });
  });
});
