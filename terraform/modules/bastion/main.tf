locals {
  # tinyproxy binds to loopback only: the sole way in is an SSH port forward
  # through IAP, so the proxy is never exposed on the VPC.
  startup_script = <<-EOT
    #!/bin/bash
    set -euo pipefail
    if ! command -v tinyproxy >/dev/null; then
      apt-get update -q
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q tinyproxy
    fi
    cat > /etc/tinyproxy/tinyproxy.conf <<CONF
    User tinyproxy
    Group tinyproxy
    Port ${var.proxy_port}
    Listen 127.0.0.1
    Timeout 600
    Allow 127.0.0.1
    ConnectPort 443
    LogLevel Info
    CONF
    systemctl enable tinyproxy
    systemctl restart tinyproxy
  EOT

  member_roles = {
    for pair in setproduct(var.members, ["roles/iap.tunnelResourceAccessor", "roles/compute.osLogin"]) :
    "${pair[1]} ${pair[0]}" => { member = pair[0], role = pair[1] }
  }
}

resource "google_service_account" "main" {
  project      = var.project_id
  account_id   = var.name
  display_name = "Bastion ${var.name}"
}

resource "google_project_iam_member" "logging" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.main.email}"
}

resource "google_compute_instance" "main" {
  project      = var.project_id
  name         = var.name
  zone         = var.zone
  machine_type = var.machine_type
  tags         = [var.network_tag]

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
      size  = 10
    }
  }

  # No access_config block: no public IP. Egress for apt goes through Cloud NAT.
  network_interface {
    subnetwork = var.subnet_id
  }

  metadata = {
    enable-oslogin = "TRUE"
    # No project-wide SSH keys: OS Login (IAM) is the only way to log in.
    block-project-ssh-keys = "TRUE"
  }

  metadata_startup_script = local.startup_script

  service_account {
    email  = google_service_account.main.email
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }
}

# Tunnel and log in: roles on this instance only, not project-wide.
resource "google_iap_tunnel_instance_iam_member" "main" {
  for_each = { for k, v in local.member_roles : k => v if v.role == "roles/iap.tunnelResourceAccessor" }

  project  = var.project_id
  zone     = var.zone
  instance = google_compute_instance.main.name
  role     = each.value.role
  member   = each.value.member
}

resource "google_compute_instance_iam_member" "os_login" {
  for_each = { for k, v in local.member_roles : k => v if v.role == "roles/compute.osLogin" }

  project       = var.project_id
  zone          = var.zone
  instance_name = google_compute_instance.main.name
  role          = each.value.role
  member        = each.value.member
}

# OS Login on a VM that runs as a service account also needs actAs on it.
resource "google_service_account_iam_member" "act_as" {
  for_each = toset(var.members)

  service_account_id = google_service_account.main.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.value
}
