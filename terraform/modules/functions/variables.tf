variable "project_id" {
  description = "Project of the functions."
  type        = string
}

variable "region" {
  description = "Region of the functions and their triggers."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of function names (baton-webhook-intake) and service accounts (baton-fn-webhook-intake)."
  type        = string
  default     = "baton"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.name_prefix))
    error_message = "name_prefix must be 2-12 lowercase letters or digits, so that service account ids stay within 30 characters."
  }
}

variable "runtime" {
  description = "Cloud Run functions runtime. Node.js 20 reached end of life in April 2026 and the Google Cloud clients baton uses need Node 22."
  type        = string
  default     = "nodejs22"

  validation {
    condition     = can(regex("^nodejs[0-9]+$", var.runtime)) && tonumber(trimprefix(var.runtime, "nodejs")) >= 22
    error_message = "runtime must be nodejs22 or later."
  }
}

variable "source_archive_path" {
  description = "Local path of the one zip that every function is built from: package.json, package-lock.json and dist/ (terraform/scripts/package-functions.sh makes it). Its MD5 names the uploaded object, so a changed package redeploys every function and an unchanged one none."
  type        = string
}

variable "topic_ids" {
  description = "Map of topic name to topic id for every topic a function consumes or publishes: the pubsub module's topic_ids merged with cloud-builds."
  type        = map(string)
}

variable "slack_channel" {
  description = "Slack channel id that approval messages go to (SLACK_CHANNEL)."
  type        = string
}

variable "slack_approvers" {
  description = "Slack user ids allowed to approve (SLACK_APPROVERS, joined with commas)."
  type        = list(string)

  validation {
    condition     = length(var.slack_approvers) > 0
    error_message = "slack_approvers needs at least one Slack user id, or nobody can approve."
  }
}

variable "allow_public_http" {
  description = "Let anyone invoke the two HTTP targets (webhookIntake, approvalCallback); GitHub, GitLab and Slack cannot send Google credentials, so the handlers verify signatures instead."
  type        = bool
  default     = true
}

variable "act_as_service_accounts" {
  description = "Service accounts (resource names) that stages start work as, by the labels the stage manifest uses: builds (image builds) and terraform (Terraform plans and applies). A missing label grants nothing."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for label in keys(var.act_as_service_accounts) : contains(["builds", "terraform"], label)])
    error_message = "act_as_service_accounts labels are builds and terraform (the labels of shared/stage/declaration.ts)."
  }
}

variable "buckets" {
  description = "Buckets by the labels the stage manifest uses (plans: saved Terraform plans). A missing or empty label grants nothing."
  type        = map(string)
  default     = {}
}

variable "repositories" {
  description = "Artifact Registry repository ids (in var.region) by the labels the stage manifest uses: images and charts."
  type        = map(string)
  default     = {}
}

variable "slack_api_url" {
  description = "Base URL of the Slack Web API (SLACK_API_URL); empty means Slack's own."
  type        = string
  default     = ""
}

variable "github_api_url" {
  description = "Base URL of the GitHub REST API for commit statuses, deployments and the webhook sweep (GITHUB_API_URL); empty means https://api.github.com, GitHub Enterprise Server is https://HOST/api/v3."
  type        = string
  default     = ""

  validation {
    condition     = var.github_api_url == "" || can(regex("^https?://", var.github_api_url))
    error_message = "github_api_url must be empty or an http(s):// URL."
  }
}

variable "gitlab_api_url" {
  description = "Base URL of GitLab for commit statuses and the webhook sweep (GITLAB_API_URL); empty means https://gitlab.com."
  type        = string
  default     = ""

  validation {
    condition     = var.gitlab_api_url == "" || can(regex("^https?://", var.gitlab_api_url))
    error_message = "gitlab_api_url must be empty or an http(s):// URL."
  }
}

variable "github_app" {
  description = "The GitHub App that reports statuses and sweeps webhooks (GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID; its private key is the secret baton-github-app-private-key). Null to use the GITHUB_TOKEN secret instead."
  type = object({
    app_id          = string
    installation_id = string
  })
  default = null

  validation {
    condition     = var.github_app == null || (can(regex("^[0-9]+$", var.github_app.app_id)) && can(regex("^[0-9]+$", var.github_app.installation_id)))
    error_message = "github_app.app_id and github_app.installation_id are the numbers GitHub shows for the App and its installation."
  }
}

variable "run_url" {
  description = "Run page that commit statuses link to (BATON_RUN_URL), with {runId}, {pipeline} and {stage} filled in, e.g. the Jenkins job; empty for no link."
  type        = string
  default     = ""
}

variable "unused_secrets" {
  description = "Secrets no stage of yours uses, by variable name (say GITLAB_WEBHOOK_TOKEN and JENKINS_TRIGGER_TOKEN). Each gets a first version that baton reads as not set, so the functions mounting it can start. Never list a secret that holds a real value: its newest version would become the unset one."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.unused_secrets, "BATON_CONFIG")
    error_message = "unused_secrets: BATON_CONFIG is the pipeline config every stage reads; it cannot be unused."
  }
}

variable "available_memory" {
  description = "Memory of each function instance."
  type        = string
  default     = "512Mi"
}

variable "max_instance_count" {
  description = "Upper bound on instances per function."
  type        = number
  default     = 10

  validation {
    condition     = var.max_instance_count >= 1
    error_message = "max_instance_count must be at least 1."
  }
}

variable "create_firestore_database" {
  description = "Create the (default) Firestore database that holds the run ledger. Turn off if the project already has one."
  type        = bool
  default     = true
}

variable "firestore_location" {
  description = "Location of the Firestore database (a region such as europe-west1, or a multi-region such as eur3)."
  type        = string
  default     = "eur3"
}

variable "vpc_connector" {
  description = "Serverless VPC Access connector for the stages whose declaration asks for the VPC (deployWatch reaches a private Argo CD); network module output serverless_connector_id; null for none."
  type        = string
  default     = null
}
