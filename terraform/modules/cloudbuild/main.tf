locals {
  build_roles = [
    "roles/logging.logWriter",
  ]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.name}-build"
  display_name = "baton image builds"
  description  = "Runs the per-service image builds that buildTrigger starts."
}

resource "google_project_iam_member" "build" {
  for_each = toset(local.build_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.build.email}"
}

# Cloud Build publishes every build state change to a topic named exactly
# cloud-builds, in its own message format; buildStatus consumes it.
resource "google_pubsub_topic" "cloud_builds" {
  project = var.project_id
  name    = "cloud-builds"
}

# Builds that run as a user-specified service account must send logs to a
# bucket (or to Cloud Logging only); this is that bucket.
resource "google_storage_bucket" "logs" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name}-build-logs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age = var.logs_retention_days
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket_iam_member" "logs_build" {
  bucket = google_storage_bucket.logs.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.build.email}"
}

# Saved plans of the terraform pipeline kind: gs://BUCKET/RUN_ID/tfplan
# (terraform/cloudbuild/plan.yaml also keeps its SHA-256, the lock file and
# the functions archive there). The plan's JSON form never leaves the build;
# its summary comes back in the report step's output.
# Versioned, so an approved plan cannot be swapped under the approval.
resource "google_storage_bucket" "plans" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name}-tfplans"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = var.plans_retention_days
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_service_account" "terraform" {
  count = var.create_terraform_service_account ? 1 : 0

  project      = var.project_id
  account_id   = "${var.name}-terraform"
  display_name = "baton terraform plan/apply"
  description  = "Runs terraform/cloudbuild/plan.yaml and apply.yaml for the terraform pipeline kind."
}

resource "google_project_iam_member" "terraform" {
  for_each = var.create_terraform_service_account ? toset(var.terraform_roles) : toset([])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.terraform[0].email}"
}

resource "google_storage_bucket_iam_member" "plans_terraform" {
  count = var.create_terraform_service_account ? 1 : 0

  bucket = google_storage_bucket.plans.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.terraform[0].email}"
}

resource "google_storage_bucket_iam_member" "logs_terraform" {
  count = var.create_terraform_service_account ? 1 : 0

  bucket = google_storage_bucket.logs.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.terraform[0].email}"
}

resource "google_storage_bucket_iam_member" "state_terraform" {
  count = var.create_terraform_service_account && var.state_bucket != "" ? 1 : 0

  bucket = var.state_bucket
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.terraform[0].email}"
}
