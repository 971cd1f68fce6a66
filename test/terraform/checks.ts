/**
 * Static cross-checks between terraform/ and the project's registries (topics,
 * targets, environment). Each check returns a list of problems, empty when all is
 * well, so a test can assert both that the real tree is clean and that a broken
 * copy is caught.
 */
import path from 'node:path';
import { type Body, type Json, type TfDir, type TfTree, first, isBody, strings } from './hclTree.js';


const MODULE_META_ARGS = new Set(['source', 'version', 'providers', 'depends_on', 'count', 'for_each']);
const REQUIRED_MODULE_FILES = ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf'];

const VAR_RE = /(?<![\w.])var\.([A-Za-z_][A-Za-z0-9_-]*)/g;
const LOCAL_RE = /(?<![\w.])local\.([A-Za-z_][A-Za-z0-9_-]*)/g;
const MODULE_RE = /(?<![\w.])module\.([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_-]*)/g;

function dir(tree: TfTree, name: string, problems: string[]): TfDir | undefined {
  const d = tree.dirs[name];
  if (!d) problems.push(`${name}: directory with .tf files is missing`);
  return d;
}

function asString(value: Json | undefined): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

function stringList(value: Json | undefined): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

function sameSet(a: Iterable<string>, b: Iterable<string>): { missing: string[]; extra: string[] } {
  const sa = new Set(a);
  const sb = new Set(b);
  return { missing: [...sb].filter((x) => !sa.has(x)).sort(), extra: [...sa].filter((x) => !sb.has(x)).sort() };
}

export function moduleDirs(tree: TfTree): string[] {
  return Object.keys(tree.dirs).filter((d) => /^modules\/[^/]+$/.test(d)).sort();
}

export function rootDirs(tree: TfTree): string[] {
  return Object.keys(tree.dirs).filter((d) => d.startsWith('envs/') || d === 'bootstrap').sort();
}

// --- layout and documentation ------------------------------------------------

