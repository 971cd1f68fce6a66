variable "project_id" {
  description = "Project of the log-based metrics and the Managed Prometheus data."
  type        = string
}

variable "workload_pool" {
  description = "Workload Identity pool of the cluster (gke module output workload_pool)."
  type        = string
}

variable "loki_namespace" {
  description = "Namespace of Loki; Alloy's config and Grafana's data source address loki-gateway there."
  type        = string
  default     = "loki"
}

variable "grafana_namespace" {
  description = "Namespace of Grafana and the datasource syncer."
  type        = string
  default     = "grafana"
}

variable "alloy_namespace" {
  description = "Namespace of the Alloy DaemonSet."
  type        = string
  default     = "alloy"
}

variable "loki_chart_version" {
  description = "Version of the grafana/loki chart."
  type        = string
  default     = "6.30.1"
}

variable "alloy_chart_version" {
  description = "Version of the grafana/alloy chart (Alloy replaces Promtail, end of life on 2026-03-02)."
  type        = string
  default     = "1.2.1"
}

variable "grafana_chart_version" {
  description = "Version of the grafana/grafana chart."
  type        = string
  default     = "9.2.10"
}

variable "datasource_syncer_image" {
  description = "Image of Managed Prometheus' datasource-syncer, which keeps the Grafana data source's OAuth token fresh."
  type        = string
  default     = "gke.gcr.io/prometheus-engine/datasource-syncer:v0.16.1-gke.1"
}

variable "grafana_token_secret" {
  description = "Kubernetes Secret (key token) in grafana_namespace holding a Grafana service account token with Admin role, used by the datasource syncer. Create it after the first apply; see the README."
  type        = string
  default     = "grafana-datasource-syncer"
}

variable "create_log_metrics" {
  description = "Create the log-based metrics that the DORA dashboard reads."
  type        = bool
  default     = true
}
