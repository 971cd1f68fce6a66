output "function_names" {
  description = "Map of target name to deployed function name."
  value       = { for t, f in google_cloudfunctions2_function.main : t => f.name }
}

output "function_uris" {
  description = "Map of target name to the function's HTTPS URI."
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
  description = "Map of target name to its runtime service account email."
  value       = { for t, sa in google_service_account.main : t => sa.email }
}

output "eventarc_triggers" {
  description = "Topic and Eventarc trigger of each Pub/Sub-triggered function; input function_subscriptions of the pubsub module."
  value = {
    for t, spec in local.topic_targets : t => {
      topic   = spec.trigger
      trigger = google_cloudfunctions2_function.main[t].event_trigger[0].trigger
    }
  }
}

output "secret_ids" {
  description = "Map of environment variable (and BATON_CONFIG) to its Secret Manager secret id."
  value       = { for env, s in google_secret_manager_secret.main : env => s.secret_id }
}

output "source_bucket" {
  description = "Bucket holding the function source archives."
  value       = google_storage_bucket.source.name
}
