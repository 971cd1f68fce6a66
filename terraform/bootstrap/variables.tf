variable "project_id" {
  description = "Project that holds the state bucket."
  type        = string
}

variable "location" {
  description = "Location of the state bucket."
  type        = string
  default     = "EU"
}

variable "bucket_name" {
  description = "Name of the state bucket; empty means PROJECT-tfstate."
  type        = string
  default     = ""
}

variable "noncurrent_versions_kept" {
  description = "How many old versions of each state file to keep."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_versions_kept >= 1
    error_message = "noncurrent_versions_kept must be at least 1."
  }
}
