locals {
  # The stage manifest, generated from functions/stages.ts by `npm run generate`
  # (test/manifest fails when it is stale). Every function, trigger, identity
  # and grant below is derived from it; no list of targets is written here.
  manifest = jsondecode(file("${path.module}/stages.json"))
  stages   = local.manifest.stages

  topic_stages    = { for name, s in local.stages : name => s if s.trigger == "topic" }
  http_stages     = { for name, s in local.stages : name => s if s.trigger == "http" }
  schedule_stages = { for name, s in local.stages : name => s if s.trigger == "schedule" }

  # webhookIntake -> webhook-intake
  kebab = { for name, _ in local.stages : name => lower(replace(name, "/([A-Z])/", "-$1")) }

  # BATON_CONFIG is a path; the file is the secret baton-config, mounted as a
  # volume because it names remotes and registries and may carry credentials.
  config_mount_dir = "/etc/baton"
  config_file      = "baton.yaml"

  # The value of every plain variable a stage may declare. A stage that
  # declares one missing here fails the plan (an invalid index), and
  # test/terraform checks the two statically.
  plain_env_values = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    BATON_CONFIG         = "${local.config_mount_dir}/${local.config_file}"
    SLACK_CHANNEL        = var.slack_channel
    SLACK_APPROVERS      = join(",", var.slack_approvers)
    SLACK_API_URL        = var.slack_api_url
    # Managed Prometheus's query frontend, the Prometheus HTTP API
    # (/api/v1/query is appended) that Grafana also reads. A stage that reads
    # it needs roles/monitoring.viewer, declared with the stage (roles.project).
    PROMETHEUS_URL = "https://monitoring.googleapis.com/v1/projects/${var.project_id}/location/global/prometheus"
    # gitStatus and webhookSweep; empty values mean the hosts' defaults (or no App).
    GITHUB_API_URL             = var.github_api_url
    GITLAB_API_URL             = var.gitlab_api_url
    GITHUB_APP_ID              = var.github_app == null ? "" : var.github_app.app_id
    GITHUB_APP_INSTALLATION_ID = var.github_app == null ? "" : var.github_app.installation_id
    BATON_RUN_URL              = var.run_url
  }

  env_by_stage = { for name, s in local.stages : name => { for env in s.env : env => local.plain_env_values[env] } }

  # A secret's id follows from its variable: GITHUB_WEBHOOK_SECRET ->
  # baton-github-webhook-secret, BATON_APPROVAL_SECRET -> baton-approval-secret.
  secret_names = distinct(flatten([for s in local.stages : s.secrets]))
  secret_ids = merge(
    { for env in local.secret_names : env => "${var.name_prefix}-${replace(lower(trimprefix(env, "BATON_")), "_", "-")}" },
    { BATON_CONFIG = "${var.name_prefix}-config" },
  )

  # Every stage reads the config; each reads only its own secrets.
  secret_access = merge(
    { for name, _ in local.stages : "${name}/BATON_CONFIG" => { stage = name, env = "BATON_CONFIG" } },
    merge([for name, s in local.stages : { for env in s.secrets : "${name}/${env}" => { stage = name, env = env } }]...),
  )

  publisher_grants = merge([
    for name, s in local.stages : { for topic in s.publishes : "${name}/${topic}" => { stage = name, topic = topic } }
  ]...)

  project_grants = merge([
    for name, s in local.stages : { for role in s.projectRoles : "${name}/${role}" => { stage = name, role = role } }
  ]...)

  # Labels the manifest uses, mapped to real resources by the caller; a label
  # the caller does not provide (no Terraform service account) grants nothing.
  act_as_grants = merge([
    for name, s in local.stages : { for label in s.actAs : "${name}/${label}" => { stage = name, account = var.act_as_service_accounts[label] } if contains(keys(var.act_as_service_accounts), label) }
  ]...)
  bucket_grants = merge([
    for name, s in local.stages : { for label, role in s.buckets : "${name}/${label}" => { stage = name, bucket = var.buckets[label], role = role } if lookup(var.buckets, label, "") != "" }
  ]...)
  repository_grants = merge([
    for name, s in local.stages : { for label, role in s.repositories : "${name}/${label}" => { stage = name, repository = var.repositories[label], role = role } if lookup(var.repositories, label, "") != "" }
  ]...)

  # One Eventarc trigger per (stage, topic): the function's own event_trigger
  # for its first topic, an Eventarc trigger of its own for each further one.
  extra_triggers = merge([
    for name, s in local.topic_stages : { for topic in slice(s.topics, 1, length(s.topics)) : "${name}/${topic}" => { stage = name, topic = topic } }
  ]...)

  # Composite Firestore indexes the ledger's queries need (shared/ledger/runLedger.ts, LEDGER_INDEXES).
  firestore_indexes = { for i in local.manifest.firestoreIndexes : "${i.collection}/${join(",", [for f in i.fields : f.field])}" => i }

  # Fields whose time lets a document go (shared/ledger/runLedger.ts, LEDGER_EXPIRY).
  firestore_ttls = { for t in local.manifest.firestoreTtls : "${t.collection}/${t.field}" => t }
}

