variable "project_id" {
  description = "Project of the repositories."
  type        = string
}

variable "region" {
  description = "Location of the repositories."
  type        = string
}

variable "images_repository_id" {
  description = "Id of the Docker repository for service images."
  type        = string
  default     = "images"
}

variable "charts_repository_id" {
  description = "Id of the Docker-format repository for OCI Helm charts (Helm 3.8 or later)."
  type        = string
  default     = "charts"
}

variable "untagged_image_max_age_days" {
  description = "Delete untagged image versions older than this. Deploys pin digests of tagged images, so untagged ones are leftovers."
  type        = number
  default     = 14

  validation {
    condition     = var.untagged_image_max_age_days >= 1
    error_message = "untagged_image_max_age_days must be at least 1."
  }
}

variable "keep_image_versions" {
  description = "Keep at least this many of the most recent versions of every image, whatever their age, so a rollback target always exists."
  type        = number
  default     = 20

  validation {
    condition     = var.keep_image_versions >= 1
    error_message = "keep_image_versions must be at least 1."
  }
}

variable "chart_max_age_days" {
  description = "Delete chart versions older than this, except the most recent keep_chart_versions."
  type        = number
  default     = 180

  validation {
    condition     = var.chart_max_age_days >= 1
    error_message = "chart_max_age_days must be at least 1."
  }
}

variable "keep_chart_versions" {
  description = "Keep at least this many of the most recent chart versions."
  type        = number
  default     = 50

  validation {
    condition     = var.keep_chart_versions >= 1
    error_message = "keep_chart_versions must be at least 1."
  }
}

variable "cleanup_dry_run" {
  description = "Only log what the cleanup policies would delete."
  type        = bool
  default     = false
}

variable "image_writers" {
  description = "Principals that push images (the Cloud Build service account), as a map from a fixed label to an IAM member. Labels are map keys so that for_each works while the members are still unknown at plan time."
  type        = map(string)
  default     = {}
}

variable "image_readers" {
  description = "Principals that pull images (the GKE node service account), as a map from a fixed label to an IAM member. Labels are map keys so that for_each works while the members are still unknown at plan time."
  type        = map(string)
  default     = {}
}

variable "chart_writers" {
  description = "Principals that push charts (the chartBump function), as a map from a fixed label to an IAM member. Labels are map keys so that for_each works while the members are still unknown at plan time."
  type        = map(string)
  default     = {}
}

variable "chart_readers" {
  description = "Principals that pull charts (the Argo CD token refresher), as a map from a fixed label to an IAM member. Labels are map keys so that for_each works while the members are still unknown at plan time."
  type        = map(string)
  default     = {}
}
