output "namespaces" {
  description = "Namespaces of Loki, Grafana and Alloy."
  value       = { for k, ns in kubernetes_namespace_v1.main : k => ns.metadata[0].name }
}

output "log_metric_names" {
  description = "Names of the log-based metrics; in PromQL they are logging_googleapis_com:user_<name>."
  value       = [for m in google_logging_metric.main : m.name]
}

output "prometheus_datasource_uid" {
  description = "Grafana uid of the Managed Prometheus data source (dashboards refer to it)."
  value       = local.prometheus_uid
}

output "loki_datasource_uid" {
  description = "Grafana uid of the Loki data source."
  value       = local.loki_uid
}

output "datasource_syncer_service_account_email" {
  description = "Google service account of the datasource syncer."
  value       = google_service_account.datasource_syncer.email
}
