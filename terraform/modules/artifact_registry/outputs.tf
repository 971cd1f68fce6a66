output "images_repository_url" {
  description = "Registry path for images: REGION-docker.pkg.dev/PROJECT/images."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.main["images"].repository_id}"
}

output "charts_repository_url" {
  description = "Registry path for charts without scheme (Argo CD's classic OCI Helm repository url); prefix oci:// for helm push."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.main["charts"].repository_id}"
}

output "charts_registry_host" {
  description = "Registry host, REGION-docker.pkg.dev."
  value       = "${var.region}-docker.pkg.dev"
}

output "repository_ids" {
  description = "Map of images and charts to their repository ids."
  value       = { for k, r in google_artifact_registry_repository.main : k => r.repository_id }
}