# --- Source: one archive for every stage -----------------------------------

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

# --- Identities: one service account per stage, with exactly its grants -----

resource "google_service_account" "main" {
  for_each = local.stages

  project      = var.project_id
  account_id   = "${var.name_prefix}-fn-${local.kebab[each.key]}"
  display_name = "baton ${each.key}"
  description  = "Runtime identity of the ${each.key} function: ${each.value.doc}"
}

resource "google_project_iam_member" "main" {
  for_each = local.project_grants

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.main[each.value.stage].email}"
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publisher_grants

  project = var.project_id
  topic   = var.topic_ids[each.value.topic]
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.main[each.value.stage].email}"
}

# Stages that start builds run them as these accounts.
resource "google_service_account_iam_member" "act_as" {
  for_each = local.act_as_grants

  service_account_id = each.value.account
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.main[each.value.stage].email}"
}

resource "google_storage_bucket_iam_member" "stage" {
  for_each = local.bucket_grants

  bucket = each.value.bucket
  role   = each.value.role
  member = "serviceAccount:${google_service_account.main[each.value.stage].email}"
}

resource "google_artifact_registry_repository_iam_member" "stage" {
  for_each = local.repository_grants

  project    = var.project_id
  location   = var.region
  repository = each.value.repository
  role       = each.value.role
  member     = "serviceAccount:${google_service_account.main[each.value.stage].email}"
}

# --- Secrets ---------------------------------------------------------------
# Terraform creates the secrets, never their values (state would hold them):
# add versions with `gcloud secrets versions add` (see the README), except the
# unset one of each secret in var.unused_secrets.

resource "google_secret_manager_secret" "main" {
  for_each = local.secret_ids

  project   = var.project_id
  secret_id = each.value

  replication {
    auto {}
  }
}

# A function cannot start without a version of every secret it mounts. Each
# secret listed in var.unused_secrets gets a first version holding the
# manifest's unsetSecretValue, which baton reads as not set (an unused GitLab
# token refuses every GitLab webhook rather than being a guessable
# placeholder). That constant is the only secret data Terraform ever holds.
resource "google_secret_manager_secret_version" "unset" {
  for_each = toset(var.unused_secrets)

  # try: a name no stage mounts fails the precondition below, with its message.
  secret      = try(google_secret_manager_secret.main[each.key].id, "")
  secret_data = local.manifest.unsetSecretValue

  lifecycle {
    precondition {
      condition     = contains(keys(local.secret_ids), each.key)
      error_message = "unused_secrets: ${each.key} is not a secret any stage mounts."
    }
  }
}

resource "google_secret_manager_secret_iam_member" "main" {
  for_each = local.secret_access

  project   = var.project_id
  secret_id = google_secret_manager_secret.main[each.value.env].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.main[each.value.stage].email}"
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

# `baton runs --pipeline` orders one pipeline's runs in the store; Firestore
# needs a composite index for an equality filter with an order.
resource "google_firestore_index" "main" {
  for_each = local.firestore_indexes

  project    = var.project_id
  database   = var.create_firestore_database ? google_firestore_database.main[0].name : "(default)"
  collection = each.value.collection

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.field
      order      = fields.value.direction == "desc" ? "DESCENDING" : "ASCENDING"
    }
  }
}

