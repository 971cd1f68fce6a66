variable "project_id" {
  description = "Google Cloud project of the environment."
  type        = string
}

variable "region" {
  description = "Region of everything regional (cluster, functions, repositories, load balancer)."
  type        = string
  default     = "europe-west1"
}

variable "zone" {
  description = "Zone of the bastion VM, inside region."
  type        = string
  default     = "europe-west1-b"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+-[a-z]$", var.zone))
    error_message = "zone must look like europe-west1-b."
  }
}

variable "state_bucket" {
  description = "Terraform state bucket made by terraform/bootstrap (the same as in backend.hcl); the Terraform service account gets access to it."
  type        = string
}

variable "kubernetes_version_prefix" {
  description = "GKE minor version prefix, such as \"1.35.\"."
  type        = string
  default     = "1.35."
}

variable "spot_nodes" {
  description = "Run the nodes on Spot VMs (cheaper, preemptible)."
  type        = bool
  default     = true
}

variable "max_nodes_per_zone" {
  description = "Autoscaler upper bound per zone."
  type        = number
  default     = 2
}

variable "deletion_protection" {
  description = "Protect the cluster from terraform destroy."
  type        = bool
  default     = false
}

variable "developers" {
  description = "Principals who may use the bastion (IAP tunnel and OS Login), e.g. [\"group:platform@example.com\"]."
  type        = list(string)
  default     = []
}

variable "functions_source_archive" {
  description = "Path of the functions source zip, relative to this directory (terraform/scripts/package-functions.sh writes it)."
  type        = string
  default     = "../../../build/functions-source.zip"
}

variable "slack_channel" {
  description = "Slack channel id for approval messages."
  type        = string
}

variable "slack_approvers" {
  description = "Slack user ids allowed to approve."
  type        = list(string)
}

variable "firestore_location" {
  description = "Location of the Firestore database that holds the run ledger."
  type        = string
  default     = "eur3"
}

variable "create_terraform_service_account" {
  description = "Create the service account that runs the terraform pipeline kind's plan and apply."
  type        = bool
  default     = true
}

variable "frontend_hostnames" {
  description = "Host names of the shop's frontend: listeners of the one Gateway (modules/ingress); empty accepts any."
  type        = list(string)
  default     = []
}

variable "frontend_certificate" {
  description = "Name of a regional SSL certificate (google_compute_region_ssl_certificate, in region) covering frontend_hostnames, for HTTPS on the Gateway; empty serves HTTP only."
  type        = string
  default     = ""
}

variable "alert_emails" {
  description = "Email addresses notified by the alerts on baton itself (modules/alerts); empty creates the alerts without notifications."
  type        = list(string)
  default     = []
}

variable "environments" {
  description = "The shop's environments, in promotion order: one Argo CD Application each (modules/cicd). The same names, applications and values files as pipelines[].environments in the baton config (baton.yaml.example); test/terraform checks the two agree."
  type = list(object({
    name        = string
    application = string
    namespace   = string
    values_file = string
  }))
  default = [
    { name = "dev", application = "online-boutique-dev", namespace = "boutique-dev", values_file = "values-dev.yaml" },
    { name = "prod", application = "online-boutique-prod", namespace = "boutique-prod", values_file = "values-prod.yaml" },
  ]
}

variable "unused_secrets" {
  description = "Secrets you do not use (say GITLAB_WEBHOOK_TOKEN), by variable name: each gets a version that baton reads as not set (modules/functions)."
  type        = list(string)
  default     = []
}
