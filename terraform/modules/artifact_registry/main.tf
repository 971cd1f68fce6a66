locals {
  day = 86400

  repositories = {
    images = {
      id          = var.images_repository_id
      description = "baton: service images, deployed by digest"
      max_age     = var.untagged_image_max_age_days
      tag_state   = "UNTAGGED"
      keep        = var.keep_image_versions
      writers     = var.image_writers
      readers     = var.image_readers
    }
    charts = {
      id          = var.charts_repository_id
      description = "baton: OCI Helm charts, read by Argo CD"
      max_age     = var.chart_max_age_days
      tag_state   = "ANY"
      keep        = var.keep_chart_versions
      writers     = var.chart_writers
      readers     = var.chart_readers
    }
  }

  bindings = merge([
    for key, repo in local.repositories : merge(
      { for label, m in repo.writers : "${key}-writer-${label}" => { repo = key, role = "roles/artifactregistry.writer", member = m } },
      { for label, m in repo.readers : "${key}-reader-${label}" => { repo = key, role = "roles/artifactregistry.reader", member = m } },
    )
  ]...)
}

# Both repositories are Docker format: Helm charts are OCI artifacts.
resource "google_artifact_registry_repository" "main" {
  for_each = local.repositories

  project       = var.project_id
  location      = var.region
  repository_id = each.value.id
  description   = each.value.description
  format        = "DOCKER"

  cleanup_policy_dry_run = var.cleanup_dry_run

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      tag_state  = each.value.tag_state
      older_than = "${each.value.max_age * local.day}s"
    }
  }

  # A keep policy wins over a delete policy for the versions it matches.
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = each.value.keep
    }
  }
}

resource "google_artifact_registry_repository_iam_member" "main" {
  for_each = local.bindings

  project    = var.project_id
  location   = var.region
  repository = google_artifact_registry_repository.main[each.value.repo].repository_id
  role       = each.value.role
  member     = each.value.member
}
