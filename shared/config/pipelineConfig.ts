import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import picomatch from 'picomatch';
import { PermanentError } from '../stage/outcome.js';
import { EnvironmentsConfig } from '../../domain/environments/config.js';

/**
 * The pipeline config (`BATON_CONFIG`, YAML). DESIGN.md fixes `pipelines[].name`,
 * `repository`, `branches` and `services[].name|path`; a file with only those loads. Every
 * other key is optional here, and the stage that needs one asks for it with `requireKey`, whose
 * error names the file and the field.
 */
const ServiceConfig = z.object({
  /** Service name; the chart's `services.<name>` key and the image name by default. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  /** A push affects the service when a changed path starts with this; "" is the whole repository. */
  path: z.string(),
  /** Dockerfile, relative to `path`. Default `Dockerfile`. */
  dockerfile: z.string().optional(),
  /** Image name under `build.imageRepository`. Default the service name. */
  image: z.string().optional(),
});

const PipelineConfig = z.object({
  name: z.string().min(1),
  /** GitHub `repository.full_name` or GitLab `project.path_with_namespace`. */
  repository: z.string().min(1),
  /** Globs over the branch name, without `refs/heads/`. */
  branches: z.array(z.string().min(1)).min(1),
  services: z.array(ServiceConfig),
  /** `app` builds images and bumps a chart; `terraform` plans and, once approved, applies. */
  kind: z.enum(['app', 'terraform']).default('app'),
  /** Also run on tag pushes whose tag matches one of these globs. Default: tags are ignored. */
  tags: z.array(z.string()).optional(),
  /** Where pushed commits are fetched from. Default: the clone URL in the webhook. */
  source: z.object({ url: z.string().optional() }).optional(),
  /** The backup remote every build reads from (Secure Source Manager, a Cloud Source Repository, any git URL). */
  mirror: z
    .object({
      url: z.string().optional(),
      /** `google`: an access token from the runtime's service account; `none`: the URL carries what it needs. */
      auth: z.enum(['google', 'none']).optional(),
    })
    .optional(),
  build: z
    .object({
      /** Registry path images are pushed under, e.g. `europe-west1-docker.pkg.dev/p/boutique`. */
      imageRepository: z.string().optional(),
      /** Cloud Build settings (deployed runtime). */
      projectId: z.string().optional(),
      region: z.string().optional(),
      serviceAccount: z.string().optional(),
      logsBucket: z.string().optional(),
      timeoutSeconds: z.number().int().positive().optional(),
    })
    .optional(),
  approval: z
    .object({
      /** Slack channel id; default `SLACK_CHANNEL`. */
      channel: z.string().optional(),
      /** Slack user ids; default `SLACK_APPROVERS`. */
      approvers: z.array(z.string()).optional(),
      /** May the pusher approve their own run? Default true. */
      allowSelfApproval: z.boolean().optional(),
      /** How long a request stays open. Default 86400 (24 h). */
      ttlSeconds: z.number().int().positive().optional(),
    })
    .optional(),
  chart: z
    .object({
      /** Git URL of the chart repo. */
      repo: z.string().optional(),
      branch: z.string().optional(),
      /** Chart directory inside the repo, e.g. `charts/online-boutique`. */
      path: z.string().optional(),
      /** Values file inside the chart directory. Default `values.yaml`. */
      valuesFile: z.string().optional(),
      /** Dotted path of a service's image block in the values; `{service}` is replaced. Default `services.{service}.image`. */
      imagePath: z.string().optional(),
      /** OCI repository charts are pushed to, e.g. `oci://europe-west1-docker.pkg.dev/p/charts`. */
      registry: z.string().optional(),
      auth: z.enum(['google', 'none']).optional(),
    })
    .optional(),
  deploy: z
    .object({
      argocd: z
        .object({
          url: z.string(),
          /** The application to sync; only without `environments`, where each environment names its own. */
          application: z.string().min(1).optional(),
          timeoutSeconds: z.number().int().positive().optional(),
          /** Seconds between status reads while deployWatch waits (default 5; tests use less). */
          pollSeconds: z.number().positive().optional(),
        })
        .optional(),
    })
    .optional(),
  terraform: z
    .object({
      /** Root module directory inside the repository. */
      dir: z.string(),
      /** gs:// bucket the saved plans go to. */
      planBucket: z.string().optional(),
    })
    .optional(),
  jenkins: z.object({ url: z.string(), job: z.string() }).optional(),
  /** The environments a run's release goes through, in order (domain/environments/config.ts). Without it: one implicit environment, as before. */
  environments: EnvironmentsConfig.optional(),
  /** The repository's push webhook, for the missed-webhook sweep (`webhookSweep`); without it the sweep skips the pipeline. */
  webhook: z
    .strictObject({
      /** The number at the end of the webhook's settings URL (`…/settings/hooks/<id>`), or any delivery's `X-GitHub-Hook-ID`. */
      hookId: z
        .number({ error: (issue) => (issue.input === undefined ? 'missing: the number at the end of the webhook settings URL (…/settings/hooks/<id>)' : 'a number: the one at the end of the webhook settings URL (…/settings/hooks/<id>)') })
        .int('a whole number (…/settings/hooks/<id>)')
        .positive('a positive number (…/settings/hooks/<id>)'),
      /** Where the repository lives. Default `github`; `gitlab` needs GitLab 17.4 or later. */
      provider: z.enum(['github', 'gitlab']).optional(),
    })
    .optional(),
}).superRefine((pipeline, ctx) => {
  // With environments each one names its application; without, the implicit one needs this.
  if (pipeline.deploy?.argocd && pipeline.deploy.argocd.application === undefined && !pipeline.environments?.length) {
    ctx.addIssue({ code: 'custom', path: ['deploy', 'argocd', 'application'], message: 'missing: the Argo CD application to sync (or list environments, each with its own argocd.application)' });
  }
});

