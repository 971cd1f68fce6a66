locals {
  # baton's topics, exactly as in shared/contracts/topics.ts (TOPICS) minus
  # cloud-builds, which Cloud Build owns (modules/cloudbuild). test/terraform
  # checks that the two modules together declare exactly the registry.
  topics = [
    "push-received",
    "source-mirrored",
    "build-started",
    "build-finished",
    "approval-requested",
    "approval-decided",
    "chart-published",
    "deploy-finished",
    "release-verified",
    "promotion-requested",
    "run-finished",
  ]

  all_topics = toset(concat(local.topics, var.external_topics))

  # Same rule as deadLetterTopic() in shared/contracts/topics.ts.
  dead_letter_topics = { for t in local.all_topics : t => "${t}-dead-letter" }

  pubsub_agent = "serviceAccount:service-${data.google_project.main.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

data "google_project" "main" {
  project_id = var.project_id
}

resource "google_pubsub_topic" "main" {
  for_each = toset(local.topics)

  project = var.project_id
  name    = each.value

  # Lets a consumer that lost its subscription be re-attached and seek back.
  message_retention_duration = "86400s"
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.dead_letter_topics

  project = var.project_id
  name    = each.value
}

# A dead-letter topic without a subscription drops what it receives; this one
# keeps it for inspection (`gcloud pubsub subscriptions pull`) and replay.
resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.dead_letter_topics

  project                    = var.project_id
  name                       = each.value
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  ack_deadline_seconds       = 60
  message_retention_duration = var.dead_letter_retention
  retain_acked_messages      = true

  expiration_policy {
    ttl = ""
  }
}

# Pub/Sub's service agent forwards undeliverable messages: it must publish to
# the dead-letter topics (and subscribe to the source subscription, below).
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.dead_letter_topics

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter[each.key].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

# Gen2 Pub/Sub triggers are Eventarc triggers whose push subscription Eventarc
# creates and owns, so Terraform cannot declare it. This attaches the
# dead-letter topic and the retry policy to it, and again whenever the trigger
# is recreated.
resource "terraform_data" "function_subscription" {
  for_each = var.manage_function_subscriptions ? var.function_subscriptions : {}

  triggers_replace = [
    each.value.trigger,
    google_pubsub_topic.dead_letter[each.value.topic].id,
    each.value.max_delivery_attempts,
    var.minimum_backoff,
    var.maximum_backoff,
  ]

  provisioner "local-exec" {
    interpreter = ["/bin/bash", "-c"]
    command     = <<-EOT
      set -euo pipefail
      sub="$(gcloud eventarc triggers describe "$TRIGGER" --format='value(transport.pubsub.subscription)')"
      test -n "$sub" || { echo "failed to find the subscription of $TRIGGER" >&2; exit 1; }
      gcloud pubsub subscriptions add-iam-policy-binding "$sub" \
        --member="$PUBSUB_AGENT" --role=roles/pubsub.subscriber --format=none
      gcloud pubsub subscriptions update "$sub" \
        --dead-letter-topic="$DEAD_LETTER_TOPIC" \
        --max-delivery-attempts="$MAX_ATTEMPTS" \
        --min-retry-delay="$MIN_BACKOFF" \
        --max-retry-delay="$MAX_BACKOFF" \
        --format=none
    EOT
    environment = {
      TRIGGER           = each.value.trigger
      PUBSUB_AGENT      = local.pubsub_agent
      DEAD_LETTER_TOPIC = google_pubsub_topic.dead_letter[each.value.topic].id
      # The stage's declared limit: the handler sees the same number (stages.json).
      MAX_ATTEMPTS = each.value.max_delivery_attempts
      MIN_BACKOFF  = var.minimum_backoff
      MAX_BACKOFF  = var.maximum_backoff
    }
  }

  depends_on = [google_pubsub_topic_iam_member.dead_letter_publisher]
}
