variable "project_id" {
  description = "Project that owns the cluster."
  type        = string
}

variable "region" {
  description = "Region of the (regional) cluster."
  type        = string
}

variable "name" {
  description = "Cluster name."
  type        = string
  default     = "baton"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase RFC 1035 label of at most 40 characters."
  }
}

variable "network_id" {
  description = "Id of the VPC (network module output network_id)."
  type        = string
}

variable "subnet_id" {
  description = "Id of the node subnet (network module output subnet_id)."
  type        = string
}

variable "pods_range_name" {
  description = "Secondary range for pods (network module output pods_range_name)."
  type        = string
}

variable "services_range_name" {
  description = "Secondary range for Services (network module output services_range_name)."
  type        = string
}

variable "release_channel" {
  description = "GKE release channel. REGULAR gets new minors a few weeks after RAPID and keeps them supported for the full 14 months."
  type        = string
  default     = "REGULAR"

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE", "EXTENDED"], var.release_channel)
    error_message = "release_channel must be RAPID, REGULAR, STABLE or EXTENDED."
  }
}

variable "kubernetes_version_prefix" {
  description = "Minor version to pin, as a prefix such as \"1.35.\". The newest version with this prefix in the release channel is used. 1.25 and everything before 1.30 are past end of life and rejected."
  type        = string
  default     = "1.35."

  validation {
    condition     = can(regex("^1\\.[0-9]+\\.$", var.kubernetes_version_prefix)) && tonumber(split(".", var.kubernetes_version_prefix)[1]) >= 30
    error_message = "kubernetes_version_prefix must look like \"1.35.\" and name a minor of 1.30 or later (1.25 reached end of life on 2024-03-30)."
  }
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the private IP endpoint of the control plane (for example the node subnet, where the bastion lives). The DNS endpoint is governed by IAM, not by this list."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  default = []

  validation {
    condition     = alltrue([for n in var.master_authorized_networks : can(cidrhost(n.cidr_block, 0))])
    error_message = "Every master_authorized_networks entry needs a valid cidr_block."
  }
}

variable "dns_endpoint_allow_external_traffic" {
  description = "Allow kubectl through the DNS-based control-plane endpoint from anywhere the Google APIs are reachable, authorized by IAM (container.clusters.connect). Google's recommended way to reach a private control plane."
  type        = bool
  default     = true
}

variable "machine_type" {
  description = "Machine type of the default node pool."
  type        = string
  default     = "e2-standard-4"
}

variable "disk_size_gb" {
  description = "Boot disk size of each node, in GB."
  type        = number
  default     = 50

  validation {
    condition     = var.disk_size_gb >= 20
    error_message = "disk_size_gb must be at least 20."
  }
}

variable "min_nodes_per_zone" {
  description = "Autoscaler lower bound, per zone."
  type        = number
  default     = 1

  validation {
    condition     = var.min_nodes_per_zone >= 0
    error_message = "min_nodes_per_zone must not be negative."
  }
}

variable "max_nodes_per_zone" {
  description = "Autoscaler upper bound, per zone."
  type        = number
  default     = 3

  validation {
    condition     = var.max_nodes_per_zone >= 1
    error_message = "max_nodes_per_zone must be at least 1."
  }
}

variable "spot" {
  description = "Use Spot VMs for the node pool (cheaper, can be preempted; fine for a proof of concept)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse terraform destroy of the cluster."
  type        = bool
  default     = true
}
