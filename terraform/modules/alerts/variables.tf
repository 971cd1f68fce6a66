variable "project_id" {
  description = "Project of the alert policies, the log-based metric and the notification channels."
  type        = string
}

variable "function_names" {
  description = "Map of target name to the deployed function's name, which is its Cloud Run service (modules/functions output function_names): one error-rate alert each."
  type        = map(string)
}

variable "notification_channels" {
  description = "Ids of existing notification channels (projects/P/notificationChannels/N) every alert notifies."
  type        = list(string)
  default     = []
}

variable "notification_emails" {
  description = "Email addresses to notify; one email notification channel is created for each."
  type        = list(string)
  default     = []
}

variable "dead_letter_suffix" {
  description = "Suffix of the dead-letter subscriptions (modules/pubsub: <topic>-dead-letter)."
  type        = string
  default     = "-dead-letter"
}

variable "dead_letter_threshold" {
  description = "Alert when a dead-letter subscription holds more undelivered messages than this."
  type        = number
  default     = 0

  validation {
    condition     = var.dead_letter_threshold >= 0
    error_message = "dead_letter_threshold must be 0 or more."
  }
}

variable "stuck_metric_name" {
  description = "Name of the log-based metric counting run-stuck log lines (logging.googleapis.com/user/<name>; in PromQL logging_googleapis_com:user_<name>)."
  type        = string
  default     = "baton_runs_stuck"
}

variable "error_rate_threshold" {
  description = "Alert when this share of a function's requests (0 to 1) answers 5xx."
  type        = number
  default     = 0.05

  validation {
    condition     = var.error_rate_threshold > 0 && var.error_rate_threshold <= 1
    error_message = "error_rate_threshold is a share: more than 0, at most 1."
  }
}

variable "error_rate_window" {
  description = "How long the error rate must stay above the threshold, as a duration in seconds such as \"300s\"."
  type        = string
  default     = "300s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.error_rate_window))
    error_message = "error_rate_window must be seconds, such as \"300s\"."
  }
}
