import type { TargetName } from '../../functions/targets.js';

/**
 * Every environment variable baton reads, with whether it is a secret and which function
 * targets need it. DESIGN.md fixes the first group of names; the `BATON_*`, `ARGOCD_*` and
 * `JENKINS_*` ones are baton's own. Terraform's functions module must give each target exactly
 * these (secrets through Secret Manager); `test/terraform` cross-checks it.
 */
export const ENV_VARS = [
  { name: 'GOOGLE_CLOUD_PROJECT', secret: false, targets: 'all', doc: 'project id; also used with the emulators' },
  { name: 'BATON_CONFIG', secret: false, targets: 'all', doc: 'path of the pipeline config file (YAML)' },
  { name: 'GITHUB_WEBHOOK_SECRET', secret: true, targets: ['webhookIntake'], doc: 'GitHub webhook secret; several, comma-separated, during rotation' },
  { name: 'GITLAB_WEBHOOK_TOKEN', secret: true, targets: ['webhookIntake'], doc: "GitLab's shared webhook token" },
  { name: 'JENKINS_TRIGGER_TOKEN', secret: true, targets: ['webhookIntake'], doc: "Jenkins' remote build trigger token (optional)" },
  { name: 'SLACK_BOT_TOKEN', secret: true, targets: ['approvalRequest', 'approvalCallback'], doc: 'Slack bot token (xoxb-…)' },
  { name: 'SLACK_SIGNING_SECRET', secret: true, targets: ['approvalCallback'], doc: "Slack app signing secret, for the v0 request signature" },
  { name: 'SLACK_CHANNEL', secret: false, targets: ['approvalRequest'], doc: 'channel id the approval messages go to' },
  { name: 'SLACK_APPROVERS', secret: false, targets: ['approvalCallback'], doc: 'Slack user ids allowed to approve, comma-separated' },
  { name: 'SLACK_API_URL', secret: false, targets: [], doc: "base URL of the Slack Web API (default Slack's own); tests point it at a local fake" },
  { name: 'BATON_APPROVAL_SECRET', secret: true, targets: ['approvalRequest', 'approvalCallback'], doc: 'HMAC key for the signed, expiring tokens in the Approve/Reject buttons' },
  { name: 'ARGOCD_AUTH_TOKEN', secret: true, targets: ['deployWatch'], doc: 'Argo CD API token (same name the argocd CLI uses)' },
  { name: 'GITHUB_TOKEN', secret: true, targets: [], doc: 'GitHub token for commit statuses, deployments and the webhook sweep (or use the GitHub App variables)' },
  { name: 'GITHUB_API_URL', secret: false, targets: [], doc: "base URL of the GitHub REST API (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3); tests point it at a local stand-in" },
  { name: 'GITHUB_APP_ID', secret: false, targets: [], doc: 'GitHub App id, for installation tokens instead of GITHUB_TOKEN' },
  { name: 'GITHUB_APP_PRIVATE_KEY', secret: true, targets: [], doc: "GitHub App private key (PEM)" },
  { name: 'GITHUB_APP_INSTALLATION_ID', secret: false, targets: [], doc: "the GitHub App's installation id on the repositories' owner" },
  { name: 'GITLAB_TOKEN', secret: true, targets: [], doc: 'GitLab token (scope api) for commit statuses and the webhook sweep' },
  { name: 'GITLAB_API_URL', secret: false, targets: [], doc: 'base URL of the GitLab REST API (default https://gitlab.com/api/v4); tests point it at a local stand-in' },
  { name: 'BATON_RUN_URL', secret: false, targets: [], doc: 'run page linked from commit statuses; {runId}, {pipeline} and {stage} are filled in (default: no link)' },
  { name: 'PUBSUB_EMULATOR_HOST', secret: false, targets: [], doc: 'standard emulator switch (local only)' },
  { name: 'FIRESTORE_EMULATOR_HOST', secret: false, targets: [], doc: 'standard emulator switch (local only)' },
] as const satisfies readonly EnvVarSpec[];

export type EnvVarSpec = {
  name: string;
  secret: boolean;
  /** 'all', or the targets that need it deployed; [] means local/test only. */
  targets: 'all' | readonly TargetName[];
  doc: string;
};

export type EnvVarName = (typeof ENV_VARS)[number]['name'];
