locals {
  # Regional external Application Load Balancer, Envoy-based; needs the
  # REGIONAL_MANAGED_PROXY subnet that the network module creates.
  gateway_class = "gke-l7-regional-external-managed"

  # Values of the local chart (chart/values.schema.json checks them). test/charts
  # renders the chart with exactly these, as this module would for envs/poc.
  chart_values = {
    name                 = var.name
    gatewayClassName     = local.gateway_class
    addressName          = google_compute_address.main.name
    preSharedCertificate = var.pre_shared_certificate
    hostnames            = var.hostnames
    route = {
      create    = var.create_route
      namespace = var.route_namespace
      service   = var.backend_service
      port      = var.backend_port
    }
  }
}

# The shop's only Gateway. It is platform, not application: it holds the
# reserved address (so DNS records survive redeploys), the host names and the
# certificate; the application's HTTPRoute attaches to it from its own
# namespace (charts/online-boutique with gateway.create=false).

# A reserved address, so DNS records survive re-creation of the Gateway.
resource "google_compute_address" "main" {
  project      = var.project_id
  name         = var.name
  region       = var.region
  address_type = "EXTERNAL"
}

# The Gateway (and optional HTTPRoute) go in through a small local chart rather than
# kubernetes_manifest, which needs the cluster (and its Gateway CRDs) to exist
# at plan time, i.e. breaks the first plan of a new environment.
resource "helm_release" "main" {
  name             = var.name
  namespace        = var.namespace
  create_namespace = true
  chart            = "${path.module}/chart"

  values = [yamlencode(local.chart_values)]
}
