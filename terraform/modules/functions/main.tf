locals {
  # One entry per target in functions/targets.ts (TARGETS); test/terraform
  # cross-checks names and triggers. The entry point is the target name.
  # publishes: the topics the target writes to (it gets roles/pubsub.publisher
  # on exactly those). timeout: seconds; deployWatch waits for Argo CD health.
  targets = {
    webhookIntake    = { trigger = "http", publishes = ["push-received"], timeout = 60 }
    repoMirror       = { trigger = "push-received", publishes = ["source-mirrored"], timeout = 300 }
    buildTrigger     = { trigger = "source-mirrored", publishes = ["build-started"], timeout = 120 }
    buildStatus      = { trigger = "cloud-builds", publishes = ["build-finished"], timeout = 60 }
    approvalRequest  = { trigger = "build-finished", publishes = ["approval-requested"], timeout = 60 }
    approvalCallback = { trigger = "http", publishes = ["approval-decided"], timeout = 60 }
    chartBump        = { trigger = "approval-decided", publishes = ["chart-published"], timeout = 300 }
    deployWatch      = { trigger = "chart-published", publishes = ["deploy-finished"], timeout = 540 }
  }

  http_targets  = { for name, t in local.targets : name => t if t.trigger == "http" }
  topic_targets = { for name, t in local.targets : name => t if t.trigger != "http" }

  # webhookIntake -> webhook-intake
  kebab = { for name, _ in local.targets : name => lower(replace(name, "/([A-Z])/", "-$1")) }

  # BATON_CONFIG is a path; the file is the secret baton-config, mounted as a
  # volume because it names remotes and registries and may carry credentials.
  config_mount_dir = "/etc/baton"
  config_file      = "baton.yaml"
  config_secret_id = "${var.name_prefix}-config"

  # Mirrors shared/config/envVars.ts (ENV_VARS): plain variables with a value,
  # secret ones with their Secret Manager id; targets "all" or a list.
  plain_env = {
    GOOGLE_CLOUD_PROJECT = { value = var.project_id, targets = ["all"] }
    BATON_CONFIG         = { value = "${local.config_mount_dir}/${local.config_file}", targets = ["all"] }
    SLACK_CHANNEL        = { value = var.slack_channel, targets = ["approvalRequest"] }
    SLACK_APPROVERS      = { value = join(",", var.slack_approvers), targets = ["approvalCallback"] }
  }

  secret_env = {
    GITHUB_WEBHOOK_SECRET = { secret_id = "${var.name_prefix}-github-webhook-secret", targets = ["webhookIntake"] }
    GITLAB_WEBHOOK_TOKEN  = { secret_id = "${var.name_prefix}-gitlab-webhook-token", targets = ["webhookIntake"] }
    JENKINS_TRIGGER_TOKEN = { secret_id = "${var.name_prefix}-jenkins-trigger-token", targets = ["webhookIntake"] }
    SLACK_BOT_TOKEN       = { secret_id = "${var.name_prefix}-slack-bot-token", targets = ["approvalRequest", "approvalCallback"] }
    SLACK_SIGNING_SECRET  = { secret_id = "${var.name_prefix}-slack-signing-secret", targets = ["approvalCallback"] }
    BATON_APPROVAL_SECRET = { secret_id = "${var.name_prefix}-approval-secret", targets = ["approvalRequest", "approvalCallback"] }
    ARGOCD_AUTH_TOKEN     = { secret_id = "${var.name_prefix}-argocd-auth-token", targets = ["deployWatch"] }
  }

  env_by_target = {
    for t, _ in local.targets : t => {
      for name, e in local.plain_env : name => e.value if contains(e.targets, "all") || contains(e.targets, t)
    }
  }

  secrets_by_target = {
    for t, _ in local.targets : t => {
      for name, s in local.secret_env : name => s.secret_id if contains(s.targets, "all") || contains(s.targets, t)
    }
  }

  secret_ids = merge({ for name, s in local.secret_env : name => s.secret_id }, { BATON_CONFIG = local.config_secret_id })

  # Every target reads the config; each reads only its own secrets.
  secret_access = merge(
    { for t, _ in local.targets : "${t}/BATON_CONFIG" => { target = t, env = "BATON_CONFIG" } },
    merge([for t, secrets in local.secrets_by_target : { for env, _ in secrets : "${t}/${env}" => { target = t, env = env } }]...),
  )

  publisher_grants = merge([
    for t, spec in local.targets : { for topic in spec.publishes : "${t}/${topic}" => { target = t, topic = topic } }
  ]...)

  # Firestore holds the run ledger that every stage reads and writes.
  common_project_roles = ["roles/datastore.user"]
  extra_project_roles = {
    buildTrigger = ["roles/cloudbuild.builds.editor"]
  }
  project_grants = merge([
    for t, _ in local.targets : {
      for role in concat(local.common_project_roles, lookup(local.extra_project_roles, t, [])) : "${t}/${role}" => { target = t, role = role }
    }
  ]...)
}

