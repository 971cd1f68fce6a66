output "ip_address" {
  description = "External IP of the load balancer; point the frontend's DNS record here."
  value       = google_compute_address.main.address
}

output "gateway_name" {
  description = "Name of the Gateway resource."
  value       = var.name
}

output "gateway_namespace" {
  description = "Namespace of the Gateway; the application's HTTPRoute names it in parentRefs."
  value       = var.namespace
}

output "gateway_class" {
  description = "GatewayClass used."
  value       = local.gateway_class
}
