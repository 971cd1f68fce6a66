variable "project_id" {
  description = "Project of the topics."
  type        = string
}

variable "external_topics" {
  description = "Topics in the registry that another module creates (cloud-builds, owned by the cloudbuild module); they get a dead-letter topic here too."
  type        = list(string)
  default     = []
}

variable "max_delivery_attempts" {
  description = "Deliveries before a message goes to <topic>-dead-letter (Pub/Sub allows 5 to 100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "minimum_backoff" {
  description = "Retry policy: shortest wait before a redelivery, in seconds with an s suffix (10s to 600s)."
  type        = string
  default     = "10s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.minimum_backoff)) && tonumber(trimsuffix(var.minimum_backoff, "s")) <= 600
    error_message = "minimum_backoff must look like \"10s\" and be at most 600s."
  }
}

variable "maximum_backoff" {
  description = "Retry policy: longest wait before a redelivery, in seconds with an s suffix (at most 600s)."
  type        = string
  default     = "600s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.maximum_backoff)) && tonumber(trimsuffix(var.maximum_backoff, "s")) <= 600
    error_message = "maximum_backoff must look like \"600s\" and be at most 600s."
  }
}

variable "dead_letter_retention" {
  description = "How long the dead-letter subscriptions keep messages for inspection and replay."
  type        = string
  default     = "604800s"
}

variable "function_subscriptions" {
  description = "Topic and Eventarc trigger (full resource name) of each Pub/Sub-triggered function, keyed by function target; functions module output eventarc_triggers. Their subscriptions get the dead-letter and retry policy."
  type = map(object({
    topic   = string
    trigger = string
  }))
  default = {}
}

variable "manage_function_subscriptions" {
  description = "Set the dead-letter and retry policy on the Eventarc-created subscriptions with gcloud (needs gcloud where terraform apply runs). The google provider cannot manage those subscriptions (hashicorp/terraform-provider-google#25069)."
  type        = bool
  default     = true
}
