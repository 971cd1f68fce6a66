output "instance_name" {
  description = "Name of the bastion VM."
  value       = google_compute_instance.main.name
}

output "zone" {
  description = "Zone of the bastion VM."
  value       = google_compute_instance.main.zone
}

output "internal_ip" {
  description = "Internal IP of the bastion VM."
  value       = google_compute_instance.main.network_interface[0].network_ip
}

output "service_account_email" {
  description = "Service account of the bastion VM."
  value       = google_service_account.main.email
}

output "tunnel_command" {
  description = "Opens the IAP tunnel to tinyproxy; then run kubectl with HTTPS_PROXY=localhost:<proxy_port>."
  value       = "gcloud compute ssh ${google_compute_instance.main.name} --tunnel-through-iap --project ${var.project_id} --zone ${var.zone} -- -L ${var.proxy_port}:localhost:${var.proxy_port} -N -q"
}
