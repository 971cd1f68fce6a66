locals {
  # Cloud Monitoring filters, one per alert. test/charts/observability.test.ts checks that the
  # Grafana panels of charts/observability/grafana/dashboards/baton-health.json read the same
  # metrics (in PromQL: pubsub_googleapis_com:subscription_num_undelivered_messages and so on).
  dead_letter_filter = join(" AND ", [
    "resource.type = \"pubsub_subscription\"",
    "metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\"",
    # modules/pubsub names every dead-letter subscription <topic>-dead-letter.
    "resource.labels.subscription_id = monitoring.regex.full_match(\".*${var.dead_letter_suffix}\")",
  ])

  # The reconciler's structured log line for a run past its stage's time limit.
  stuck_log_filter = join(" AND ", [
    "jsonPayload.component=\"baton\"",
    "jsonPayload.event=\"run-stuck\"",
    "severity=WARNING",
  ])

  # Gen2 functions are Cloud Run services named like the function (modules/functions
  # output function_names); request_count counts every response by class.
  requests_filter = join(" AND ", [
    "resource.type = \"cloud_run_revision\"",
    "metric.type = \"run.googleapis.com/request_count\"",
  ])

  notification_channels = concat(var.notification_channels, [for c in google_monitoring_notification_channel.email : c.id])
}

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.notification_emails)

  project      = var.project_id
  display_name = "baton alerts: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

# --- Messages piling up in a dead-letter subscription ----------------------------------

resource "google_monitoring_alert_policy" "dead_letters" {
  project               = var.project_id
  display_name          = "baton: messages in a dead-letter subscription"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.notification_channels

  documentation {
    mime_type = "text/markdown"
    content   = "A stage gave up on a message after its retries and Pub/Sub moved it to `<topic>${var.dead_letter_suffix}`. Inspect it with `gcloud pubsub subscriptions pull <topic>${var.dead_letter_suffix} --limit=10` and replay it once the cause is fixed (the subscription keeps acked messages). Grafana: dashboard baton-health, panel \"Messages in dead-letter subscriptions\"."
  }

  conditions {
    display_name = "undelivered messages in a ${var.dead_letter_suffix} subscription"

    condition_threshold {
      filter          = local.dead_letter_filter
      comparison      = "COMPARISON_GT"
      threshold_value = var.dead_letter_threshold
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

# --- Runs stuck beyond their limit -------------------------------------------------------

resource "google_logging_metric" "runs_stuck" {
  project     = var.project_id
  name        = var.stuck_metric_name
  description = "Runs the reconciler found stuck beyond their stage's limit (log event run-stuck), by pipeline and stage."
  filter      = local.stuck_log_filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    labels {
      key        = "pipeline"
      value_type = "STRING"
    }

    labels {
      key        = "stage"
      value_type = "STRING"
    }
  }

  label_extractors = {
    pipeline = "EXTRACT(jsonPayload.pipeline)"
    stage    = "EXTRACT(jsonPayload.stage)"
  }
}

resource "google_monitoring_alert_policy" "runs_stuck" {
  project               = var.project_id
  display_name          = "baton: runs stuck beyond their limit"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.notification_channels

  documentation {
    mime_type = "text/markdown"
    content   = "The reconciler logged run-stuck: a run has waited on a stage longer than its limit. `npx baton status <runId>` shows where it stopped; the log line carries runId, pipeline and stage. Grafana: dashboard baton-health, panel \"Runs stuck beyond their limit\"."
  }

  conditions {
    display_name = "run-stuck log lines"

    condition_threshold {
      filter          = "metric.type = \"logging.googleapis.com/user/${google_logging_metric.runs_stuck.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.pipeline", "metric.label.stage"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

# --- Each function's error rate -------------------------------------------------------------

resource "google_monitoring_alert_policy" "function_errors" {
  for_each = var.function_names

  project               = var.project_id
  display_name          = "baton: ${each.key} error rate"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.notification_channels

  documentation {
    mime_type = "text/markdown"
    content   = "More than ${var.error_rate_threshold * 100}% of the requests to ${each.value} (${each.key}) answered 5xx over ${var.error_rate_window}. For a Pub/Sub-triggered stage every 5xx is a retry, and after the last one a dead letter. Logs: `gcloud logging read 'resource.labels.service_name=\"${each.value}\" severity>=ERROR'`. Grafana: dashboard baton-health, panel \"Function error rate (5xx)\"."
  }

  conditions {
    display_name = "5xx share of ${each.value} above ${var.error_rate_threshold * 100}%"

    condition_threshold {
      filter             = "${local.requests_filter} AND resource.labels.service_name = \"${each.value}\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "${local.requests_filter} AND resource.labels.service_name = \"${each.value}\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.error_rate_threshold
      duration           = var.error_rate_window

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }

      denominator_aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }
}
