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
  description = "Version of the argocd-apps chart, which declares the Application."
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

variable "environment" {
  description = "Which charts/argocd/application-<environment>.yaml to install (poc or prod)."
  type        = string
  default     = "poc"

  validation {
    condition     = contains(["poc", "prod"], var.environment)
    error_message = "environment must be poc or prod (a charts/argocd/application-<environment>.yaml)."
  }
}

variable "create_application" {
  description = "Install the AppProject and the Application from charts/argocd."
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
  description = "Topics Jenkins may publish to: approval-decided, for approvals given in the Jenkins input step."
  type        = list(string)
  default     = ["approval-decided"]
}
