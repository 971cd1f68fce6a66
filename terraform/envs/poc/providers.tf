provider "google" {
  project = var.project_id
  region  = var.region
}

data "google_client_config" "current" {}

# Through the cluster's DNS-based endpoint: reachable from Cloud Build or a
# laptop with IAM alone, and served with a publicly trusted certificate, so
# no cluster CA is needed.
provider "kubernetes" {
  host  = "https://${module.gke.dns_endpoint}"
  token = data.google_client_config.current.access_token
}

provider "helm" {
  kubernetes = {
    host  = "https://${module.gke.dns_endpoint}"
    token = data.google_client_config.current.access_token
  }
}
