output "webhook_url" {
  description = "Register this as the push webhook in GitHub or GitLab."
  value       = module.functions.webhook_url
}

output "slack_interactivity_url" {
  description = "Set this as the Slack app's Interactivity Request URL."
  value       = module.functions.slack_interactivity_url
}

output "secret_ids" {
  description = "Secret Manager secrets to fill with gcloud secrets versions add."
  value       = module.functions.secret_ids
}

output "kubectl_dns_endpoint_command" {
  description = "Credentials for kubectl through the DNS-based endpoint (IAM, no bastion)."
  value       = "gcloud container clusters get-credentials ${module.gke.cluster_name} --region ${var.region} --project ${var.project_id} --dns-endpoint"
}

output "bastion_tunnel_command" {
  description = "Opens the IAP tunnel to the bastion's tinyproxy; then HTTPS_PROXY=localhost:8888 kubectl ..."
  value       = module.bastion.tunnel_command
}

output "images_repository_url" {
  description = "Where builds push images."
  value       = module.artifact_registry.images_repository_url
}

output "charts_repository_url" {
  description = "Where chartBump pushes charts (prefix oci:// for helm)."
  value       = module.artifact_registry.charts_repository_url
}

output "plans_bucket" {
  description = "Bucket for saved Terraform plans of the terraform pipeline kind."
  value       = module.cloudbuild.plans_bucket
}

output "build_service_account_email" {
  description = "Service account of image builds."
  value       = module.cloudbuild.build_service_account_email
}

output "terraform_service_account_email" {
  description = "Service account of the terraform pipeline kind's builds."
  value       = module.cloudbuild.terraform_service_account_email
}

output "frontend_ip" {
  description = "Address of the shop's regional external Application Load Balancer."
  value       = module.ingress.ip_address
}

output "log_metric_names" {
  description = "Log-based metrics behind the DORA dashboard."
  value       = module.observability.log_metric_names
}

output "alert_policy_ids" {
  description = "Alert policies on baton itself (modules/alerts)."
  value       = module.alerts.alert_policy_ids
}

output "argocd_applications" {
  description = "Argo CD Application of each environment, by environment name: use these as pipelines[].environments[].argocd.application in the baton config."
  value       = module.cicd.applications
}