# --- Source: one archive for every target --------------------------------

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-fn-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      num_newer_versions = 5
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  versioning {
    enabled = true
  }
}

resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = "functions-${filemd5(var.source_archive_path)}.zip"
  source = var.source_archive_path
}

# The functions' image builds run as this account, not as the Compute Engine
# default service account.
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-fn-build"
  display_name = "baton function image builds"
}

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

# --- Identities: one service account per function ------------------------

resource "google_service_account" "main" {
  for_each = local.targets

  project      = var.project_id
  account_id   = "${var.name_prefix}-fn-${local.kebab[each.key]}"
  display_name = "baton ${each.key}"
  description  = "Runtime identity of the ${each.key} function."
}

resource "google_project_iam_member" "main" {
  for_each = local.project_grants

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.main[each.value.target].email}"
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publisher_grants

  project = var.project_id
  topic   = var.topic_ids[each.value.topic]
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.main[each.value.target].email}"
}

# buildTrigger starts builds that run as these accounts.
resource "google_service_account_iam_member" "build_trigger_act_as" {
  for_each = var.build_service_account_ids

  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.main["buildTrigger"].email}"
}

resource "google_storage_bucket_iam_member" "approval_request_plans" {
  count = var.plans_bucket == "" ? 0 : 1

  bucket = var.plans_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.main["approvalRequest"].email}"
}

# --- Secrets ---------------------------------------------------------------
# Terraform creates the secrets, never their values (state would hold them):
# add versions with `gcloud secrets versions add` (see the README).

resource "google_secret_manager_secret" "main" {
  for_each = local.secret_ids

  project   = var.project_id
  secret_id = each.value

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_iam_member" "main" {
  for_each = local.secret_access

  project   = var.project_id
  secret_id = google_secret_manager_secret.main[each.value.env].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.main[each.value.target].email}"
}

# --- Ledger ----------------------------------------------------------------

resource "google_firestore_database" "main" {
  count = var.create_firestore_database ? 1 : 0

  project         = var.project_id
  name            = "(default)"
  location_id     = var.firestore_location
  type            = "FIRESTORE_NATIVE"
  deletion_policy = "ABANDON"
}

# --- Functions -------------------------------------------------------------

resource "google_cloudfunctions2_function" "main" {
  for_each = local.targets

  project  = var.project_id
  location = var.region
  name     = "${var.name_prefix}-${local.kebab[each.key]}"

  build_config {
    runtime         = var.runtime
    entry_point     = each.key
    service_account = google_service_account.build.id

    # The archive already holds dist/ (npm run build ran before packaging);
    # no npm scripts run during the image build.
    environment_variables = {
      GOOGLE_NODE_RUN_SCRIPTS = ""
    }

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email          = google_service_account.main[each.key].email
    available_memory               = var.available_memory
    timeout_seconds                = each.value.timeout
    max_instance_count             = var.max_instance_count
    min_instance_count             = 0
    all_traffic_on_latest_revision = true

    # Pub/Sub push through Eventarc counts as internal traffic; only the two
    # HTTP targets face the internet.
    ingress_settings = each.value.trigger == "http" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"

    environment_variables = local.env_by_target[each.key]

    vpc_connector                 = contains(var.vpc_targets, each.key) ? var.vpc_connector : null
    vpc_connector_egress_settings = contains(var.vpc_targets, each.key) && var.vpc_connector != null ? "PRIVATE_RANGES_ONLY" : null

    dynamic "secret_environment_variables" {
      for_each = local.secrets_by_target[each.key]
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = google_secret_manager_secret.main[secret_environment_variables.key].secret_id
        version    = "latest"
      }
    }

    secret_volumes {
      mount_path = local.config_mount_dir
      project_id = var.project_id
      secret     = google_secret_manager_secret.main["BATON_CONFIG"].secret_id
      versions {
        version = "latest"
        path    = local.config_file
      }
    }
  }

  dynamic "event_trigger" {
    for_each = each.value.trigger == "http" ? [] : [each.value.trigger]
    content {
      trigger_region        = var.region
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = var.topic_ids[event_trigger.value]
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.main[each.key].email
    }
  }

  lifecycle {
    precondition {
      condition     = each.value.trigger == "http" || contains(keys(var.topic_ids), each.value.trigger)
      error_message = "topic_ids has no topic ${each.value.trigger} for ${each.key}."
    }
  }

  # A revision that cannot read its secrets fails to start.
  depends_on = [
    google_secret_manager_secret_iam_member.main,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_source,
  ]
}

# Eventarc pushes to a topic-triggered function with the function's own
# identity, which therefore needs run.invoker on that function only.
resource "google_cloud_run_service_iam_member" "trigger_invoker" {
  for_each = local.topic_targets

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.main[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.main[each.key].email}"
}

# Public invocation for the two HTTP targets only; they authenticate callers
# by signature (GitHub, GitLab, Slack).
resource "google_cloud_run_service_iam_member" "public" {
  for_each = { for name, t in local.http_targets : name => t if var.allow_public_http }

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.main[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}
