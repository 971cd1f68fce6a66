variable "project_id" {
  description = "Project that owns the network."
  type        = string
}

variable "region" {
  description = "Region of the subnets, the router and Cloud NAT."
  type        = string
}

variable "name" {
  description = "Name of the VPC; also the prefix of every resource in this module."
  type        = string
  default     = "baton"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase RFC 1035 label of at most 42 characters, so that suffixed names stay under 63."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the node subnet (nodes, the bastion)."
  type        = string
  default     = "10.10.0.0/20"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be a CIDR block."
  }
}

variable "pods_cidr" {
  description = "Secondary range for pod IPs (VPC-native GKE)."
  type        = string
  default     = "10.16.0.0/14"

  validation {
    condition     = can(cidrhost(var.pods_cidr, 0))
    error_message = "pods_cidr must be a CIDR block."
  }
}

variable "services_cidr" {
  description = "Secondary range for Service cluster IPs."
  type        = string
  default     = "10.20.0.0/20"

  validation {
    condition     = can(cidrhost(var.services_cidr, 0))
    error_message = "services_cidr must be a CIDR block."
  }
}

variable "proxy_only_cidr" {
  description = "Range of the proxy-only subnet (REGIONAL_MANAGED_PROXY) that the regional external Application Load Balancer needs; /23 is Google's recommended size."
  type        = string
  default     = "10.30.0.0/23"

  validation {
    condition     = can(cidrhost(var.proxy_only_cidr, 0)) && tonumber(split("/", var.proxy_only_cidr)[1]) <= 26
    error_message = "proxy_only_cidr must be a CIDR block of /26 or larger."
  }
}

variable "iap_ssh_target_tag" {
  description = "Network tag that receives SSH from Identity-Aware Proxy (the bastion carries it)."
  type        = string
  default     = "iap-ssh"
}

variable "nat_log_filter" {
  description = "Which Cloud NAT events to log: ERRORS_ONLY, TRANSLATIONS_ONLY or ALL."
  type        = string
  default     = "ERRORS_ONLY"

  validation {
    condition     = contains(["ERRORS_ONLY", "TRANSLATIONS_ONLY", "ALL"], var.nat_log_filter)
    error_message = "nat_log_filter must be ERRORS_ONLY, TRANSLATIONS_ONLY or ALL."
  }
}

variable "create_serverless_connector" {
  description = "Create a Serverless VPC Access connector, through which the deployWatch function reaches the Argo CD API on an internal load balancer."
  type        = bool
  default     = true
}

variable "serverless_connector_cidr" {
  description = "Unused /28 range for the Serverless VPC Access connector."
  type        = string
  default     = "10.31.0.0/28"

  validation {
    condition     = can(cidrhost(var.serverless_connector_cidr, 0)) && endswith(var.serverless_connector_cidr, "/28")
    error_message = "serverless_connector_cidr must be a /28 CIDR block."
  }
}
