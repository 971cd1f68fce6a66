output "function_names" {
  description = "Map of stage name to deployed function name (also its Cloud Run service)."
  value       = { for t, f in google_cloudfunctions2_function.main : t => f.name }
}

output "function_uris" {
  description = "Map of stage name to the function's HTTPS URI."
  value       = { for t, f in google_cloudfunctions2_function.main : t => f.service_config[0].uri }
}

output "webhook_url" {
  description = "URL to register as the GitHub/GitLab push webhook."
  value       = google_cloudfunctions2_function.main["webhookIntake"].service_config[0].uri
}

output "slack_interactivity_url" {
  description = "URL to set as the Slack app's Interactivity Request URL."
  value       = google_cloudfunctions2_function.main["approvalCallback"].service_config[0].uri
}

output "service_account_emails" {
  description = "Map of stage name to its runtime service account email."
  value       = { for t, sa in google_service_account.main : t => sa.email }
}

output "eventarc_triggers" {
  description = "Each (stage, topic) trigger: its topic, Eventarc trigger (full resource name) and the stage's declared max_delivery_attempts; input function_subscriptions of the pubsub module."
  value = merge(
    {
      for name, s in local.topic_stages : "${name}/${s.topics[0]}" => {
        topic                 = s.topics[0]
        trigger               = google_cloudfunctions2_function.main[name].event_trigger[0].trigger
        max_delivery_attempts = s.maxDeliveryAttempts
      }
    },
    {
      for key, t in local.extra_triggers : key => {
        topic                 = t.topic
        trigger               = google_eventarc_trigger.extra[key].id
        max_delivery_attempts = local.stages[t.stage].maxDeliveryAttempts
      }
    },
  )
}

output "scheduler_jobs" {
  description = "Map of scheduled stage to its Cloud Scheduler job name."
  value       = { for name, job in google_cloud_scheduler_job.main : name => job.name }
}

output "secret_ids" {
  description = "Map of environment variable (and BATON_CONFIG) to its Secret Manager secret id."
  value       = { for env, s in google_secret_manager_secret.main : env => s.secret_id }
}

output "source_bucket" {
  description = "Bucket holding the function source archives."
  value       = google_storage_bucket.source.name
}