export function checkLayout(tree: TfTree, readmes: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const d of moduleDirs(tree)) {
    for (const f of REQUIRED_MODULE_FILES) {
      if (!tree.dirs[d]!.files[f]) problems.push(`${d}: ${f} is missing`);
    }
    const readme = readmes[d];
    if (readme === undefined) {
      problems.push(`${d}: README.md is missing`);
      continue;
    }
    if (!/```hcl[\s\S]*module\s+"/.test(readme)) problems.push(`${d}/README.md: no usage block (\`\`\`hcl module "...")`);
    if (!/^## Inputs/m.test(readme)) problems.push(`${d}/README.md: no "## Inputs" table`);
    if (!/^## Outputs/m.test(readme)) problems.push(`${d}/README.md: no "## Outputs" table`);
    for (const v of Object.keys(tree.dirs[d]!.variables)) {
      if (!readme.includes(`| \`${v}\` |`)) problems.push(`${d}/README.md: input ${v} is not in the Inputs table`);
    }
    for (const o of Object.keys(tree.dirs[d]!.outputs)) {
      if (!readme.includes(`| \`${o}\` |`)) problems.push(`${d}/README.md: output ${o} is not in the Outputs table`);
    }
  }
  return problems;
}

export function checkDeclarations(tree: TfTree): string[] {
  const problems: string[] = [];
  for (const d of Object.values(tree.dirs)) {
    for (const [name, v] of Object.entries(d.variables)) {
      if (typeof v.description !== 'string' || v.description.trim() === '') problems.push(`${d.dir}: variable ${name} has no description`);
      if (v.type === undefined) problems.push(`${d.dir}: variable ${name} has no type`);
      for (const val of Array.isArray(v.validation) ? v.validation : []) {
        if (!isBody(val) || typeof val.error_message !== 'string') problems.push(`${d.dir}: variable ${name} has a validation without error_message`);
      }
    }
    for (const [name, o] of Object.entries(d.outputs)) {
      if (typeof o.description !== 'string' || o.description.trim() === '') problems.push(`${d.dir}: output ${name} has no description`);
    }
  }
  return problems;
}

/** Every provider a directory uses is required there with a version range bounded on both sides. */
export function checkProviders(tree: TfTree): string[] {
  const problems: string[] = [];
  for (const d of [...moduleDirs(tree), ...rootDirs(tree)].map((n) => tree.dirs[n]!)) {
    const required: Record<string, Json> = {};
    let requiredVersion: Json | undefined;
    for (const t of d.terraform) {
      Object.assign(required, first(t.required_providers));
      requiredVersion ??= t.required_version;
    }
    if (typeof requiredVersion !== 'string') problems.push(`${d.dir}: terraform.required_version is missing`);
    for (const [name, spec] of Object.entries(required)) {
      const version = isBody(spec) ? spec.version : undefined;
      if (typeof version !== 'string' || !/>=?/.test(version) || !/<(?!=)/.test(version)) {
        problems.push(`${d.dir}: provider ${name} needs a bounded version such as ">= 6.0, < 8.0" (has ${asString(version)})`);
      }
    }
    const used = new Set<string>();
    for (const type of [...Object.keys(d.resources), ...Object.keys(d.data)]) {
      const prefix = type.split('_')[0]!;
      if (prefix !== 'terraform') used.add(prefix);
    }
    for (const p of used) {
      if (!(p in required)) problems.push(`${d.dir}: uses ${p}_* but does not require provider ${p}`);
    }
  }
  return problems;
}

// --- references ----------------------------------------------------------------

type Refs = { vars: Set<string>; ownValidationVars: Set<string>; locals: Set<string>; moduleOutputs: Array<[string, string]> };

function collectRefs(d: TfDir): Refs {
  const refs: Refs = { vars: new Set(), ownValidationVars: new Set(), locals: new Set(), moduleOutputs: [] };
  const scan = (texts: string[], into: Set<string>): void => {
    for (const s of texts) {
      for (const m of s.matchAll(VAR_RE)) into.add(m[1]!);
      for (const m of s.matchAll(LOCAL_RE)) refs.locals.add(m[1]!);
      for (const m of s.matchAll(MODULE_RE)) refs.moduleOutputs.push([m[1]!, m[2]!]);
    }
  };
  for (const body of Object.values(d.files)) {
    for (const [kind, blocks] of Object.entries(body)) {
      if (kind === 'variable' && isBody(blocks)) {
        // A variable's own validation is not a use of it.
        for (const v of Object.values(blocks)) scan(strings(first(v).validation), refs.ownValidationVars);
      } else if (kind === 'output' && isBody(blocks)) {
        for (const o of Object.values(blocks)) scan(strings(first(o).value).concat(strings(first(o).depends_on)), refs.vars);
      } else {
        scan(strings(blocks), refs.vars);
      }
    }
  }
  return refs;
}

export function resolveModuleSource(fromDir: string, source: string): string {
  return path.posix.normalize(path.posix.join(fromDir, source));
}

/**
 * Every var.X is declared and every declared variable is used; every local.X is
 * defined; every module input exists in that module and every required one is
 * given; every module.M.O names an existing module and output.
 */
export function checkReferences(tree: TfTree): string[] {
  const problems: string[] = [];
  for (const d of Object.values(tree.dirs)) {
    const refs = collectRefs(d);
    for (const v of new Set([...refs.vars, ...refs.ownValidationVars])) {
      if (!(v in d.variables)) problems.push(`${d.dir}: var.${v} is used but not declared`);
    }
    for (const v of Object.keys(d.variables)) {
      if (!refs.vars.has(v)) problems.push(`${d.dir}: variable ${v} is declared but never used`);
    }
    for (const l of refs.locals) {
      if (!(l in d.locals)) problems.push(`${d.dir}: local.${l} is used but not defined`);
    }
    for (const [name, call] of Object.entries(d.modules)) {
      const source = call.source;
      if (typeof source !== 'string' || !source.startsWith('.')) continue; // registry modules: not ours
      const target = tree.dirs[resolveModuleSource(d.dir, source)];
      if (!target) {
        problems.push(`${d.dir}: module ${name} has source ${source}, which holds no .tf files`);
        continue;
      }
      const given = Object.keys(call).filter((k) => !MODULE_META_ARGS.has(k));
      for (const input of given) {
        if (!(input in target.variables)) problems.push(`${d.dir}: module ${name} sets ${input}, which ${target.dir} does not declare`);
      }
      for (const [v, spec] of Object.entries(target.variables)) {
        if (!('default' in spec) && !given.includes(v)) problems.push(`${d.dir}: module ${name} does not set required input ${v} of ${target.dir}`);
      }
    }
    for (const [m, o] of refs.moduleOutputs) {
      const call = d.modules[m];
      if (!call) {
        problems.push(`${d.dir}: module.${m}.${o} refers to an undeclared module ${m}`);
        continue;
      }
      const target = typeof call.source === 'string' ? tree.dirs[resolveModuleSource(d.dir, call.source)] : undefined;
      if (target && !(o in target.outputs)) problems.push(`${d.dir}: module.${m}.${o}: ${target.dir} has no output ${o}`);
    }
  }
  return problems;
}

// --- IAM -------------------------------------------------------------------------

const PRIMITIVE_ROLES = ['roles/owner', 'roles/editor'];

export function checkNoPrimitiveRoles(tree: TfTree, extraTexts: Record<string, string> = {}): string[] {
  const problems: string[] = [];
  const grants = (s: string, role: string): boolean => s === role || s.includes(`"${role}"`);
  for (const d of Object.values(tree.dirs)) {
    for (const [file, body] of Object.entries(d.files)) {
      // Descriptions and the validations that forbid these roles may name them;
      // a value that is (or quotes) the role is a grant.
      const values: string[] = [];
      for (const [kind, blocks] of Object.entries(body)) {
        if (kind === 'variable' && isBody(blocks)) {
          for (const v of Object.values(blocks)) values.push(...strings(first(v).default));
        } else {
          values.push(...strings(blocks, new Set(['description'])));
        }
      }
      for (const role of PRIMITIVE_ROLES) {
        if (values.some((s) => grants(s, role))) problems.push(`${d.dir}/${file}: grants ${role}`);
      }
    }
  }
  for (const [file, text] of Object.entries(extraTexts)) {
    for (const role of PRIMITIVE_ROLES) if (text.includes(role)) problems.push(`${file}: mentions ${role}`);
  }
  return problems;
}


// --- topics ----------------------------------------------------------------------

export function checkTopics(tree: TfTree, registry: readonly string[], deadLetterTopic: (topic: string) => string): string[] {
  const problems: string[] = [];
  const pubsub = dir(tree, 'modules/pubsub', problems);
  if (!pubsub) return problems;

  const declared: string[] = [];
  const fromLocal = stringList(pubsub.locals.topics);
  if (!fromLocal) problems.push('modules/pubsub: local.topics must be a literal list of topic names');
  else declared.push(...fromLocal);

  // Literal topic names anywhere else (cloud-builds in modules/cloudbuild).
  const literalOwners: string[] = [];
  for (const d of Object.values(tree.dirs)) {
    for (const [name, body] of Object.entries(d.resources.google_pubsub_topic ?? {})) {
      const topicName = body.name;
      if (typeof topicName === 'string' && !topicName.includes('${')) {
        declared.push(topicName);
        literalOwners.push(d.dir);
      } else if (d.dir !== 'modules/pubsub') {
        problems.push(`${d.dir}: google_pubsub_topic.${name} has a computed name; declare topics literally so they can be checked`);
      }
    }
  }

  const dupes = declared.filter((t, i) => declared.indexOf(t) !== i);
  for (const t of new Set(dupes)) problems.push(`topic ${t} is declared more than once in Terraform`);
  const { missing, extra } = sameSet(declared, registry);
  for (const t of missing) problems.push(`topic ${t} is in the topic registry but not in Terraform`);
  for (const t of extra) problems.push(`topic ${t} is in Terraform but not in the topic registry`);

  // for_each topics: main over local.topics, dead letters over all of them.
  const mainTopic = pubsub.resources.google_pubsub_topic?.main;
  if (!mainTopic || !asString(mainTopic.for_each).includes('local.topics') || mainTopic.name !== '${each.value}') {
    problems.push('modules/pubsub: google_pubsub_topic.main must create one topic per local.topics, named each.value');
  }
  const suffix = deadLetterTopic('x').slice(1);
  const dl = asString(pubsub.locals.dead_letter_topics);
  if (!dl.includes(`"\${t}${suffix}"`) || !dl.includes('local.all_topics')) {
    problems.push(`modules/pubsub: local.dead_letter_topics must map each of local.all_topics to "<topic>${suffix}"`);
  }
  const all = asString(pubsub.locals.all_topics);
  if (!all.includes('local.topics') || !all.includes('var.external_topics')) {
    problems.push('modules/pubsub: local.all_topics must cover local.topics and var.external_topics');
  }
  const dlTopic = pubsub.resources.google_pubsub_topic?.dead_letter;
  const dlSub = pubsub.resources.google_pubsub_subscription?.dead_letter;
  for (const [label, r] of [
    ['google_pubsub_topic.dead_letter', dlTopic],
    ['google_pubsub_subscription.dead_letter', dlSub],
  ] as const) {
    if (!r || asString(r.for_each) !== '${local.dead_letter_topics}') problems.push(`modules/pubsub: ${label} must exist for each of local.dead_letter_topics`);
  }

  // Every root that calls the pubsub module hands it the topics other modules own.
  for (const root of rootDirs(tree).map((n) => tree.dirs[n]!)) {
    for (const [name, call] of Object.entries(root.modules)) {
      if (typeof call.source !== 'string' || resolveModuleSource(root.dir, call.source) !== 'modules/pubsub') continue;
      const external = asString(call.external_topics);
      for (const [otherName, other] of Object.entries(root.modules)) {
        if (typeof other.source !== 'string') continue;
        const otherDir = resolveModuleSource(root.dir, other.source);
        if (literalOwners.includes(otherDir) && !external.includes(`module.${otherName}.topic_name`)) {
          problems.push(`${root.dir}: module ${name} must get module.${otherName}.topic_name in external_topics, or that topic has no dead-letter topic`);
        }
      }
    }
  }

  // Topic names used elsewhere must exist.
  const fn = tree.dirs['modules/functions'];
  for (const [target, spec] of Object.entries(fn && isBody(fn.locals.targets) ? fn.locals.targets : {})) {
    if (!isBody(spec)) continue;
    for (const t of stringList(spec.publishes) ?? []) {
      if (!registry.includes(t)) problems.push(`modules/functions: ${target} publishes to ${t}, which is not in the topic registry`);
    }
  }
  const cicd = tree.dirs['modules/cicd'];
  for (const t of stringList(cicd?.variables.jenkins_publish_topics?.default) ?? []) {
    if (!registry.includes(t)) problems.push(`modules/cicd: jenkins_publish_topics names ${t}, which is not in the topic registry`);
  }
  return problems;
}

// --- functions: derived from the stage manifest (stages.json) ---------------------------

export const PUBSUB_EVENT_TYPE = 'google.cloud.pubsub.topic.v1.messagePublished';

/** What the checks read of `stages.json` (functions/stagesJson.ts). */
export type StagesJsonLike = {
  stages: Record<string, { entryPoint: string; trigger: string; topics: string[]; publishes: string[]; env: string[]; secrets: string[]; public: boolean; maxDeliveryAttempts: number; projectRoles?: string[] }>;
};

/**
 * The functions module derives every function, trigger, identity and grant from stages.json:
 * it reads the file, loops over its stages, and writes no list of targets by hand.
 */
export function checkFunctions(tree: TfTree, manifest: StagesJsonLike): string[] {
  const problems: string[] = [];
  const fn = dir(tree, 'modules/functions', problems);
  if (!fn) return problems;
  const names = Object.keys(manifest.stages);
  if (!asString(fn.locals.manifest).includes('jsondecode(file("${path.module}/stages.json"))')) problems.push('modules/functions: local.manifest must be jsondecode(file("${path.module}/stages.json"))');
  if (fn.locals.stages !== '${local.manifest.stages}') problems.push('modules/functions: local.stages must be local.manifest.stages');
  // A map keyed by stage names in HCL is a hand-written target list.
  for (const [local, value] of Object.entries(fn.locals)) {
    if (isBody(value) && Object.keys(value).filter((key) => names.includes(key)).length >= 2) problems.push(`modules/functions: local.${local} lists stages by hand (${Object.keys(value).join(', ')})`);
  }

  const f = fn.resources.google_cloudfunctions2_function?.main;
  if (!f) {
    problems.push('modules/functions: google_cloudfunctions2_function.main is missing');
    return problems;
  }
  if (f.for_each !== '${local.stages}') problems.push('modules/functions: the function resource must have for_each = local.stages');
  const build = first(f.build_config);
  if (build.entry_point !== '${each.value.entryPoint}') problems.push("modules/functions: entry_point must be the stage's entryPoint (each.value.entryPoint)");
  if (build.runtime !== '${var.runtime}' || fn.variables.runtime?.default !== 'nodejs22') problems.push('modules/functions: runtime must come from var.runtime, whose default is nodejs22');
  const storage = first(first(build.source).storage_source);
  if (storage.object !== '${google_storage_bucket_object.source.name}' || Object.keys(fn.resources.google_storage_bucket_object ?? {}).length !== 1) {
    problems.push('modules/functions: every function must build from the one source archive (google_storage_bucket_object.source)');
  }
  const service = first(f.service_config);
  if (service.timeout_seconds !== '${each.value.timeoutSeconds}') problems.push("modules/functions: timeout_seconds must be the stage's timeoutSeconds");

  const dyn = isBody(f.dynamic) ? first(f.dynamic.event_trigger) : {};
  const content = first(dyn.content);
  const forEach = asString(dyn.for_each);
  if (!forEach.includes('each.value.trigger == "topic"') || !forEach.includes('each.value.topics[0]')) problems.push("modules/functions: event_trigger must be present for topic stages, on their first topic");
  if (content.event_type !== PUBSUB_EVENT_TYPE) problems.push(`modules/functions: event_type must be ${PUBSUB_EVENT_TYPE}`);
  if (content.retry_policy !== 'RETRY_POLICY_RETRY') problems.push('modules/functions: retry_policy must be RETRY_POLICY_RETRY');
  if (content.pubsub_topic !== '${var.topic_ids[event_trigger.value]}') problems.push("modules/functions: pubsub_topic must be the stage's topic (var.topic_ids[event_trigger.value])");
  const extra = fn.resources.google_eventarc_trigger?.extra;
  if (!extra || !asString(fn.locals.extra_triggers).includes('slice(s.topics, 1, length(s.topics))')) problems.push('modules/functions: every further topic of a stage needs an Eventarc trigger (local.extra_triggers over topics[1:])');
  else if (first(first(extra.transport).pubsub).topic !== '${var.topic_ids[each.value.topic]}') problems.push('modules/functions: an extra Eventarc trigger must listen on its own topic');

  const sa = fn.resources.google_service_account?.main;
  if (!sa || sa.for_each !== '${local.stages}') problems.push('modules/functions: google_service_account.main must exist per stage');
  const own = 'google_service_account.main[each.key].email';
  if (!asString(service.service_account_email).includes(own)) problems.push('modules/functions: each function must run as its own service account');
  if (!asString(content.service_account_email).includes(own)) problems.push("modules/functions: each trigger must use the function's own service account");
  return problems;
}

/** Exactly each stage's grants: publisher on its declared topics, its roles, its secrets, from stages.json. */
export function checkGrants(tree: TfTree): string[] {
  const problems: string[] = [];
  const fn = dir(tree, 'modules/functions', problems);
  if (!fn) return problems;
  const expect = (local: string, needle: string, what: string) => {
    if (!asString(fn.locals[local]).includes(needle)) problems.push(`modules/functions: local.${local} must come from ${what}`);
  };
  expect('publisher_grants', 'for topic in s.publishes', "each stage's publishes");
  expect('project_grants', 'for role in s.projectRoles', "each stage's projectRoles");
  expect('act_as_grants', 'for label in s.actAs', "each stage's actAs");
  expect('bucket_grants', 'for label, role in s.buckets', "each stage's buckets");
  expect('repository_grants', 'for label, role in s.repositories', "each stage's repositories");
  expect('secret_access', 'for env in s.secrets', "each stage's secrets");
  const publisher = fn.resources.google_pubsub_topic_iam_member?.publisher;
  if (publisher?.for_each !== '${local.publisher_grants}' || publisher.role !== 'roles/pubsub.publisher') problems.push('modules/functions: publisher bindings must iterate local.publisher_grants with roles/pubsub.publisher');
  const project = fn.resources.google_project_iam_member?.main;
  if (project?.for_each !== '${local.project_grants}') problems.push('modules/functions: project roles must iterate local.project_grants');
  // The limit the handler sees is the one Pub/Sub applies.
  const triggers = asString(fn.outputs.eventarc_triggers?.value);
  if ((triggers.match(/max_delivery_attempts\s*=\s*(s\.maxDeliveryAttempts|local\.stages\[t\.stage\]\.maxDeliveryAttempts)/g) ?? []).length !== 2) {
    problems.push("modules/functions: output eventarc_triggers must carry each stage's maxDeliveryAttempts for every trigger");
  }
  const pubsub = tree.dirs['modules/pubsub'];
  const sub = pubsub?.resources.terraform_data?.function_subscription;
  const env = sub ? first(first(sub.provisioner)['local-exec']).environment : undefined;
  if (!isBody(env) || env.MAX_ATTEMPTS !== '${each.value.max_delivery_attempts}') problems.push("modules/pubsub: a function subscription's max delivery attempts must be its stage's (each.value.max_delivery_attempts)");
  return problems;
}

/** Every plain variable a stage declares has a value in the module, and no secret is passed as plain. */
export function checkEnvironment(tree: TfTree, manifest: StagesJsonLike, isSecret: (name: string) => boolean): string[] {
  const problems: string[] = [];
  const fn = dir(tree, 'modules/functions', problems);
  if (!fn) return problems;
  const values = isBody(fn.locals.plain_env_values) ? fn.locals.plain_env_values : {};
  for (const [stage, spec] of Object.entries(manifest.stages)) {
    for (const env of spec.env) if (!(env in values)) problems.push(`${stage} reads ${env}, which the functions module's plain_env_values does not give a value`);
    for (const env of spec.secrets) if (!isSecret(env)) problems.push(`${stage} lists ${env} as a secret, but envVars.ts says it is plain`);
  }
  for (const name of Object.keys(values)) if (isSecret(name)) problems.push(`${name} is a secret, but the functions module passes it as a plain value`);
  const f = fn.resources.google_cloudfunctions2_function?.main;
  const svc = f ? first(f.service_config) : {};
  if (svc.environment_variables !== '${local.env_by_stage[each.key]}') problems.push('modules/functions: environment_variables must be local.env_by_stage[each.key]');
  const secretDyn = isBody(svc.dynamic) ? first(svc.dynamic.secret_environment_variables) : {};
  if (secretDyn.for_each !== '${toset(each.value.secrets)}') problems.push("modules/functions: secret_environment_variables must iterate the stage's secrets");
  if (!asString(fn.locals.env_by_stage).includes('for env in s.env : env => local.plain_env_values[env]')) problems.push("modules/functions: local.env_by_stage must give each stage exactly its env, from local.plain_env_values");
  return problems;
}

// --- Prometheus for release verification ----------------------------------------

/** The project's Managed Prometheus query frontend: the Prometheus HTTP API, authenticated with an access token. */
export const MANAGED_PROMETHEUS_URL = 'https://monitoring.googleapis.com/v1/projects/${var.project_id}/location/global/prometheus';
export const PROMETHEUS_ENV = 'PROMETHEUS_URL';
export const PROMETHEUS_ROLE = 'roles/monitoring.viewer';
/** The stage that verifies releases (functions/verifyRelease): it must read Prometheus once it is declared. */
export const VERIFY_STAGE = 'verifyRelease';

/**
 * Release verification can reach Prometheus: the functions module gives PROMETHEUS_URL the
 * project's Managed Prometheus frontend, every stage that reads it holds roles/monitoring.viewer
 * on the project (declared with the stage, `roles.project`, so stages.json's projectRoles and the
 * module's project grants carry it), and verifyRelease, once declared, reads it.
 */
export function checkPrometheus(tree: TfTree, manifest: StagesJsonLike): string[] {
  const problems: string[] = [];
  const fn = dir(tree, 'modules/functions', problems);
  if (!fn) return problems;
  const values = isBody(fn.locals.plain_env_values) ? fn.locals.plain_env_values : {};
  if (!(PROMETHEUS_ENV in values)) problems.push(`modules/functions: plain_env_values has no ${PROMETHEUS_ENV} (the Managed Prometheus frontend, ${MANAGED_PROMETHEUS_URL})`);
  else if (values[PROMETHEUS_ENV] !== MANAGED_PROMETHEUS_URL) problems.push(`modules/functions: ${PROMETHEUS_ENV} must be the project's Managed Prometheus frontend ${MANAGED_PROMETHEUS_URL}, not ${asString(values[PROMETHEUS_ENV])}`);
  for (const [name, stage] of Object.entries(manifest.stages)) {
    if (stage.env.includes(PROMETHEUS_ENV) && !(stage.projectRoles ?? []).includes(PROMETHEUS_ROLE)) {
      problems.push(`${name} reads ${PROMETHEUS_ENV} but has no ${PROMETHEUS_ROLE} on the project (add it to roles.project in its stage declaration)`);
    }
  }
  const verifier = manifest.stages[VERIFY_STAGE];
  if (verifier && !verifier.env.includes(PROMETHEUS_ENV)) problems.push(`${VERIFY_STAGE} does not declare ${PROMETHEUS_ENV} in its env`);
  return problems;
}

// --- environments: one Argo CD Application each --------------------------------------

/** One entry of the cicd module's var.environments. */
export type TfEnvironment = { name: string; application: string; namespace: string; values_file: string };
/** What the checks read of a pipeline config's `pipelines[].environments`. */
export type ConfigEnvironment = { name: string; argocd: { application: string }; values: string };

/** The cicd module makes one Application per entry of var.environments, from its fields, and installs exactly those. */
export function checkApplications(tree: TfTree): string[] {
  const problems: string[] = [];
  const cicd = dir(tree, 'modules/cicd', problems);
  if (!cicd) return problems;
  const apps = asString(cicd.locals.applications);
  for (const needle of ['for e in var.environments : e.application =>', 'valueFiles = [e.values_file]', 'namespace = e.namespace', '"baton/environment" = e.name', 'local.application.spec']) {
    if (!apps.includes(needle)) problems.push(`modules/cicd: local.applications must make one Application per var.environments entry (${needle})`);
  }
  if (!asString(cicd.locals.project_spec).includes('for e in var.environments : { server = local.application.spec.destination.server, namespace = e.namespace }')) {
    problems.push("modules/cicd: the AppProject's destinations must be exactly the environments' namespaces");
  }
  const values = asString(cicd.resources.helm_release?.argocd_apps?.values);
  if (!values.includes('applications = local.applications')) problems.push('modules/cicd: helm_release.argocd_apps must install local.applications');
  return problems;
}

/**
 * One fact, checked both ways: every environment of the pipeline config has an Argo CD
 * Application in Terraform with the same name (and the same values file), and every
 * environment in Terraform is one of the config's, in the same order.
 */
export function checkEnvironmentsMatch(terraform: readonly TfEnvironment[], config: readonly ConfigEnvironment[], configLabel: string): string[] {
  const problems: string[] = [];
  for (const environment of config) {
    const match = terraform.find((candidate) => candidate.application === environment.argocd.application);
    if (!match) {
      problems.push(`${configLabel}: environment ${environment.name} deploys Argo CD Application ${environment.argocd.application}, which Terraform does not create`);
      continue;
    }
    if (match.name !== environment.name) problems.push(`${configLabel}: Application ${match.application} is environment ${environment.name} here but ${match.name} in Terraform`);
    if (match.values_file !== environment.values) problems.push(`${configLabel}: environment ${environment.name} pins its release in ${environment.values}, but its Application reads ${match.values_file}`);
  }
  for (const environment of terraform) {
    if (!config.some((candidate) => candidate.argocd.application === environment.application)) {
      problems.push(`Terraform creates Argo CD Application ${environment.application} (environment ${environment.name}), which no environment of ${configLabel} deploys`);
    }
  }
  const order = (names: string[]) => names.join(', ');
  const shared = (list: string[], other: string[]) => list.filter((name) => other.includes(name));
  const tfNames = terraform.map((e) => e.name);
  const configNames = config.map((e) => e.name);
  if (order(shared(tfNames, configNames)) !== order(shared(configNames, tfNames))) problems.push(`environments are in a different order: ${order(tfNames)} in Terraform, ${order(configNames)} in ${configLabel}`);
  return problems;
}

/** Only the public HTTP stages (git hosts, Slack) are invokable by anyone. */
export function checkPublicAccess(tree: TfTree): string[] {
  const problems: string[] = [];
  let found = 0;
  for (const d of Object.values(tree.dirs)) {
    for (const [type, byName] of Object.entries(d.resources)) {
      for (const [name, body] of Object.entries(byName)) {
        const texts = strings(body);
        if (!texts.some((text) => text === 'allUsers' || text === 'allAuthenticatedUsers' || text.includes('allUsers'))) continue;
        found += 1;
        const ok = d.dir === 'modules/functions' && type === 'google_cloud_run_service_iam_member' && body.role === 'roles/run.invoker' && asString(body.for_each).includes('s.public');
        if (!ok) problems.push(`${d.dir}: ${type}.${name} makes something public; only the public HTTP stages may be`);
      }
    }
  }
  if (found === 0) problems.push('modules/functions: no public invoker for the public HTTP stages');
  return problems;
}


// --- log-based metrics -------------------------------------------------------------

export const LOG_METRICS = {
  baton_deployments: { labels: ['pipeline', 'status'], field: null },
  baton_lead_time_seconds: { labels: null, field: 'jsonPayload.leadTimeSeconds' },
  baton_time_to_restore_seconds: { labels: null, field: 'jsonPayload.restoreSeconds' },
} as const;

export function checkLogMetrics(tree: TfTree): string[] {
  const problems: string[] = [];
  const obs = dir(tree, 'modules/observability', problems);
  if (!obs) return problems;
  const metrics = isBody(obs.locals.log_metrics) ? obs.locals.log_metrics : {};
  const { missing, extra } = sameSet(Object.keys(metrics), Object.keys(LOG_METRICS));
  for (const m of missing) problems.push(`log metric ${m} is missing`);
  for (const m of extra) problems.push(`log metric ${m} is not one the DORA dashboard reads`);

  const filterBase = asString(obs.locals.deploy_filter);
  for (const needle of ['jsonPayload.component=\\"baton\\"', 'jsonPayload.event=\\"deploy-finished\\"', 'resource.type=\\"cloud_run_revision\\"']) {
    if (!filterBase.includes(needle)) problems.push(`modules/observability: deploy_filter must contain ${needle.replace(/\\/g, '')}`);
  }
  for (const [name, want] of Object.entries(LOG_METRICS)) {
    const m = metrics[name];
    if (!isBody(m)) continue;
    if (!asString(m.filter).includes('local.deploy_filter')) problems.push(`${name}: filter must start from local.deploy_filter`);
    if (want.labels) {
      const labels = stringList(m.labels) ?? [];
      if (labels.join(',') !== want.labels.join(',')) problems.push(`${name}: labels must be ${want.labels.join(', ')}`);
    }
    if (want.field) {
      if (m.field !== want.field) problems.push(`${name}: value must be extracted from ${want.field}`);
      if (m.value_type !== 'DISTRIBUTION') problems.push(`${name}: must be a DISTRIBUTION`);
      if (!asString(m.filter).includes(`${want.field}:*`)) problems.push(`${name}: filter must require ${want.field}`);
    } else if (m.value_type !== 'INT64') {
      problems.push(`${name}: must be an INT64 counter`);
    }
  }
  const res = obs.resources.google_logging_metric?.main;
  if (!res || !asString(res.for_each).includes('local.log_metrics') || res.name !== '${each.key}') {
    problems.push('modules/observability: google_logging_metric.main must create each of local.log_metrics under its key');
  }
  return problems;
}

export type { Body };
