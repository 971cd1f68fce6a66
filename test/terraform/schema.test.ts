/**
 * terraform/ against the providers' real schemas (provider-schemas.json: google 6.50.0,
 * kubernetes 2.38.0, helm 3.1.1, extracted by scripts/extract-provider-schemas.mjs from the CDK
 * for Terraform provider packages). The real tree must be clean, the extraction must match what
 * is known of a few resources, and deliberately broken copies of the tree, on disk, must fail
 * with the problem they were broken with.
 */
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { first, loadTree } from './hclTree.js';
import { checkReferences } from './checks.js';
import { checkResourceReferences, checkSchemas, loadSchemas, loadSources, type SourceFile } from './schemaCheck.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tfRoot = path.join(repoRoot, 'terraform');
const schemas = loadSchemas();
let sources: SourceFile[];

beforeAll(async () => {
  sources = await loadSources(tfRoot);
});

describe('provider schemas', () => {
  test('cover google 6.50.0, kubernetes 2.38.0 and helm 3.1.1, from the CDK for Terraform packages', () => {
    expect(schemas.providers).toEqual({
      google: { source: 'hashicorp/google', version: '6.50.0', from: '@cdktf/provider-google@16.12.1' },
      kubernetes: { source: 'hashicorp/kubernetes', version: '2.38.0', from: '@cdktf/provider-kubernetes@12.1.1' },
      helm: { source: 'hashicorp/helm', version: '3.1.1', from: '@cdktf/provider-helm@12.1.2' },
    });
    expect(Object.keys(schemas.resources).length).toBeGreaterThan(1000);
    expect(Object.keys(schemas.data).length).toBeGreaterThan(300);
  });

  test('the extraction matches what is known of a few resources', () => {
    const cluster = schemas.resources.google_container_cluster!;
    expect(cluster.a).toMatchObject({ name: 'r', location: 'o', endpoint: 'c', deletion_protection: 'o' });
    expect(cluster.b?.private_cluster_config).toMatchObject({ m: 1, a: { enable_private_nodes: 'o' } });
    expect(cluster.b?.node_pool?.m).toBeUndefined(); // a list of blocks
    const fn = schemas.resources.google_cloudfunctions2_function!;
    expect(fn.a).toMatchObject({ name: 'r', location: 'r', url: 'c' });
    // event_trigger is a block: `event_trigger { … }`, never `event_trigger = { … }`.
    expect(fn.b?.event_trigger).toMatchObject({ m: 1, a: { event_type: 'o', pubsub_topic: 'o', retry_policy: 'o', trigger_region: 'o', service_account_email: 'o' } });
    expect(fn.a?.event_trigger).toBeUndefined();
    // helm 3: set and postrender are arguments holding objects; so is the provider's kubernetes.
    expect(schemas.resources.helm_release!.a?.set).toEqual(['o', { a: { name: 'r', type: 'o', value: 'o' } }]);
    expect(schemas.resources.helm_release!.b?.set).toBeUndefined();
    expect(schemas.provider.helm!.a?.kubernetes).toEqual(['o', expect.objectContaining({ a: expect.objectContaining({ host: 'o', token: 'o' }) })]);
    expect(schemas.resources.kubernetes_cron_job_v1!.b?.metadata).toMatchObject({ r: 1, m: 1 });
    expect(schemas.data.google_client_config!.a).toMatchObject({ access_token: 'c' });
    expect(schemas.resources.google_monitoring_alert_policy!.b?.conditions?.b?.condition_threshold?.a).toMatchObject({ comparison: 'r', denominator_filter: 'o' });
  });

  test('the version ranges of every versions.tf admit the versions checked, and terraform/README.md names them', async () => {
    const tree = await loadTree(tfRoot);
    let ranges = 0;
    for (const d of Object.values(tree.dirs)) {
      for (const t of d.terraform) {
        for (const [name, spec] of Object.entries(first(t.required_providers))) {
          const range = (spec as { version: string }).version.replace(/,/g, ' ');
          const checked = schemas.providers[name]?.version;
          expect({ dir: d.dir, name, checked: checked !== undefined && semver.satisfies(checked, range) }).toEqual({ dir: d.dir, name, checked: true });
          ranges++;
        }
      }
    }
    expect(ranges).toBeGreaterThan(10);
    const readme = readFileSync(path.join(tfRoot, 'README.md'), 'utf8');
    for (const [name, p] of Object.entries(schemas.providers)) expect(readme).toContain(`${name} ${p.version}`);
  });
});

