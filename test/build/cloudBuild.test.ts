import { randomUUID } from 'node:crypto';
import { CloudBuildBuilder } from '../../shared/runtime/builders/cloudBuild.js';
import type { CloudBuildClientLike } from '../../shared/runtime/builders/cloudBuild.js';
import type { CreateBuildRequest } from '../../shared/runtime/builders/cloudBuildRequest.js';
import { InProcessBus } from '../../shared/bus/inProcessBus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import { makeEvent } from '../../shared/contracts/index.js';
import type { SourceMirrored } from '../../shared/contracts/index.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { testRuntime } from '../support/runtimes.js';
import { deliver, newRun as runRecord } from '../support/stages.js';

/**
 * buildTrigger with the Cloud Build builder, checked at the client boundary: a recording client
 * stands in for `CloudBuildClient` and returns what `createBuild` returns (a long-running
 * operation whose metadata holds the build). What it was asked is the exact API request. The
 * stage runs through the stage runner, so what it records and publishes is what ships.
 */
const SHA = '0123456789abcdef0123456789abcdef01234567';
const CONFIG_YAML = `
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
`;

function recordingClient() {
  const calls: CreateBuildRequest[] = [];
  return {
    calls,
    createBuild: async (request: CreateBuildRequest) => {
      calls.push(structuredClone(request));
      const id = randomUUID();
      return [{ name: `operations/build/acme-ci/${id}`, metadata: { build: { id, logUrl: `https://console.cloud.google.com/cloud-build/builds;region=europe-west1/${id}?project=123` } } }];
    },
    getBuild: async () => [undefined],
    listBuilds: async () => [[]],
  };
}

function setup(client: Pick<CloudBuildClientLike, 'createBuild'> & Partial<CloudBuildClientLike>, yaml = CONFIG_YAML) {
  const full: CloudBuildClientLike = { getBuild: async () => [undefined], listBuilds: async () => [[]], cancelBuild: async () => [undefined], ...client };
  const runtime = testRuntime('in-process', yaml, {
    builder: (pipeline) => new CloudBuildBuilder({ projectId: pipeline.build?.projectId ?? 'acme-ci', region: pipeline.build?.region, serviceAccount: pipeline.build?.serviceAccount, timeoutSeconds: pipeline.build?.timeoutSeconds }, async () => full),
  });
  const published: unknown[] = [];
  void runtime.bus().subscribe('build-started', 'record', async (message) => {
    const decoded = decodeEvent('build-started', message.data);
    if (decoded.ok) published.push(decoded.event);
  });
  const idle = () => (runtime.bus() as InProcessBus).idle();
  return { runtime, ledger: runtime.ledger(), published, idle };
}

function mirrored(runId: string, services: string[], pipeline = 'shop', kind: 'app' | 'terraform' = 'app'): SourceMirrored {
  return makeEvent('source-mirrored', { runId, pipeline, kind, repository: 'acme/shop', ref: 'refs/heads/main', sha: SHA, before: '0'.repeat(40), mirrorUrl: 'https://europe-west1-git.sourcemanager.dev/acme-ci/shop.git', services, order: `2026-01-01T00:00:00.000Z~${runId}` });
}

async function newRun(runtime: Runtime, runId: string, services: string[], pipeline = 'shop', kind: 'app' | 'terraform' = 'app') {
  await runtime.ledger().createRun(runRecord({ runId, pipeline, kind, before: SHA, after: SHA, services }), new Date(), {}, {});
}

const trigger = (runtime: Runtime, event: SourceMirrored) => deliver(runtime, 'buildTrigger', 'source-mirrored', event);

