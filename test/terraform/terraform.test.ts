/**
 * Terraform checks that run without provider downloads: formatting, parsing,
 * module layout and docs, references, and cross-checks against the topic
 * registry and the stage manifest (stages.json) with the environment catalog. Each cross-check is
 * also run on a deliberately broken copy, to prove it can fail.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { TOPICS, deadLetterTopic } from '../../shared/contracts/topics.js';
import { isSecretEnv } from '../../shared/config/envVars.js';
import { parseConfig } from '../../shared/config/pipelineConfig.js';
import { validateEnvironments } from '../../domain/environments/config.js';
import { stagesJson } from '../../functions/stagesJson.js';
import { type Body, type Json, type TfTree, addFile, emptyDir, first, isBody, loadTree, parseTf } from './hclTree.js';
import { evaluate, moduleContext } from './evaluate.js';
import {
  type ConfigEnvironment,
  type StagesJsonLike,
  type TfEnvironment,
  MANAGED_PROMETHEUS_URL,
  checkApplications,
  checkDeclarations,
  checkEnvironmentsMatch,
  checkPrometheus,
  checkEnvironment,
  checkFunctions,
  checkGrants,
  checkLayout,
  checkLogMetrics,
  checkNoPrimitiveRoles,
  checkProviders,
  checkPublicAccess,
  checkReferences,
  checkTopics,
  moduleDirs,
} from './checks.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tfRoot = path.join(repoRoot, 'terraform');
const dl = (t: string): string => deadLetterTopic(t as (typeof TOPICS)[number]);
const MANIFEST_JSON = stagesJson();

let tree: TfTree;
let readmes: Record<string, string | undefined>;

async function readIfExists(file: string): Promise<string | undefined> {
  return existsSync(file) ? fs.readFile(file, 'utf8') : undefined;
}

beforeAll(async () => {
  tree = await loadTree(tfRoot);
  readmes = {};
  for (const d of moduleDirs(tree)) readmes[d] = await readIfExists(path.join(tfRoot, d, 'README.md'));
}, 60_000);

function clone(t: TfTree): TfTree {
  return structuredClone(t);
}

function fnDir(t: TfTree) {
  return t.dirs['modules/functions']!;
}

function findTerraform(): string | undefined {
  for (const candidate of [process.env.TERRAFORM_BIN, 'terraform', '/usr/local/bin/terraform']) {
    if (!candidate) continue;
    const r = spawnSync(candidate, ['version'], { env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' } });
    if (r.status === 0) return candidate;
  }
  return undefined;
}

describe('terraform files', () => {
  const terraform = findTerraform();
  (terraform ? test : test.skip)('terraform fmt -check -recursive passes', () => {
    const r = spawnSync(terraform!, ['fmt', '-check', '-recursive', '-diff', tfRoot], {
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' },
    });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: '' });
  });
  if (!terraform) console.warn('terraform binary not found: fmt check skipped (parsing and cross-checks still run)');

  test('every .tf file parses', () => {
    const files = Object.values(tree.dirs).flatMap((d) => Object.keys(d.files));
    expect(files.length).toBeGreaterThan(40);
  });

  test('a syntax error is reported with the file name', async () => {
    await expect(parseTf('broken.tf', 'resource "google_pubsub_topic" "x" {\n  name = "a"\n')).rejects.toThrow(/broken\.tf/);
  });

  test('there is a module for each area of the issue, and envs/poc and bootstrap roots', () => {
    expect(moduleDirs(tree)).toEqual(
      ['alerts', 'artifact_registry', 'bastion', 'cicd', 'cloudbuild', 'functions', 'gke', 'ingress', 'network', 'observability', 'pubsub'].map((m) => `modules/${m}`),
    );
    expect(tree.dirs['envs/poc']).toBeDefined();
    expect(tree.dirs.bootstrap).toBeDefined();
  });

  test('modules have main/variables/outputs/versions and a README with usage, Inputs and Outputs', () => {
    expect(checkLayout(tree, readmes)).toEqual([]);
  });

  test('every variable has a description and a type; every output a description', () => {
    expect(checkDeclarations(tree)).toEqual([]);
  });

  test('providers are required with bounded versions', () => {
    expect(checkProviders(tree)).toEqual([]);
  });

  test('every reference resolves: variables, locals, module inputs and outputs', () => {
    expect(checkReferences(tree)).toEqual([]);
  });

  test('no service account gets roles/owner or roles/editor', async () => {
    const example = await fs.readFile(path.join(tfRoot, 'envs/poc/terraform.tfvars.example'), 'utf8');
    expect(checkNoPrimitiveRoles(tree, { 'envs/poc/terraform.tfvars.example': example })).toEqual([]);
  });

  test('only the public HTTP stages are public', () => {
    expect(checkPublicAccess(tree)).toEqual([]);
  });

  test('the example tfvars sets only declared variables, and every required one', async () => {
    const body = await parseTf('terraform.tfvars', await fs.readFile(path.join(tfRoot, 'envs/poc/terraform.tfvars.example'), 'utf8'));
    const vars = tree.dirs['envs/poc']!.variables;
    expect(Object.keys(body).filter((k) => !(k in vars))).toEqual([]);
    const required = Object.entries(vars).filter(([, v]) => !('default' in v)).map(([k]) => k);
    expect(required.filter((k) => !(k in body))).toEqual([]);
  });
});

describe('cross-checks with the project registries', () => {
  test('topics: Terraform declares exactly the topic registry, each with a dead-letter topic', () => {
    expect(checkTopics(tree, TOPICS, dl)).toEqual([]);
  });

  test('functions: one per stage of stages.json, with its triggers, entry point and runtime, and no target list in HCL', () => {
    expect(checkFunctions(tree, MANIFEST_JSON)).toEqual([]);
  });

  test('grants: publisher on exactly the declared topics, the declared roles and secrets; the retry limit Pub/Sub applies is the declared one', () => {
    expect(checkGrants(tree)).toEqual([]);
  });

  test('environment: every plain variable a stage reads has a value, and secrets stay secrets', () => {
    expect(checkEnvironment(tree, MANIFEST_JSON, isSecretEnv)).toEqual([]);
  });

  test('log-based metrics for the DORA dashboard', () => {
    expect(checkLogMetrics(tree)).toEqual([]);
  });
});

describe('the cross-checks catch broken references', () => {
  test('a topic renamed in Terraform only', () => {
    const t = clone(tree);
    const topics = t.dirs['modules/pubsub']!.locals.topics as string[];
    topics[topics.indexOf('approval-decided')] = 'approval-decidd';
    const problems = checkTopics(t, TOPICS, dl);
    expect(problems).toContain('topic approval-decided is in the topic registry but not in Terraform');
    expect(problems).toContain('topic approval-decidd is in Terraform but not in the topic registry');
  });

  test('a topic renamed in the registry only', () => {
    const registry = TOPICS.map((x) => (x === 'chart-published' ? 'chart-pushed' : x));
    expect(checkTopics(tree, registry, dl)).toEqual(
      expect.arrayContaining([
        'topic chart-pushed is in the topic registry but not in Terraform',
        'topic chart-published is in Terraform but not in the topic registry',
      ]),
    );
  });

  test('cloud-builds dropped from the cloudbuild module', () => {
    const t = clone(tree);
    delete t.dirs['modules/cloudbuild']!.resources.google_pubsub_topic;
    expect(checkTopics(t, TOPICS, dl)).toContain('topic cloud-builds is in the topic registry but not in Terraform');
  });

  test('a different dead-letter suffix', () => {
    const t = clone(tree);
    const locals = t.dirs['modules/pubsub']!.locals;
    locals.dead_letter_topics = String(locals.dead_letter_topics).replace('-dead-letter', '-dlq');
    expect(checkTopics(t, TOPICS, dl).join('\n')).toMatch(/dead_letter_topics/);
  });

  test('a target list written by hand, a function not from the manifest, a wrong entry point or retry policy', () => {
    const t = clone(tree);
    const fn = fnDir(t);
    fn.locals.vpc_targets = { deployWatch: true, chartBump: true };
    const f = fn.resources.google_cloudfunctions2_function!.main!;
    f.for_each = '${local.targets}';
    first(f.build_config).entry_point = '${each.key}';
    const content = first(first((f.dynamic as Body).event_trigger).content);
    content.retry_policy = 'RETRY_POLICY_DO_NOT_RETRY';
    content.event_type = 'google.cloud.storage.object.v1.finalized';
    const problems = checkFunctions(t, MANIFEST_JSON);
    expect(problems).toContain('modules/functions: local.vpc_targets lists stages by hand (deployWatch, chartBump)');
    expect(problems).toContain('modules/functions: the function resource must have for_each = local.stages');
    expect(problems).toContain("modules/functions: entry_point must be the stage's entryPoint (each.value.entryPoint)");
    expect(problems).toContain('modules/functions: retry_policy must be RETRY_POLICY_RETRY');
    expect(problems).toContain('modules/functions: event_type must be google.cloud.pubsub.topic.v1.messagePublished');
  });

  test('a grant not from the manifest, and a retry limit of its own in the pubsub module', () => {
    const t = clone(tree);
    fnDir(t).locals.publisher_grants = '${{ for t in ["push-received"] : t => t }}';
    const sub = t.dirs['modules/pubsub']!.resources.terraform_data!.function_subscription!;
    (first(first(sub.provisioner)['local-exec']).environment as Body).MAX_ATTEMPTS = '${var.max_delivery_attempts}';
    const problems = checkGrants(t);
    expect(problems).toContain("modules/functions: local.publisher_grants must come from each stage's publishes");
    expect(problems).toContain("modules/pubsub: a function subscription's max delivery attempts must be its stage's (each.value.max_delivery_attempts)");
  });

  test('a plain variable without a value, and a secret passed as plain', () => {
    const t = clone(tree);
    const values = fnDir(t).locals.plain_env_values as Body;
    delete values.SLACK_CHANNEL;
    values.SLACK_SIGNING_SECRET = 'x';
    const problems = checkEnvironment(t, MANIFEST_JSON, isSecretEnv);
    expect(problems).toContain("promotion reads SLACK_CHANNEL, which the functions module's plain_env_values does not give a value");
    expect(problems).toContain('SLACK_SIGNING_SECRET is a secret, but the functions module passes it as a plain value');
  });

  test('an undeclared variable, an unused one, and a misspelt local', () => {
    const t = clone(tree);
    const net = t.dirs['modules/network']!;
    const subnet = net.resources.google_compute_subnetwork!.main!;
    subnet.ip_cidr_range = '${var.subnet_cdir}';
    subnet.name = '${local.pod_range_name}-x';
    const problems = checkReferences(t);
    expect(problems).toContain('modules/network: var.subnet_cdir is used but not declared');
    expect(problems).toContain('modules/network: variable subnet_cidr is declared but never used');
    expect(problems).toContain('modules/network: local.pod_range_name is used but not defined');
  });

  test('a module input that the module does not declare, a missing required one, a wrong output', () => {
    const t = clone(tree);
    const poc = t.dirs['envs/poc']!;
    poc.modules.pubsub!.region = '${var.region}';
    delete poc.modules.functions!.slack_channel;
    poc.modules.cicd!.charts_repository_url = '${module.artifact_registry.chart_repo_url}';
    const problems = checkReferences(t);
    expect(problems).toContain('envs/poc: module pubsub sets region, which modules/pubsub does not declare');
    expect(problems).toContain('envs/poc: module functions does not set required input slack_channel of modules/functions');
    expect(problems).toContain('envs/poc: module.artifact_registry.chart_repo_url: modules/artifact_registry has no output chart_repo_url');
  });

  test('roles/editor or roles/owner anywhere', () => {
    const t = clone(tree);
    const roles = t.dirs['modules/cloudbuild']!.variables.terraform_roles!.default as string[];
    roles.push('roles/editor');
    t.dirs['modules/gke']!.resources.google_project_iam_member!.nodes!.role = 'roles/owner';
    const problems = checkNoPrimitiveRoles(t);
    expect(problems).toContain('modules/cloudbuild/variables.tf: grants roles/editor');
    expect(problems).toContain('modules/gke/main.tf: grants roles/owner');
  });

  test('a public invoker on something other than the public HTTP stages', () => {
    const t = clone(tree);
    const r = fnDir(t).resources.google_cloud_run_service_iam_member!;
    r.trigger_invoker!.member = 'allUsers';
    expect(checkPublicAccess(t)).toContain('modules/functions: google_cloud_run_service_iam_member.trigger_invoker makes something public; only the public HTTP stages may be');
  });

  test('a log metric renamed or reading the wrong field', () => {
    const t = clone(tree);
    const metrics = t.dirs['modules/observability']!.locals.log_metrics as Body;
    metrics.baton_deploys = metrics.baton_deployments!;
    delete metrics.baton_deployments;
    (metrics.baton_lead_time_seconds as Body).field = 'jsonPayload.leadTime';
    const problems = checkLogMetrics(t);
    expect(problems).toContain('log metric baton_deployments is missing');
    expect(problems).toContain('baton_lead_time_seconds: value must be extracted from jsonPayload.leadTimeSeconds');
  });

  test('a module without README tables or with an unbounded provider', () => {
    const t = clone(tree);
    const versions = t.dirs['modules/pubsub']!.terraform[0]!;
    const providers = first(versions.required_providers);
    (providers.google as Body).version = '>= 6.0';
    expect(checkProviders(t)).toContain('modules/pubsub: provider google needs a bounded version such as ">= 6.0, < 8.0" (has >= 6.0)');
    expect(checkLayout(t, { ...readmes, 'modules/pubsub': '# pubsub\n' })).toEqual(
      expect.arrayContaining(['modules/pubsub/README.md: no "## Inputs" table', 'modules/pubsub/README.md: input project_id is not in the Inputs table']),
    );
  });

  test('on disk: renaming a topic in one file of a copy of terraform/ is caught', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'baton-tf-'));
    try {
      await fs.cp(tfRoot, path.join(tmp, 'terraform'), { recursive: true, filter: (src) => !src.includes(`${path.sep}.terraform`) });
      const main = path.join(tmp, 'terraform/modules/pubsub/main.tf');
      const text = await fs.readFile(main, 'utf8');
      expect(text).toContain('"deploy-finished",');
      await fs.writeFile(main, text.replace('"deploy-finished",', '"deploy-done",'));
      const broken = await loadTree(path.join(tmp, 'terraform'));
      expect(checkTopics(broken, TOPICS, dl)).toEqual(
        expect.arrayContaining([
          'topic deploy-finished is in the topic registry but not in Terraform',
          'topic deploy-done is in Terraform but not in the topic registry',
        ]),
      );
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('Cloud Build configs', () => {
  async function steps(rel: string): Promise<string> {
    const doc = YAML.parse(await fs.readFile(path.join(tfRoot, rel), 'utf8')) as { steps: Array<Record<string, unknown>> };
    expect(Array.isArray(doc.steps)).toBe(true);
    return doc.steps.map((s) => [...((s.args as string[] | undefined) ?? []), (s.script as string | undefined) ?? ''].join(' ')).join('\n');
  }

  test('plan.yaml: fmt -check, validate, plan -out, show -json, the report, upload for the run', async () => {
    const text = await steps('cloudbuild/plan.yaml');
    for (const needle of ['fmt -check', ' validate', 'plan -input=false', '-out=tfplan', 'show -json tfplan', 'summarizePlan', 'gs://${_PLANS_BUCKET}/${_RUN_ID}/']) {
      expect(text).toContain(needle);
    }
  });

  test('apply.yaml: applies the saved plan after checking its digest', async () => {
    const text = await steps('cloudbuild/apply.yaml');
    expect(text).toMatch(/apply -input=false -lock-timeout=\S+ tfplan/);
    expect(text).toContain('${_PLAN_SHA256}');
    expect(text).not.toMatch(/-auto-approve/);
  });

  test('ci/cloudbuild.yaml: init, validate, plan and tflint', async () => {
    const text = await steps('ci/cloudbuild.yaml');
    for (const needle of [' init ', ' validate', ' plan ', 'tflint --recursive']) expect(text).toContain(needle);
  });

  test('the scripts they call exist and are executable', async () => {
    for (const s of ['scripts/install-tools.sh', 'scripts/package-functions.sh']) {
      const stat = await fs.stat(path.join(tfRoot, s));
      expect(stat.mode & 0o111).not.toBe(0);
      execFileSync('bash', ['-n', path.join(tfRoot, s)]);
    }
  });
});

describe('hclTree', () => {
  test('folds several files of one directory into one view', async () => {
    const d = emptyDir('x');
    addFile(d, 'a.tf', await parseTf('a.tf', 'variable "v" {\n  type = string\n}\nlocals {\n  a = 1\n}\n'));
    addFile(d, 'b.tf', await parseTf('b.tf', 'locals {\n  b = var.v\n}\nresource "google_pubsub_topic" "t" {\n  name = "n"\n}\n'));
    expect(Object.keys(d.variables)).toEqual(['v']);
    expect(d.locals).toEqual({ a: 1, b: '${var.v}' });
    expect(isBody(d.resources.google_pubsub_topic?.t) && d.resources.google_pubsub_topic!.t!.name).toBe('n');
  });
});

describe('environments: one Argo CD Application each, the same as the poc\'s pipeline config', () => {
  const EXAMPLE = 'envs/poc/baton.yaml.example';
  let configText: string;
  let configEnvironments: ConfigEnvironment[];
  let tfEnvironments: TfEnvironment[];

  beforeAll(async () => {
    configText = await fs.readFile(path.join(tfRoot, EXAMPLE), 'utf8');
    const raw = YAML.parse(configText) as { pipelines: Array<{ environments?: ConfigEnvironment[] }> };
    configEnvironments = raw.pipelines.flatMap((pipeline) => pipeline.environments ?? []);
    const tfvars = (await parseTf('terraform.tfvars', await fs.readFile(path.join(tfRoot, 'envs/poc/terraform.tfvars.example'), 'utf8'))) as Record<string, Json>;
    const ctx = moduleContext(tree, 'envs/poc', 'cicd', tfvars);
    tfEnvironments = evaluate('${var.environments}', ctx) as unknown as TfEnvironment[];
  });

  test('the poc\'s pipeline config loads, and its environments validate', () => {
    expect(() => parseConfig(configText, EXAMPLE)).not.toThrow();
    const raw = YAML.parse(configText) as { pipelines: Array<{ environments?: unknown }> };
    expect(raw.pipelines.map((pipeline, index) => validateEnvironments(pipeline.environments, `pipelines[${index}]`))).toEqual([[]]);
  });

  test('the poc has dev (auto) then prod (approval), each with its own Application, namespace and values file', () => {
    expect(tfEnvironments).toEqual([
      { name: 'dev', application: 'online-boutique-dev', namespace: 'boutique-dev', values_file: 'values-dev.yaml' },
      { name: 'prod', application: 'online-boutique-prod', namespace: 'boutique-prod', values_file: 'values-prod.yaml' },
    ]);
    expect(configEnvironments.map((e) => [e.name, (e as { promotion?: string }).promotion])).toEqual([
      ['dev', 'auto'],
      ['prod', 'approval'],
    ]);
  });

  test('the cicd module makes one Application per environment from var.environments', () => {
    expect(checkApplications(tree)).toEqual([]);
  });

  test('every environment of the config has a Terraform Application of the same name, and every Terraform Application an environment', () => {
    expect(checkEnvironmentsMatch(tfEnvironments, configEnvironments, EXAMPLE)).toEqual([]);
  });

  test('a config environment without an Application, an Application without an environment, a values file or an order that differs', () => {
    const renamed = configEnvironments.map((e) => (e.name === 'prod' ? { ...e, argocd: { application: 'boutique-production' } } : e));
    expect(checkEnvironmentsMatch(tfEnvironments, renamed, EXAMPLE)).toEqual([
      `${EXAMPLE}: environment prod deploys Argo CD Application boutique-production, which Terraform does not create`,
      `Terraform creates Argo CD Application online-boutique-prod (environment prod), which no environment of ${EXAMPLE} deploys`,
    ]);
    const staging = [...tfEnvironments, { name: 'staging', application: 'online-boutique-staging', namespace: 'boutique-staging', values_file: 'values-staging.yaml' }];
    expect(checkEnvironmentsMatch(staging, configEnvironments, EXAMPLE)).toEqual([`Terraform creates Argo CD Application online-boutique-staging (environment staging), which no environment of ${EXAMPLE} deploys`]);
    const otherValues = configEnvironments.map((e) => (e.name === 'dev' ? { ...e, values: 'values.yaml' } : e));
    expect(checkEnvironmentsMatch(tfEnvironments, otherValues, EXAMPLE)).toEqual([`${EXAMPLE}: environment dev pins its release in values.yaml, but its Application reads values-dev.yaml`]);
    expect(checkEnvironmentsMatch(tfEnvironments, [...configEnvironments].reverse(), EXAMPLE)).toEqual([`environments are in a different order: dev, prod in Terraform, prod, dev in ${EXAMPLE}`]);
  });

  test('an Application written for one environment only is caught', () => {
    const t = clone(tree);
    const cicd = t.dirs['modules/cicd']!;
    cicd.locals.applications = '${{ (local.application.metadata.name) = local.application.spec }}';
    cicd.locals.project_spec = '${local.project.spec}';
    const problems = checkApplications(t);
    expect(problems).toContain('modules/cicd: local.applications must make one Application per var.environments entry (for e in var.environments : e.application =>)');
    expect(problems).toContain("modules/cicd: the AppProject's destinations must be exactly the environments' namespaces");
  });
});

describe('Prometheus for release verification', () => {
  /** The manifest with a verifyRelease entry as the lead declares it (env PROMETHEUS_URL, roles.project monitoring.viewer), until it is in functions/stages.ts. */
  function withVerifier(change: (stage: StagesJsonLike['stages'][string]) => void = () => {}): StagesJsonLike {
    const manifest = structuredClone(MANIFEST_JSON) as unknown as StagesJsonLike;
    const stage = manifest.stages.verifyRelease ?? { ...structuredClone(manifest.stages.deployWatch!), entryPoint: 'verifyRelease' };
    stage.env = [...new Set([...stage.env, 'PROMETHEUS_URL'])];
    stage.projectRoles = [...new Set([...(stage.projectRoles ?? []), 'roles/monitoring.viewer'])];
    change(stage);
    manifest.stages.verifyRelease = stage;
    return manifest;
  }

  test('PROMETHEUS_URL is the project\'s Managed Prometheus frontend, and every stage that reads it may query it', () => {
    expect(MANAGED_PROMETHEUS_URL).toBe('https://monitoring.googleapis.com/v1/projects/${var.project_id}/location/global/prometheus');
    expect(checkPrometheus(tree, MANIFEST_JSON)).toEqual([]);
    expect(checkPrometheus(tree, withVerifier())).toEqual([]);
    expect(checkEnvironment(tree, withVerifier(), isSecretEnv)).toEqual([]);
  });

  test('a reader without roles/monitoring.viewer, a verifyRelease that does not read it, a missing or different URL', () => {
    expect(checkPrometheus(tree, withVerifier((s) => (s.projectRoles = ['roles/datastore.user'])))).toEqual([
      'verifyRelease reads PROMETHEUS_URL but has no roles/monitoring.viewer on the project (add it to roles.project in its stage declaration)',
    ]);
    expect(checkPrometheus(tree, withVerifier((s) => (s.env = s.env.filter((e) => e !== 'PROMETHEUS_URL'))))).toEqual(['verifyRelease does not declare PROMETHEUS_URL in its env']);
    const t = clone(tree);
    const values = fnDir(t).locals.plain_env_values as Body;
    values.PROMETHEUS_URL = 'http://prometheus.monitoring:9090';
    expect(checkPrometheus(t, withVerifier())).toEqual([
      `modules/functions: PROMETHEUS_URL must be the project's Managed Prometheus frontend ${MANAGED_PROMETHEUS_URL}, not http://prometheus.monitoring:9090`,
    ]);
    delete values.PROMETHEUS_URL;
    expect(checkPrometheus(t, withVerifier())).toContain(`modules/functions: plain_env_values has no PROMETHEUS_URL (the Managed Prometheus frontend, ${MANAGED_PROMETHEUS_URL})`);
    expect(checkEnvironment(t, withVerifier(), isSecretEnv)).toContain("verifyRelease reads PROMETHEUS_URL, which the functions module's plain_env_values does not give a value");
  });

  test('on disk: dropping PROMETHEUS_URL from a copy of the functions module is caught', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'baton-tf-'));
    try {
      await fs.cp(tfRoot, path.join(tmp, 'terraform'), { recursive: true, filter: (src) => !src.includes(`${path.sep}.terraform`) });
      const main = path.join(tmp, 'terraform/modules/functions/main.tf');
      const text = await fs.readFile(main, 'utf8');
      const line = /\n\s*PROMETHEUS_URL = "[^"]*"/;
      expect(text).toMatch(line);
      await fs.writeFile(main, text.replace(line, ''));
      expect(checkPrometheus(await loadTree(path.join(tmp, 'terraform')), withVerifier())).toEqual([expect.stringMatching(/plain_env_values has no PROMETHEUS_URL/)]);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
