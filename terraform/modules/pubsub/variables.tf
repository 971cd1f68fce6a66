variable "project_id" {
  description = "Project of the topics."
  type        = string
}

variable "external_topics" {
  description = "Topics in the registry that another module creates (cloud-builds, owned by the cloudbuild module); they get a dead-letter topic here too."
  type        = list(string)
  default     = []
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
  description = "Topic, Eventarc trigger (full resource name) and max_delivery_attempts of each (stage, topic) trigger; functions module output eventarc_triggers. Their subscriptions get the dead-letter and retry policy, with each stage's own declared attempt limit (Pub/Sub allows 5 to 100)."
  type = map(object({
    topic                 = string
    trigger               = string
    max_delivery_attempts = number
  }))
  default = {}
}

variable "manage_function_subscriptions" {
  description = "Set the dead-letter and retry policy on the Eventarc-created subscriptions with gcloud (needs gcloud where terraform apply runs). The google provider cannot manage those subscriptions (hashicorp/terraform-provider-google#25069)."
  type        = bool
  default     = true
}
