output "argocd_namespace" {
  description = "Namespace of Argo CD."
  value       = kubernetes_namespace_v1.argocd.metadata[0].name
}

output "applications" {
  description = "Argo CD Application of each environment, by environment name: the argocd.application of pipelines[].environments in the baton config."
  value       = { for e in var.environments : e.name => e.application }
}

output "chart_repository_secret" {
  description = "Name of the Argo CD repository Secret whose password the CronJob renews."
  value       = kubernetes_secret_v1.chart_repository.metadata[0].name
}

output "token_refresher_cronjob" {
  description = "Name of the token refresher CronJob (run it once by hand after the first apply)."
  value       = kubernetes_cron_job_v1.token_refresher.metadata[0].name
}

output "token_refresher_service_account_email" {
  description = "Google service account of the token refresher; give it reader access to the chart repository."
  value       = google_service_account.token_refresher.email
}

output "jenkins_namespace" {
  description = "Namespace of Jenkins."
  value       = kubernetes_namespace_v1.jenkins.metadata[0].name
}

output "jenkins_service_account_email" {
  description = "Google service account that Jenkins and its agents act as."
  value       = google_service_account.jenkins.email
}