export const BatonConfigSchema = z.object({
  /** The identity the pipeline commits as; intake ignores pushes made only of its commits. */
  bot: z
    .object({
      name: z.string().default('baton-bot'),
      email: z.string().default('baton-bot@users.noreply.baton.dev'),
    })
    .default({ name: 'baton-bot', email: 'baton-bot@users.noreply.baton.dev' }),
  pipelines: z.array(PipelineConfig).min(1),
});

export type BatonConfig = z.infer<typeof BatonConfigSchema> & { file: string };
export type Pipeline = z.infer<typeof PipelineConfig>;
export type ServiceConfig = z.infer<typeof ServiceConfig>;

/** A config mistake, always naming the file and the field. Retrying cannot fix it. */
export class ConfigError extends PermanentError {
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`BATON_CONFIG ${file}: ${field}: ${problem}`);
    this.name = 'ConfigError';
  }
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '') || '(root)';
}

export function parseConfig(text: string, file: string): BatonConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(file, '(root)', `not valid YAML: ${(error as Error).message}`);
  }
  const result = BatonConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(file, fieldPath(issue.path), issue.message);
  }
  const names = new Set<string>();
  result.data.pipelines.forEach((pipeline, index) => {
    if (names.has(pipeline.name)) throw new ConfigError(file, `pipelines[${index}].name`, `duplicate pipeline name "${pipeline.name}"`);
    names.add(pipeline.name);
    // Compile every glob now: a glob that cannot compile (`[`) is a config error at load, not a
    // refused webhook later.
    for (const field of ['branches', 'tags'] as const) {
      (pipeline[field] ?? []).forEach((glob, globIndex) => {
        try {
          picomatch(glob, GLOB_OPTIONS);
        } catch (error) {
          throw new ConfigError(file, `pipelines[${index}].${field}[${globIndex}]`, `the glob ${JSON.stringify(glob)} does not compile: ${(error as Error).message}`);
        }
      });
    }
    const services = new Set<string>();
    pipeline.services.forEach((service, serviceIndex) => {
      if (services.has(service.name)) throw new ConfigError(file, `pipelines[${index}].services[${serviceIndex}].name`, `duplicate service "${service.name}"`);
      services.add(service.name);
    });
  });
  return { ...result.data, file };
}

/** Reads `BATON_CONFIG`. Call once per process (setup apart from work). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): BatonConfig {
  const file = env.BATON_CONFIG;
  if (!file) throw new Error('BATON_CONFIG is not set: point it at the pipeline config YAML (see README, "Pipeline config")');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, '(file)', `cannot be read: ${(error as Error).message}`);
  }
  return parseConfig(text, file);
}

/** Returns a value a stage needs, or a ConfigError that names the file and the field. */
export function requireKey<T>(config: BatonConfig, pipeline: Pipeline, field: string, value: T | undefined, neededBy: string): T {
  if (value === undefined || value === null || value === '') {
    const index = config.pipelines.indexOf(pipeline);
    throw new ConfigError(config.file, `pipelines[${index}].${field}`, `missing; ${neededBy} needs it`);
  }
  return value;
}

export function findPipeline(config: BatonConfig, name: string): Pipeline | undefined {
  return config.pipelines.find((pipeline) => pipeline.name === name);
}

/** Unbalanced brackets are errors, not literal characters: a typo must not silently match nothing. */
const GLOB_OPTIONS = { dot: true, strictBrackets: true } as const;

/** Compiled branch and tag globs, once per pipeline: compiling them is most of a match's cost. */
const matchers = new WeakMap<Pipeline, { branch: (name: string) => boolean; tag: (name: string) => boolean }>();

function matcherFor(pipeline: Pipeline) {
  let matcher = matchers.get(pipeline);
  if (!matcher) {
    const compile = (globs: string[] | undefined) => (globs?.length ? picomatch(globs, GLOB_OPTIONS) : () => false);
    matcher = { branch: compile(pipeline.branches), tag: compile(pipeline.tags) };
    matchers.set(pipeline, matcher);
  }
  return matcher;
}

/** The pipeline for a repository and branch, or undefined when none lists them. */
export function matchPipeline(config: BatonConfig, repository: string, branch: string, isTag = false): Pipeline | undefined {
  return config.pipelines.find((pipeline) => {
    if (pipeline.repository.toLowerCase() !== repository.toLowerCase()) return false;
    const matcher = matcherFor(pipeline);
    return isTag ? matcher.tag(branch) : matcher.branch(branch);
  });
}

/** Services whose path prefixes any of the changed paths, in config order. */
export function affectedServices(pipeline: Pipeline, changedPaths: readonly string[]): string[] {
  return pipeline.services
    .filter((service) => changedPaths.some((path) => path.startsWith(service.path)))
    .map((service) => service.name);
}
