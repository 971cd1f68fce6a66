variable "project_id" {
  description = "Project of the cluster and the service accounts."
  type        = string
}

variable "workload_pool" {
  description = "Workload Identity pool of the cluster (gke module output workload_pool)."
  type        = string
}

variable "argocd_namespace" {
  description = "Namespace for Argo CD and its token refresher."
  type        = string
  default     = "argocd"
}

variable "argocd_chart_version" {
  description = "Version of the argo-cd chart (https://argoproj.github.io/argo-helm). Pinned; bump deliberately. The Applications' targetRevision range 0.* needs Argo CD 2.6 or later (chart 9.x installs Argo CD 3.x)."
  type        = string
  default     = "9.5.17"
}

variable "argocd_apps_chart_version" {
  description = "Version of the argocd-apps chart, which declares the Applications."
  type        = string
  default     = "2.0.2"
}

variable "charts_repository_url" {
  description = "OCI chart repository without scheme, REGION-docker.pkg.dev/PROJECT/charts (artifact_registry module output charts_repository_url)."
  type        = string

  validation {
    condition     = !startswith(var.charts_repository_url, "oci://")
    error_message = "charts_repository_url takes no oci:// prefix: Argo CD's classic OCI Helm repository url has none."
  }
}

variable "environments" {
  description = "The shop's environments, in promotion order: one Argo CD Application each, named application, from the chart in Artifact Registry with the chart's values_file (which pins the environment's release), auto-synced into namespace. Must match pipelines[].environments of the baton config (name, argocd.application, values)."
  type = list(object({
    name        = string
    application = string
    namespace   = string
    values_file = string
  }))

  validation {
    condition     = length(var.environments) > 0
    error_message = "environments needs at least one environment."
  }

  validation {
    condition     = alltrue([for e in var.environments : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", e.name)) && can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", e.namespace))])
    error_message = "Each environment's name and namespace must be lower-case letters, digits and dashes, at most 63 characters, starting and ending with a letter or digit."
  }

  validation {
    condition     = alltrue([for e in var.environments : can(regex("^[A-Za-z0-9_][A-Za-z0-9._/-]*\\.ya?ml$", e.values_file)) && !strcontains(e.values_file, "..")])
    error_message = "Each values_file must be a .yaml file inside the chart directory (relative, without \"..\"), e.g. values-dev.yaml."
  }

  validation {
    condition = alltrue([
      for key in ["name", "application", "namespace", "values_file"] : length(distinct([for e in var.environments : e[key]])) == length(var.environments)
    ])
    error_message = "Two environments share a name, an application, a namespace or a values file; each environment has its own."
  }
}

variable "create_application" {
  description = "Install the AppProject and one Application per environment (from charts/argocd)."
  type        = bool
  default     = true
}

variable "token_refresher_schedule" {
  description = "Cron schedule of the job that renews the chart repository token; Google access tokens live 60 minutes."
  type        = string
  default     = "*/20 * * * *"
}

variable "token_refresher_image" {
  description = "Image of the token refresher; it needs only a shell and curl."
  type        = string
  default     = "curlimages/curl:8.11.1"
}

variable "argocd_server_internal_lb" {
  description = "Expose the Argo CD API on an internal passthrough load balancer, so that deployWatch can reach it through the Serverless VPC Access connector."
  type        = bool
  default     = true
}

variable "jenkins_namespace" {
  description = "Namespace for Jenkins."
  type        = string
  default     = "jenkins"
}

variable "jenkins_chart_version" {
  description = "Version of the jenkins chart (https://charts.jenkins.io). Pinned; bump deliberately."
  type        = string
  default     = "5.8.110"
}

variable "topic_ids" {
  description = "Map of topic name to id for every topic Jenkins may subscribe to (all of baton's topics)."
  type        = map(string)
}

variable "jenkins_publish_topics" {
  description = "Topics Jenkins may publish to: approval-decided, for approvals given in the Jenkins input step, and run-finished, which baton cancel announces when a Jenkins build is aborted."
  type        = list(string)
  default     = ["approval-decided", "run-finished"]
}
