output "build_service_account_email" {
  description = "Email of the image build service account."
  value       = google_service_account.build.email
}

output "build_service_account_id" {
  description = "Resource name of the image build service account (for iam.serviceAccountUser grants)."
  value       = google_service_account.build.name
}

output "terraform_service_account_email" {
  description = "Email of the Terraform plan/apply service account, or null."
  value       = one(google_service_account.terraform[*].email)
}

output "terraform_service_account_id" {
  description = "Resource name of the Terraform service account, or null."
  value       = one(google_service_account.terraform[*].name)
}

output "topic_name" {
  description = "Name of Cloud Build's notification topic, cloud-builds."
  value       = google_pubsub_topic.cloud_builds.name
}

output "topic_id" {
  description = "Id of the cloud-builds topic."
  value       = google_pubsub_topic.cloud_builds.id
}

output "logs_bucket" {
  description = "Name of the build logs bucket."
  value       = google_storage_bucket.logs.name
}

output "plans_bucket" {
  description = "Name of the bucket that holds saved Terraform plans, per run."
  value       = google_storage_bucket.plans.name
}
