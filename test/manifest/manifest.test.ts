import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awaitStagesOf } from '../../cli/await/stages.js';
import { startEmbeddedStack } from '../../functions/embeddedStack.js';
import { STAGES } from '../../functions/stages.js';
import { stagesJson } from '../../functions/stagesJson.js';
import { InProcessBus } from '../../shared/bus/inProcessBus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import type { AnyStage } from '../../shared/stage/declaration.js';
import { isTopicStage } from '../../shared/stage/declaration.js';
import { manifestOf, publishesOf } from '../../shared/stage/manifest.js';
import { generatedFiles, staleFiles } from '../../scripts/generated.js';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { tempDir } from '../support/runtimes.js';
import { eventually, testRuntime } from '../support/runtimes.js';
import { emit, newRun } from '../support/stages.js';
import { seen } from './sampleStage/handler.js';
import { smokeTest } from './sampleStage/stage.js';

/**
 * One declaration per stage: everything else derives from `functions/stages.ts`. A sample stage
 * (test/manifest/sampleStage: its two files, and one line adding it to the list) shows up in
 * the embedded stack, `baton await` and the Terraform inputs; the committed generated files
 * are what the declarations say; and the boundaries between folders hold.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const WITH_SAMPLE: readonly AnyStage[] = [...STAGES, smokeTest];

describe('a stage added to the list', () => {
  test('runs in the embedded stack, through the stage runner, with the declared retry limit', async () => {
    const runtime = testRuntime('in-process', 'pipelines:\n  - { name: shop, repository: acme/shop, branches: [main], services: [{ name: frontend, path: src/frontend/ }] }\n');
    const stack = await startEmbeddedStack(runtime, { manifest: manifestOf(WITH_SAMPLE), schedules: false });
    try {
      const finished: string[] = [];
      await runtime.bus().subscribe('deploy-finished', 'watch', async (message) => {
        const decoded = decodeEvent('deploy-finished', message.data);
        if (decoded.ok) finished.push(decoded.event.runId);
      });
      const run = newRun({ runId: 'shop-sample-1', after: 'a'.repeat(40), services: ['frontend'] });
      await emit(
        runtime,
        'chart-published',
        { runId: run.runId, pipeline: 'shop', chart: 'shop', chartVersion: '1.0.1', ociRef: 'oci://r/charts/shop:1.0.1', manifestDigest: `sha256:${'d'.repeat(64)}`, chartCommit: 'c'.repeat(40), images: [{ service: 'frontend', repository: 'r/frontend', tag: 'aaaaaaa', digest: `sha256:${'e'.repeat(64)}` }] },
        { run },
      );
      const recorded = await eventually(async () => (await runtime.ledger().getRun(run.runId))?.stages.smoke, 10_000, 'the smoke stage');
      expect(recorded).toMatchObject({ status: 'succeeded', detail: 'smoke-tested shop 1.0.1' });
      await (runtime.bus() as InProcessBus).idle();
      expect(finished).toEqual([run.runId]);
      expect(seen.find((entry) => entry.runId === run.runId)?.maxDeliveryAttempts).toBe(7);
      // The ledger's stage order comes from the list: the new stage sits after deploy.
      expect(manifestOf(WITH_SAMPLE).plan({ kind: 'app', pipeline: 'shop' })).toEqual(['intake', 'mirror', 'build', 'approval', 'chart', 'deploy', 'smoke']);
    } finally {
      await stack.close();
      await runtime.bus().close();
      await runtime.ledger().close();
    }
  });

  test('is listed by baton await', () => {
    expect(awaitStagesOf(WITH_SAMPLE).smoke).toEqual({ topic: 'deploy-finished', ledgerStage: 'smoke', defaultTimeoutSeconds: 300 });
    expect(Object.keys(awaitStagesOf(STAGES))).toEqual(['intake', 'mirror', 'build', 'approve', 'chart', 'deploy', 'verify']);
  });

  test('is in the generated Terraform inputs with exactly its grants', () => {
    expect(stagesJson(WITH_SAMPLE).stages.smokeTest).toEqual({
      entryPoint: 'smokeTest',
      doc: 'runs a smoke test against the published chart',
      trigger: 'topic',
      topics: ['chart-published'],
      schedule: '',
      public: false,
      // Its stage failing ends the run, and that write announces it.
      publishes: ['deploy-finished', 'run-finished'],
      projectRoles: ['roles/datastore.user', 'roles/monitoring.viewer'],
      actAs: [],
      buckets: {},
      repositories: {},
      env: ['GOOGLE_CLOUD_PROJECT', 'BATON_CONFIG', 'SLACK_CHANNEL'],
      secrets: ['ARGOCD_AUTH_TOKEN'],
      timeoutSeconds: 90,
      maxDeliveryAttempts: 7,
      vpc: false,
    });
  });
});

describe('stages.json, as committed', () => {
  const committed = JSON.parse(readFileSync(join(root, 'terraform/modules/functions/stages.json'), 'utf8')) as ReturnType<typeof stagesJson>;

  test('every generated file is what the code says (run `npm run generate` after changing a declaration)', () => {
    expect(staleFiles(root)).toEqual([]);
  });

  test.each(STAGES.map((stage) => [stage.name, stage] as const))('%s: the topics it may publish are its publisher grants, and its retry limit is the deployed one', (name, stage) => {
    expect(committed.stages[name]?.publishes).toEqual([...publishesOf(stage)]);
    if (isTopicStage(stage as AnyStage)) expect(committed.stages[name]?.maxDeliveryAttempts).toBe((stage as { maxDeliveryAttempts: number }).maxDeliveryAttempts);
  });

  test('a stale file is caught', () => {
    const copy = tempDir('baton-stale-');
    for (const file of generatedFiles(root)) {
      mkdirSync(dirname(join(copy, file.path)), { recursive: true });
      cpSync(join(root, file.path), join(copy, file.path));
    }
    expect(staleFiles(copy)).toEqual([]);
    const json = join(copy, 'terraform/modules/functions/stages.json');
    writeFileSync(json, readFileSync(json, 'utf8').replace('"build-started"', '"build-begun"'));
    expect(staleFiles(copy)).toEqual(['terraform/modules/functions/stages.json']);
  });
});

describe('boundaries', () => {
  function sources(dir: string): string[] {
    return readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
    });
  }
  const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((match) => relative(root, resolve(dirname(file), match[1]!)));

  test('nothing under shared/ imports functions/ or cli/', () => {
    const offenders = sources(join(root, 'shared')).flatMap((file) => imports(file).filter((target) => /^(functions|cli)\//.test(target)).map((target) => `${relative(root, file)} → ${target}`));
    expect(offenders).toEqual([]);
  });

  test('no stage imports another stage', () => {
    const offenders = sources(join(root, 'functions')).flatMap((file) => {
      const own = relative(join(root, 'functions'), file).split('/')[0]!;
      if (!file.includes('/functions/' + own + '/')) return [];
      return imports(file)
        .filter((target) => target.startsWith('functions/') && target.split('/').length > 2 && target.split('/')[1] !== own)
        .map((target) => `${relative(root, file)} → ${target}`);
    });
    expect(offenders).toEqual([]);
  });

  test('the ledger’s document store is private: nothing outside shared/ledger reaches it', () => {
    const offenders = [...sources(join(root, 'functions')), ...sources(join(root, 'domain')), ...sources(join(root, 'cli'))].filter((file) => /ledger(\(\))?\.store\b/.test(readFileSync(file, 'utf8')));
    expect(offenders.map((file) => relative(root, file))).toEqual([]);
  });
});
