variable "project_id" {
  description = "Project of the load balancer address."
  type        = string
}

variable "region" {
  description = "Region of the load balancer (the cluster's region; it needs the network module's proxy-only subnet there)."
  type        = string
}

variable "name" {
  description = "Name of the Gateway and of its static address."
  type        = string
  default     = "baton-frontend"
}

variable "namespace" {
  description = "Namespace of the Gateway (and of the HTTPRoute, when create_route is on). The Gateway accepts routes from every namespace, so the application's own HTTPRoute can attach to it."
  type        = string
  default     = "gateway"
}

variable "create_route" {
  description = "Also create a plain HTTPRoute to backend_service in route_namespace. Off for Online Boutique, whose chart brings its own HTTPRoute and health check (charts/online-boutique with gateway.create=false)."
  type        = bool
  default     = false
}

variable "route_namespace" {
  description = "Namespace of backend_service, for the HTTPRoute that create_route makes."
  type        = string
  default     = "boutique-prod"
}

variable "backend_service" {
  description = "Service the route sends traffic to (Online Boutique's frontend)."
  type        = string
  default     = "frontend"
}

variable "backend_port" {
  description = "Port of the backend Service."
  type        = number
  default     = 80
}

variable "hostnames" {
  description = "Host names of the shop: the Gateway gets one listener per host name (HTTP, and HTTPS with pre_shared_certificate), so every route attached to it serves exactly these; empty accepts any host."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for h in var.hostnames : can(regex("^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", h))])
    error_message = "hostnames must be lower-case DNS names such as shop.example.com (a leading *. is allowed)."
  }
}

variable "pre_shared_certificate" {
  description = "Name of a regional SSL certificate (google_compute_region_ssl_certificate) for the HTTPS listeners; empty serves HTTP only."
  type        = string
  default     = ""
}
