output "topic_ids" {
  description = "Map of each baton topic name to its id (projects/P/topics/NAME); cloud-builds is in the cloudbuild module."
  value       = { for name, t in google_pubsub_topic.main : name => t.id }
}

output "topic_names" {
  description = "baton's topic names, as declared here."
  value       = local.topics
}

output "dead_letter_topic_ids" {
  description = "Map of each topic name (including external ones) to the id of its <topic>-dead-letter topic."
  value       = { for name, t in google_pubsub_topic.dead_letter : name => t.id }
}

output "dead_letter_subscription_ids" {
  description = "Map of each topic name to the subscription that holds its dead letters."
  value       = { for name, s in google_pubsub_subscription.dead_letter : name => s.id }
}

output "retry_policy" {
  description = "The retry settings applied to function subscriptions, and each one's delivery attempts before dead-lettering."
  value = {
    max_delivery_attempts = { for key, s in var.function_subscriptions : key => s.max_delivery_attempts }
    minimum_backoff       = var.minimum_backoff
    maximum_backoff       = var.maximum_backoff
  }
}