describe('buildTrigger on Cloud Build', () => {
  test('one createBuild per service: exact commit from the mirror, short-sha tag, correlation tags and substitutions', async () => {
    const client = recordingClient();
    const { runtime, ledger, published, idle } = setup(client);
    await newRun(runtime, 'shop-7-0123456', ['frontend', 'cart', 'root']);

    await trigger(runtime, mirrored('shop-7-0123456', ['frontend', 'cart', 'root']));
    await idle();

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
    const { runtime, published, idle } = setup(client);
    await newRun(runtime, 'shop-8-0123456', ['frontend']);
    const event = mirrored('shop-8-0123456', ['frontend']);

    await Promise.all([trigger(runtime, event).catch(() => undefined), trigger(runtime, event).catch(() => undefined)]);
    await trigger(runtime, event);
    await idle();

    expect(client.calls).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  test('a failed createBuild releases the claim so the redelivery starts the build', async () => {
    const client = recordingClient();
    let fail = true;
    const { runtime, ledger } = setup({ createBuild: async (request: CreateBuildRequest) => (fail ? Promise.reject(new Error('UNAVAILABLE: try again')) : client.createBuild(request)) });
    await newRun(runtime, 'shop-9-0123456', ['frontend']);

    await expect(trigger(runtime, mirrored('shop-9-0123456', ['frontend']))).rejects.toThrow(/failed to start the Cloud Build build of frontend: UNAVAILABLE/);
    expect((await ledger.getRun('shop-9-0123456'))?.status).toBe('running');
    fail = false;
    await trigger(runtime, mirrored('shop-9-0123456', ['frontend']));
    expect(client.calls).toHaveLength(1);
  });

  test('a Terraform pipeline starts one plan build that uploads the plan under the run', async () => {
    const client = recordingClient();
    const { runtime } = setup(client);
    await newRun(runtime, 'infra-1-0123456', [], 'infra', 'terraform');

    await trigger(runtime, mirrored('infra-1-0123456', [], 'infra', 'terraform'));

    expect(client.calls).toHaveLength(1);
    const { build } = client.calls[0]!;
    expect(build.source.gitSource.revision).toBe(SHA);
    expect(build.steps.map((step) => step.id)).toEqual(['fmt', 'init', 'validate', 'plan', 'show', 'report']);
    expect(build.steps.every((step) => step.dir === 'terraform/envs/prod')).toBe(true);
    expect(build.steps[3]!.args).toContain('-out=tfplan');
    expect(build.steps[4]).toMatchObject({ entrypoint: 'sh', args: ['-c', 'terraform show -json tfplan > plan.json'] });
    // Only the plan file leaves the build: its JSON form may hold attribute values.
    expect(build.artifacts).toEqual({ objects: { location: 'gs://acme-plans/infra-1-0123456/', paths: ['terraform/envs/prod/tfplan'] } });
    expect(build.images).toBeUndefined();
    expect(build.substitutions._BATON_SERVICE).toBe('terraform/envs/prod');
    expect(build.tags).toEqual(['baton', 'run-infra-1-0123456', 'svc-terraform-envs-prod']);
  });

  test('a runtime whose builder cannot plan (the embedded one) records the Terraform run as skipped, and ends it', async () => {
    const runtime = testRuntime('in-process', CONFIG_YAML);
    await newRun(runtime, 'infra-2-0123456', [], 'infra', 'terraform');

    await trigger(runtime, mirrored('infra-2-0123456', [], 'infra', 'terraform'));

    const run = await runtime.ledger().getRun('infra-2-0123456');
    expect(run?.stages.build).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/Cloud Build/) });
    expect(run).toMatchObject({ status: 'succeeded', stages: { approval: { status: 'skipped' }, deploy: { status: 'skipped' } } });
  });

  test('a missing image repository fails the stage, naming the file and the field', async () => {
    const client = recordingClient();
    const { runtime, ledger } = setup(client, 'pipelines:\n  - { name: shop, repository: acme/shop, branches: [main], services: [{ name: frontend, path: src/frontend/ }] }\n');
    await newRun(runtime, 'shop-10-0123456', ['frontend']);

    await trigger(runtime, mirrored('shop-10-0123456', ['frontend']));

    expect(client.calls).toHaveLength(0);
    // A config mistake is permanent: the stage fails at once, and so does the run.
    expect(await ledger.getRun('shop-10-0123456')).toMatchObject({
      status: 'failed',
      stages: { build: { status: 'failed', detail: 'BATON_CONFIG test-config.yaml: pipelines[0].build.imageRepository: missing; buildTrigger needs it' } },
    });
  });
});
