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

variable "build_service_account_ids" {
  description = "Service accounts (resource names) that buildTrigger starts builds as: the image build account and, for the terraform pipeline kind, the Terraform account. Keys are fixed labels."
  type        = map(string)
  default     = {}
}

variable "plans_bucket" {
  description = "Bucket with saved Terraform plans; approvalRequest reads plan.json from it to summarize the plan. Empty skips the grant."
  type        = string
  default     = ""
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
  description = "Serverless VPC Access connector for the targets in vpc_targets (network module output serverless_connector_id); null for none."
  type        = string
  default     = null
}

variable "vpc_targets" {
  description = "Targets that send private-range traffic through vpc_connector: deployWatch calls the Argo CD API on an internal load balancer."
  type        = list(string)
  default     = ["deployWatch"]
}
