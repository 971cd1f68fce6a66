variable "project_id" {
  description = "Project where builds run."
  type        = string
}

variable "region" {
  description = "Location of the buckets."
  type        = string
}

variable "name" {
  description = "Prefix of the service accounts and buckets."
  type        = string
  default     = "baton"
}

variable "logs_retention_days" {
  description = "Delete build logs older than this."
  type        = number
  default     = 90

  validation {
    condition     = var.logs_retention_days >= 1
    error_message = "logs_retention_days must be at least 1."
  }
}

variable "plans_retention_days" {
  description = "Delete saved Terraform plans (tfplan, its digest, the lock file and the functions archive) older than this. An approval after that can no longer apply its plan, by design."
  type        = number
  default     = 14

  validation {
    condition     = var.plans_retention_days >= 1
    error_message = "plans_retention_days must be at least 1."
  }
}

variable "create_terraform_service_account" {
  description = "Create the service account that the terraform pipeline kind's plan and apply builds run as."
  type        = bool
  default     = true
}

variable "terraform_roles" {
  description = "Project roles of the Terraform service account: what it takes to manage this stack, deliberately not roles/owner or roles/editor. resourcemanager.projectIamAdmin lets it grant roles, so protect who can start its builds."
  type        = list(string)
  default = [
    "roles/artifactregistry.admin",
    "roles/cloudfunctions.admin",
    "roles/compute.instanceAdmin.v1",
    "roles/compute.networkAdmin",
    "roles/compute.securityAdmin",
    "roles/container.admin",
    "roles/datastore.owner",
    "roles/eventarc.admin",
    "roles/iam.roleAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/iap.admin",
    "roles/logging.configWriter",
    "roles/logging.logWriter",
    "roles/pubsub.admin",
    "roles/resourcemanager.projectIamAdmin",
    "roles/run.admin",
    "roles/secretmanager.admin",
    "roles/serviceusage.serviceUsageAdmin",
    "roles/storage.admin",
  ]

  validation {
    condition     = length(setintersection(toset(var.terraform_roles), toset(["roles/owner", "roles/editor"]))) == 0
    error_message = "terraform_roles must not contain roles/owner or roles/editor."
  }
}

variable "state_bucket" {
  description = "Name of the Terraform state bucket (from terraform/bootstrap); the Terraform service account gets object access to it. Empty skips the grant."
  type        = string
  default     = ""
}