# A TTL policy per expiring collection: Firestore deletes a document some time
# (typically within a day) after the Timestamp in its field. The field is only
# ever compared with the clock, so it keeps no single-field index (an index on
# an ever-increasing time would be a write hotspot).
resource "google_firestore_field" "ttl" {
  for_each = local.firestore_ttls

  project    = var.project_id
  database   = var.create_firestore_database ? google_firestore_database.main[0].name : "(default)"
  collection = each.value.collection
  field      = each.value.field

  ttl_config {}
  index_config {}
}

# --- Functions -------------------------------------------------------------

resource "google_cloudfunctions2_function" "main" {
  for_each = local.stages

  project     = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-${local.kebab[each.key]}"
  description = each.value.doc

  build_config {
    runtime         = var.runtime
    entry_point     = each.value.entryPoint
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
    timeout_seconds                = each.value.timeoutSeconds
    max_instance_count             = var.max_instance_count
    min_instance_count             = 0
    all_traffic_on_latest_revision = true

    # Eventarc and Cloud Scheduler count as internal traffic; only the public
    # HTTP stages (git hosts, Slack) face the internet.
    ingress_settings = each.value.public ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"

    environment_variables = local.env_by_stage[each.key]

    vpc_connector                 = each.value.vpc ? var.vpc_connector : null
    vpc_connector_egress_settings = each.value.vpc && var.vpc_connector != null ? "PRIVATE_RANGES_ONLY" : null

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.main[secret_environment_variables.value].secret_id
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
    for_each = each.value.trigger == "topic" ? [each.value.topics[0]] : []
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
      condition     = alltrue([for topic in concat(each.value.topics, each.value.publishes) : contains(keys(var.topic_ids), topic)])
      error_message = "topic_ids lacks a topic that ${each.key} consumes or publishes."
    }
  }

  # A revision that cannot read its secrets fails to start.
  depends_on = [
    google_secret_manager_secret_iam_member.main,
    google_secret_manager_secret_version.unset,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_source,
  ]
}

# A stage triggered by several topics (terraformApply: approvals and Cloud
# Build's notifications) gets an Eventarc trigger for each further topic,
# delivering to the same Cloud Run service.
resource "google_eventarc_trigger" "extra" {
  for_each = local.extra_triggers

  project         = var.project_id
  location        = var.region
  name            = "${var.name_prefix}-${local.kebab[each.value.stage]}-${each.value.topic}"
  service_account = google_service_account.main[each.value.stage].email

  matching_criteria {
    attribute = "type"
    value     = "google.cloud.pubsub.topic.v1.messagePublished"
  }

  transport {
    pubsub {
      topic = var.topic_ids[each.value.topic]
    }
  }

  destination {
    cloud_run_service {
      service = google_cloudfunctions2_function.main[each.value.stage].service_config[0].service
      region  = var.region
    }
  }
}

# Eventarc pushes to a topic-triggered function with the function's own
# identity, which therefore needs run.invoker on that function only.
resource "google_cloud_run_service_iam_member" "trigger_invoker" {
  for_each = local.topic_stages

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.main[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.main[each.key].email}"
}

# Public invocation for the public HTTP stages only; they authenticate callers
# by signature (GitHub, GitLab, Slack).
resource "google_cloud_run_service_iam_member" "public" {
  for_each = { for name, s in local.http_stages : name => s if s.public && var.allow_public_http }

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.main[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# --- Schedules: Cloud Scheduler calls each scheduled stage -----------------

resource "google_service_account" "scheduler" {
  count = length(local.schedule_stages) > 0 ? 1 : 0

  project      = var.project_id
  account_id   = "${var.name_prefix}-scheduler"
  display_name = "baton Cloud Scheduler"
  description  = "Calls the scheduled stages (OIDC), and nothing else."
}

resource "google_cloud_run_service_iam_member" "scheduler_invoker" {
  for_each = local.schedule_stages

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.main[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler[0].email}"
}

resource "google_cloud_scheduler_job" "main" {
  for_each = local.schedule_stages

  project          = var.project_id
  region           = var.region
  name             = "${var.name_prefix}-${local.kebab[each.key]}"
  description      = each.value.doc
  schedule         = each.value.schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "${min(each.value.timeoutSeconds, 1800)}s"

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.main[each.key].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.scheduler[0].email
      audience              = google_cloudfunctions2_function.main[each.key].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_service_iam_member.scheduler_invoker]
}
