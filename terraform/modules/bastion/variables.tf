variable "project_id" {
  description = "Project of the bastion VM."
  type        = string
}

variable "zone" {
  description = "Zone of the bastion VM (in the cluster's region)."
  type        = string
}

variable "name" {
  description = "Instance name."
  type        = string
  default     = "baton-bastion"
}

variable "subnet_id" {
  description = "Subnet of the VM (the node subnet, which is a master authorized network)."
  type        = string
}

variable "network_tag" {
  description = "Tag that the IAP SSH firewall rule targets (network module output iap_ssh_target_tag)."
  type        = string
}

variable "machine_type" {
  description = "Machine type; tinyproxy needs very little."
  type        = string
  default     = "e2-micro"
}

variable "proxy_port" {
  description = "Port tinyproxy listens on, on the VM's loopback interface only."
  type        = number
  default     = 8888

  validation {
    condition     = var.proxy_port > 1024 && var.proxy_port < 65536
    error_message = "proxy_port must be an unprivileged port (1025-65535)."
  }
}

variable "members" {
  description = "Principals allowed to tunnel to the bastion and log in with OS Login, for example [\"group:platform@example.com\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.members : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):", m))])
    error_message = "Every member must be an IAM principal such as user:, group: or serviceAccount:."
  }
}
