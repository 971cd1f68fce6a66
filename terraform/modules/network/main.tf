locals {
  pods_range_name     = "${var.name}-pods"
  services_range_name = "${var.name}-services"

  # Google's published source range for IAP TCP forwarding.
  iap_source_range = "35.235.240.0/20"
}

resource "google_compute_network" "main" {
  project                 = var.project_id
  name                    = var.name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "main" {
  project       = var.project_id
  name          = "${var.name}-nodes"
  region        = var.region
  network       = google_compute_network.main.id
  ip_cidr_range = var.subnet_cidr

  # Nodes have no external IPs; this lets them reach Google APIs (Artifact Registry, logging).
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = local.pods_range_name
    ip_cidr_range = var.pods_cidr
  }

  secondary_ip_range {
    range_name    = local.services_range_name
    ip_cidr_range = var.services_cidr
  }

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.1
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# The Envoy proxies of regional Application Load Balancers (Gateway class
# gke-l7-regional-external-managed) take their addresses from this subnet.
resource "google_compute_subnetwork" "proxy_only" {
  project       = var.project_id
  name          = "${var.name}-proxy-only"
  region        = var.region
  network       = google_compute_network.main.id
  ip_cidr_range = var.proxy_only_cidr
  purpose       = "REGIONAL_MANAGED_PROXY"
  role          = "ACTIVE"
}

resource "google_compute_router" "main" {
  project = var.project_id
  name    = "${var.name}-router"
  region  = var.region
  network = google_compute_network.main.id
}

# Private nodes and the bastion have no public IPs; NAT gives them egress
# (image pulls from outside Google, Helm repositories, apt for tinyproxy).
resource "google_compute_router_nat" "main" {
  project                            = var.project_id
  name                               = "${var.name}-nat"
  router                             = google_compute_router.main.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = var.nat_log_filter
  }
}

# SSH only from IAP, only to instances that carry the tag.
resource "google_compute_firewall" "iap_ssh" {
  project       = var.project_id
  name          = "${var.name}-allow-iap-ssh"
  network       = google_compute_network.main.id
  direction     = "INGRESS"
  source_ranges = [local.iap_source_range]
  target_tags   = [var.iap_ssh_target_tag]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

# The regional load balancer's proxies reach pods (NEG backends) from the
# proxy-only subnet; without this rule every backend is unhealthy.
resource "google_compute_firewall" "proxy_only_to_backends" {
  project       = var.project_id
  name          = "${var.name}-allow-proxy-only"
  network       = google_compute_network.main.id
  direction     = "INGRESS"
  source_ranges = [var.proxy_only_cidr]

  allow {
    protocol = "tcp"
  }
}

# Functions are not in the VPC; deployWatch talks to Argo CD's internal load
# balancer through this connector (private ranges only).
resource "google_vpc_access_connector" "main" {
  count = var.create_serverless_connector ? 1 : 0

  project       = var.project_id
  name          = "${substr(var.name, 0, 17)}-conn"
  region        = var.region
  network       = google_compute_network.main.name
  ip_cidr_range = var.serverless_connector_cidr
  min_instances = 2
  max_instances = 3
  machine_type  = "e2-micro"
}
