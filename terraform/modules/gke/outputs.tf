output "cluster_name" {
  description = "Cluster name."
  value       = google_container_cluster.main.name
}

output "cluster_id" {
  description = "Cluster id."
  value       = google_container_cluster.main.id
}

output "location" {
  description = "Cluster location (region)."
  value       = google_container_cluster.main.location
}

output "master_version" {
  description = "Current control-plane version."
  value       = google_container_cluster.main.master_version
}

output "dns_endpoint" {
  description = "DNS-based control-plane endpoint (host name, no scheme). kubectl and the Terraform kubernetes/helm providers use it with an OAuth token."
  value       = google_container_cluster.main.control_plane_endpoints_config[0].dns_endpoint_config[0].endpoint
}

output "private_endpoint" {
  description = "Private IP endpoint of the control plane (reached from the bastion)."
  value       = google_container_cluster.main.private_cluster_config[0].private_endpoint
}

output "workload_pool" {
  description = "Workload Identity pool, PROJECT.svc.id.goog."
  value       = local.workload_pool
}

output "node_service_account_email" {
  description = "Service account of the nodes; give it read access to the image repository."
  value       = google_service_account.nodes.email
}