describe('terraform/ against the schemas', () => {
  test('every resource, data source and provider block, argument and nested block exists; required ones are given; blocks are blocks', () => {
    expect(sources.length).toBeGreaterThan(40);
    expect(checkSchemas(sources, schemas)).toEqual([]);
  });

  test('every reference to a resource or data source names a declared one and an attribute it has', () => {
    expect(checkResourceReferences(sources, schemas)).toEqual([]);
  });
});

// [what, file under terraform/, text to find, replacement, the problem it must cause]
const BROKEN: [string, string, string, string, RegExp][] = [
  ['an unknown resource type', 'modules/ingress/main.tf', 'resource "google_compute_address" "main"', 'resource "google_compute_adress" "main"', /modules\/ingress\/main\.tf:\d+: unknown resource type google_compute_adress \(not in google 6\.50\.0, helm 3\.1\.1, kubernetes 2\.38\.0\)/],
  ['an unknown data source', 'envs/poc/providers.tf', 'data "google_client_config" "current" {}', 'data "google_client_configuration" "current" {}', /unknown data source google_client_configuration/],
  ['an unknown argument', 'modules/ingress/main.tf', '  address_type = "EXTERNAL"\n', '  address_type = "EXTERNAL"\n  colour       = "blue"\n', /modules\/ingress\/main\.tf: google_compute_address\.main\.colour \(line \d+\): unknown argument colour/],
  ['an unknown nested block', 'modules/gke/main.tf', '  private_cluster_config {', '  private_cluster_configuration {', /google_container_cluster\.main\.private_cluster_configuration \(line \d+\): unknown block private_cluster_configuration/],
  ['a block written as an argument', 'modules/observability/main.tf', '  metric_descriptor {', '  metric_descriptor = {', /google_logging_metric\.main\.metric_descriptor \(line \d+\): metric_descriptor is a block: write metric_descriptor \{ … \}, not metric_descriptor = …/],
  ['an argument written as a block (helm 2 syntax on helm 3)', 'envs/poc/providers.tf', '  kubernetes = {', '  kubernetes {', /provider helm\.kubernetes \(line \d+\): kubernetes is an argument, not a block: write kubernetes = \{ … \}/],
  ['helm 2\'s set block on helm_release', 'modules/ingress/main.tf', '  values = [yamlencode(local.chart_values)]', '  values = [yamlencode(local.chart_values)]\n\n  set {\n    name  = "name"\n    value = "x"\n  }', /helm_release\.main\.set \(line \d+\): set is an argument, not a block/],
  ['a dynamic block for an argument', 'modules/observability/main.tf', '    dynamic "labels" {', '    dynamic "unit" {', /google_logging_metric\.main\.metric_descriptor\.dynamic "unit" \(line \d+\): unit is an argument, and dynamic makes blocks/],
  ['a missing required argument', 'modules/ingress/main.tf', '  name         = var.name\n  region', '  region', /google_compute_address\.main: missing required argument name/],
  ['a missing required nested argument', 'modules/alerts/main.tf', '      comparison      = "COMPARISON_GT"\n      threshold_value = var.dead_letter_threshold', '      threshold_value = var.dead_letter_threshold', /google_monitoring_alert_policy\.dead_letters\.conditions\.condition_threshold: missing required argument comparison/],
  ['a missing required block', 'modules/observability/main.tf', '  metadata {\n    name = each.value\n  }\n', '', /kubernetes_namespace_v1\.main: missing required block metadata \{ … \}/],
  ['a read-only attribute set', 'modules/ingress/main.tf', '  address_type = "EXTERNAL"\n', '  address_type = "EXTERNAL"\n  self_link    = "x"\n', /google_compute_address\.main\.self_link \(line \d+\): self_link is read-only/],
  ['an unknown key in an object argument', 'envs/poc/providers.tf', '    token = data.google_client_config.current.access_token\n  }', '    tokn = data.google_client_config.current.access_token\n  }', /provider helm\.kubernetes \(line \d+\): unknown key tokn/],
  ['a block given twice that may appear once', 'modules/alerts/main.tf', '  alert_strategy {\n    auto_close = "86400s"\n  }\n}\n\n# --- Runs stuck', '  alert_strategy {\n    auto_close = "86400s"\n  }\n\n  alert_strategy {\n    auto_close = "3600s"\n  }\n}\n\n# --- Runs stuck', /google_monitoring_alert_policy\.dead_letters: block alert_strategy may appear once, found 2/],
];

