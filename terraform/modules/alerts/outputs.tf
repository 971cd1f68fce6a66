output "alert_policy_ids" {
  description = "Alert policy ids: dead_letters, runs_stuck, and function_errors by target."
  value = {
    dead_letters    = google_monitoring_alert_policy.dead_letters.id
    runs_stuck      = google_monitoring_alert_policy.runs_stuck.id
    function_errors = { for t, p in google_monitoring_alert_policy.function_errors : t => p.id }
  }
}

output "stuck_metric_type" {
  description = "Metric type of the run-stuck log-based metric (in PromQL logging_googleapis_com:user_<name>)."
  value       = "logging.googleapis.com/user/${google_logging_metric.runs_stuck.name}"
}

output "notification_channel_ids" {
  description = "Every notification channel the alerts notify, the created email channels included."
  value       = local.notification_channels
}
