output "network_id" {
  description = "Id of the VPC."
  value       = google_compute_network.main.id
}

output "network_name" {
  description = "Name of the VPC."
  value       = google_compute_network.main.name
}

output "network_self_link" {
  description = "Self link of the VPC."
  value       = google_compute_network.main.self_link
}

output "subnet_id" {
  description = "Id of the node subnet."
  value       = google_compute_subnetwork.main.id
}

output "subnet_name" {
  description = "Name of the node subnet."
  value       = google_compute_subnetwork.main.name
}

output "subnet_cidr" {
  description = "Primary range of the node subnet (used as a master authorized network for the bastion)."
  value       = google_compute_subnetwork.main.ip_cidr_range
}

output "pods_range_name" {
  description = "Name of the secondary range for pods."
  value       = local.pods_range_name
}

output "services_range_name" {
  description = "Name of the secondary range for Services."
  value       = local.services_range_name
}

output "proxy_only_subnet_id" {
  description = "Id of the REGIONAL_MANAGED_PROXY subnet."
  value       = google_compute_subnetwork.proxy_only.id
}

output "iap_ssh_target_tag" {
  description = "Network tag that receives SSH from IAP."
  value       = var.iap_ssh_target_tag
}

output "serverless_connector_id" {
  description = "Id of the Serverless VPC Access connector, or null."
  value       = one(google_vpc_access_connector.main[*].id)
}