const BROKEN_REFERENCES: [string, string, string, string, RegExp][] = [
  ['a resource attribute that does not exist', 'modules/ingress/outputs.tf', 'google_compute_address.main.address', 'google_compute_address.main.adress', /modules\/ingress\/outputs\.tf: google_compute_address\.main\.adress: google_compute_address has no attribute adress/],
  ['a resource that is not declared', 'modules/ingress/outputs.tf', 'google_compute_address.main.address', 'google_compute_address.other.address', /google_compute_address\.other is referenced but not declared in modules\/ingress/],
  ['a data source attribute that does not exist', 'envs/poc/providers.tf', 'token = data.google_client_config.current.access_token\n}', 'token = data.google_client_config.current.access_tokn\n}', /data\.google_client_config\.current\.access_tokn: google_client_config has no attribute access_tokn/],
  ['an indexed resource with a wrong attribute', 'modules/alerts/main.tf', '[for c in google_monitoring_notification_channel.email : c.id]', '[google_monitoring_notification_channel.email["x"].identifier]', /google_monitoring_notification_channel\.email\.identifier: google_monitoring_notification_channel has no attribute identifier/],
];

async function brokenCopy(file: string, find: string, replace: string): Promise<string> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'baton-tf-schema-'));
  await fs.cp(tfRoot, path.join(tmp, 'terraform'), { recursive: true, filter: (src) => !src.includes(`${path.sep}.terraform`) });
  const target = path.join(tmp, 'terraform', file);
  const text = await fs.readFile(target, 'utf8');
  if (!text.includes(find)) throw new Error(`${file} no longer contains ${JSON.stringify(find)}: update this row`);
  await fs.writeFile(target, text.replace(find, replace));
  return tmp;
}

describe('broken copies of terraform/ on disk fail', () => {
  test.each(BROKEN)('%s', async (_what, file, find, replace, problem) => {
    const tmp = await brokenCopy(file, find, replace);
    try {
      const problems = checkSchemas(await loadSources(path.join(tmp, 'terraform')), schemas);
      expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  test.each(BROKEN_REFERENCES)('%s', async (_what, file, find, replace, problem) => {
    const tmp = await brokenCopy(file, find, replace);
    try {
      const problems = checkResourceReferences(await loadSources(path.join(tmp, 'terraform')), schemas);
      expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  test('a module call with an argument the module does not declare, and without a required one', async () => {
    const tmp = await brokenCopy('envs/poc/main.tf', '  function_names      = module.functions.function_names\n', '  function_name       = module.functions.function_names\n');
    try {
      const problems = checkReferences(await loadTree(path.join(tmp, 'terraform')));
      expect(problems).toEqual(
        expect.arrayContaining([
          'envs/poc: module alerts sets function_name, which modules/alerts does not declare',
          'envs/poc: module alerts does not set required input function_names of modules/alerts',
        ]),
      );
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  test('for_each over decoded JSON, dynamic blocks and each.value references are followed, not failed', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'baton-tf-schema-'));
    try {
      await fs.mkdir(path.join(tmp, 'm'));
      await fs.writeFile(
        path.join(tmp, 'm', 'main.tf'),
        `locals {
  stages = jsondecode(file("\${path.module}/stages.json"))
}

resource "google_cloud_scheduler_job" "main" {
  for_each = { for name, s in local.stages : name => s if try(s.schedule, null) != null }

  name     = "baton-\${each.key}"
  schedule = each.value.schedule
  region   = each.value.region

  dynamic "pubsub_target" {
    for_each = try(each.value.topic, null) == null ? [] : [each.value.topic]
    content {
      topic_name = pubsub_target.value
      data       = base64encode(jsonencode({ stage = each.key }))
    }
  }
}

resource "google_eventarc_trigger" "main" {
  for_each = local.stages

  name            = each.key
  location        = each.value.region
  service_account = each.value.sa

  matching_criteria {
    attribute = "type"
    value     = each.value.event
  }

  destination {
    cloud_run_service {
      service = each.value.service
      region  = each.value.region
    }
  }
}

output "jobs" {
  value = { for k, j in google_cloud_scheduler_job.main : k => j.id }
}

output "triggers" {
  value = [for t in google_eventarc_trigger.main : t.name]
}
`,
      );
      const src = await loadSources(tmp);
      expect(checkSchemas(src, schemas)).toEqual([]);
      expect(checkResourceReferences(src, schemas)).toEqual([]);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});
