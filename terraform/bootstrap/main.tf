locals {
  bucket_name = var.bucket_name != "" ? var.bucket_name : "${var.project_id}-tfstate"
}

provider "google" {
  project = var.project_id
}

# Remote state for terraform/envs/*. Versioned: a bad apply or a corrupted
# state can be rolled back to an earlier generation.
resource "google_storage_bucket" "main" {
  project                     = var.project_id
  name                        = local.bucket_name
  location                    = var.location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = var.noncurrent_versions_kept
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}
