locals {
  apis = [
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "eventarc.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iap.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "vpcaccess.googleapis.com",
  ]

  # Every topic a function or Jenkins touches: baton's own plus cloud-builds.
  topic_ids = merge(module.pubsub.topic_ids, { (module.cloudbuild.topic_name) = module.cloudbuild.topic_id })

  # By the labels the stage manifest uses (shared/stage/declaration.ts).
  act_as_service_accounts = merge(
    { builds = module.cloudbuild.build_service_account_id },
    { for k, id in { terraform = module.cloudbuild.terraform_service_account_id } : k => id if var.create_terraform_service_account },
  )
}

resource "google_project_service" "main" {
  for_each = toset(local.apis)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "network" {
  source = "../../modules/network"

  project_id = var.project_id
  region     = var.region

  depends_on = [google_project_service.main]
}

module "gke" {
  source = "../../modules/gke"

  project_id                = var.project_id
  region                    = var.region
  network_id                = module.network.network_id
  subnet_id                 = module.network.subnet_id
  pods_range_name           = module.network.pods_range_name
  services_range_name       = module.network.services_range_name
  kubernetes_version_prefix = var.kubernetes_version_prefix
  spot                      = var.spot_nodes
  max_nodes_per_zone        = var.max_nodes_per_zone
  deletion_protection       = var.deletion_protection

  # The bastion lives in the node subnet; the IP endpoint accepts only it.
  master_authorized_networks = [
    { cidr_block = module.network.subnet_cidr, display_name = "node subnet (bastion)" },
  ]

  depends_on = [google_project_service.main]
}

module "bastion" {
  source = "../../modules/bastion"

  project_id  = var.project_id
  zone        = var.zone
  subnet_id   = module.network.subnet_id
  network_tag = module.network.iap_ssh_target_tag
  members     = var.developers

  depends_on = [google_project_service.main]
}

module "cloudbuild" {
  source = "../../modules/cloudbuild"

  project_id                       = var.project_id
  region                           = var.region
  state_bucket                     = var.state_bucket
  create_terraform_service_account = var.create_terraform_service_account

  depends_on = [google_project_service.main]
}

module "pubsub" {
  source = "../../modules/pubsub"

  project_id             = var.project_id
  external_topics        = [module.cloudbuild.topic_name]
  function_subscriptions = module.functions.eventarc_triggers

  depends_on = [google_project_service.main]
}

module "functions" {
  source = "../../modules/functions"

  project_id              = var.project_id
  region                  = var.region
  source_archive_path     = "${path.root}/${var.functions_source_archive}"
  topic_ids               = local.topic_ids
  slack_channel           = var.slack_channel
  slack_approvers         = var.slack_approvers
  act_as_service_accounts = local.act_as_service_accounts
  buckets                 = { plans = module.cloudbuild.plans_bucket }
  repositories            = module.artifact_registry.repository_ids
  vpc_connector           = module.network.serverless_connector_id
  firestore_location      = var.firestore_location
  unused_secrets          = var.unused_secrets

  depends_on = [google_project_service.main]
}

module "artifact_registry" {
  source = "../../modules/artifact_registry"

  project_id    = var.project_id
  region        = var.region
  image_writers = { cloudbuild = "serviceAccount:${module.cloudbuild.build_service_account_email}" }
  image_readers = { gke_nodes = "serviceAccount:${module.gke.node_service_account_email}" }
  chart_readers = { argocd = "serviceAccount:${module.cicd.token_refresher_service_account_email}" }

  depends_on = [google_project_service.main]
}

module "cicd" {
  source = "../../modules/cicd"

  project_id            = var.project_id
  workload_pool         = module.gke.workload_pool
  charts_repository_url = module.artifact_registry.charts_repository_url
  topic_ids             = local.topic_ids
  environments          = var.environments
}

module "observability" {
  source = "../../modules/observability"

  project_id    = var.project_id
  workload_pool = module.gke.workload_pool
}

# The shop's only Gateway, with the reserved address, the host names and the
# certificate. charts/online-boutique (values-<env>.yaml: gateway.create=false)
# attaches the frontend's HTTPRoute to it; test/charts renders both and counts
# exactly one Gateway.
module "ingress" {
  source = "../../modules/ingress"

  project_id             = var.project_id
  region                 = var.region
  hostnames              = var.frontend_hostnames
  pre_shared_certificate = var.frontend_certificate
}

# Alerts on baton itself: dead letters, stuck runs, each function's error rate.
module "alerts" {
  source = "../../modules/alerts"

  project_id          = var.project_id
  function_names      = module.functions.function_names
  notification_emails = var.alert_emails

  depends_on = [google_project_service.main]
}
