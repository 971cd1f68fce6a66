/**
 * Every environment variable baton reads: its name, whether it is a secret, and what it means.
 * DESIGN.md fixes the first group of names; the `BATON_*`, `ARGOCD_*`, `JENKINS_*` and git host
 * ones are baton's own. Which stage needs which variable is declared by the stage itself
 * (`functions/<stage>/stage.ts`); the per-stage table, Terraform's inputs and the README's list
 * all derive from those declarations and this catalog.
 */
export const ENV_VARS = [
  { name: 'GOOGLE_CLOUD_PROJECT', secret: false, doc: 'project id; also used with the emulators' },
  { name: 'BATON_CONFIG', secret: false, doc: 'path of the pipeline config file (YAML)' },
  { name: 'GITHUB_WEBHOOK_SECRET', secret: true, doc: 'GitHub webhook secret; several, comma-separated, during rotation' },
  { name: 'GITLAB_WEBHOOK_TOKEN', secret: true, doc: "GitLab's shared webhook token" },
  { name: 'JENKINS_TRIGGER_TOKEN', secret: true, doc: "Jenkins' remote build trigger token (optional)" },
  { name: 'SLACK_BOT_TOKEN', secret: true, doc: 'Slack bot token (xoxb-…)' },
  { name: 'SLACK_SIGNING_SECRET', secret: true, doc: 'Slack app signing secret, for the v0 request signature' },
  { name: 'SLACK_CHANNEL', secret: false, doc: 'channel id the approval messages go to' },
  { name: 'SLACK_APPROVERS', secret: false, doc: 'Slack user ids allowed to approve, comma-separated' },
  { name: 'SLACK_API_URL', secret: false, doc: "base URL of the Slack Web API (default Slack's own); tests point it at a local stand-in" },
  { name: 'BATON_APPROVAL_SECRET', secret: true, doc: 'HMAC key for the signed, expiring tokens in the Approve/Reject buttons' },
  { name: 'ARGOCD_AUTH_TOKEN', secret: true, doc: 'Argo CD API token (same name the argocd CLI uses)' },
  { name: 'GITHUB_TOKEN', secret: true, doc: 'GitHub token for commit statuses, deployments and the webhook sweep (or use the GitHub App variables)' },
  { name: 'GITHUB_API_URL', secret: false, doc: "base URL of the GitHub REST API (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3); tests point it at a local stand-in" },
  { name: 'GITHUB_APP_ID', secret: false, doc: 'GitHub App id, for installation tokens instead of GITHUB_TOKEN' },
  { name: 'GITHUB_APP_PRIVATE_KEY', secret: true, doc: "GitHub App private key (PEM)" },
  { name: 'GITHUB_APP_INSTALLATION_ID', secret: false, doc: "the GitHub App's installation id on the repositories' owner" },
  { name: 'GITLAB_TOKEN', secret: true, doc: 'GitLab token (scope api) for commit statuses and the webhook sweep' },
  { name: 'GITLAB_API_URL', secret: false, doc: 'base URL of the GitLab REST API (default https://gitlab.com/api/v4); tests point it at a local stand-in' },
  { name: 'BATON_RUN_URL', secret: false, doc: 'run page linked from commit statuses; {runId}, {pipeline} and {stage} are filled in (default: no link)' },
  { name: 'PROMETHEUS_URL', secret: false, doc: "Prometheus HTTP API the verification checks query, unless an environment sets verify.prometheus.url (deployed: Managed Prometheus's frontend, https://monitoring.googleapis.com/v1/projects/PROJECT/location/global/prometheus)" },
  { name: 'PUBSUB_EMULATOR_HOST', secret: false, doc: 'standard emulator switch (local only)' },
  { name: 'FIRESTORE_EMULATOR_HOST', secret: false, doc: 'standard emulator switch (local only)' },
] as const satisfies readonly EnvVarSpec[];

export type EnvVarSpec = { name: string; secret: boolean; doc: string };

type Catalog = (typeof ENV_VARS)[number];
export type EnvVarName = Catalog['name'];
/** A variable whose value is plain configuration (Terraform sets it). */
export type PlainEnvName = Extract<Catalog, { secret: false }>['name'];
/** A variable whose value is a secret (Secret Manager, mounted by Terraform). */
export type SecretEnvName = Extract<Catalog, { secret: true }>['name'];

export function isSecretEnv(name: string): boolean {
  return ENV_VARS.some((spec) => spec.name === name && spec.secret);
}

/**
 * The value of a secret that is deliberately not used. A function cannot start without a version
 * of every secret it mounts, so Terraform gives each secret listed in `unused_secrets` a first
 * version holding this (from stages.json), and baton reads it as not set: an unused GitLab token
 * refuses every GitLab webhook as unconfigured, instead of being a placeholder anyone could guess.
 */
export const UNSET_SECRET_VALUE = 'baton:unset';

/** The environment with every secret that holds `UNSET_SECRET_VALUE` taken out. */
export function withoutUnsetSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const unset = ENV_VARS.filter((spec) => spec.secret && env[spec.name] === UNSET_SECRET_VALUE);
  if (!unset.length) return env;
  const cleaned = { ...env };
  for (const { name } of unset) delete cleaned[name];
  return cleaned;
}
