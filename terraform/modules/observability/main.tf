locals {
  # Config files written next to the charts (charts/observability/), read
  # here so that one file serves both Helm users and Terraform.
  config_dir     = "${path.module}/../../../charts/observability"
  dashboards_dir = "${local.config_dir}/grafana/dashboards"

  # Data sources (uids loki and gmp) and the dashboard provider as written in
  # charts/observability/grafana/provisioning; PROJECT is the placeholder.
  datasources         = yamldecode(replace(file("${local.config_dir}/grafana/provisioning/datasources/datasources.yaml"), "PROJECT", var.project_id))
  dashboard_providers = yamldecode(file("${local.config_dir}/grafana/provisioning/dashboards/dashboards.yaml"))
  prometheus_uid      = "gmp"
  loki_uid            = "loki"
  syncer_name         = "datasource-syncer"

  namespaces = {
    loki    = var.loki_namespace
    grafana = var.grafana_namespace
    alloy   = var.alloy_namespace
  }

  # The pipeline's deploy result line (see DESIGN.md and the README): stdout of
  # the deployWatch function, a Cloud Run revision.
  deploy_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "jsonPayload.component=\"baton\"",
    "jsonPayload.event=\"deploy-finished\"",
  ])

  log_metrics = {
    baton_deployments = {
      description = "Deploy results of baton runs, by pipeline and status (synced, degraded, timeout, failed, skipped): deployment frequency and change failure rate."
      filter      = local.deploy_filter
      value_type  = "INT64"
      unit        = "1"
      field       = null
      labels      = ["pipeline", "status"]
    }
    baton_lead_time_seconds = {
      description = "Lead time for changes: seconds from push to deploy result."
      filter      = "${local.deploy_filter} AND jsonPayload.leadTimeSeconds:*"
      value_type  = "DISTRIBUTION"
      unit        = "s"
      field       = "jsonPayload.leadTimeSeconds"
      labels      = ["pipeline", "status"]
    }
    baton_time_to_restore_seconds = {
      description = "Time to restore service: seconds from a failed deploy to the next good one."
      filter      = "${local.deploy_filter} AND jsonPayload.restoreSeconds:*"
      value_type  = "DISTRIBUTION"
      unit        = "s"
      field       = "jsonPayload.restoreSeconds"
      labels      = ["pipeline"]
    }
  }

  dashboards = {
    for f in fileset(local.dashboards_dir, "*.json") : trimsuffix(f, ".json") => { json = file("${local.dashboards_dir}/${f}") }
  }
}

resource "kubernetes_namespace_v1" "main" {
  for_each = local.namespaces

  metadata {
    name = each.value
  }
}

# --- Logs: Loki and Alloy ----------------------------------------------------

resource "helm_release" "loki" {
  name       = "loki"
  namespace  = kubernetes_namespace_v1.main["loki"].metadata[0].name
  repository = "https://grafana.github.io/helm-charts"
  chart      = "loki"
  version    = var.loki_chart_version
  values     = [file("${local.config_dir}/loki/values.yaml")]
}

# A DaemonSet that tails /var/log/pods on every node (containerd's CRI logs).
resource "helm_release" "alloy" {
  name       = "alloy"
  namespace  = kubernetes_namespace_v1.main["alloy"].metadata[0].name
  repository = "https://grafana.github.io/helm-charts"
  chart      = "alloy"
  version    = var.alloy_chart_version

  values = [yamlencode({
    controller = { type = "daemonset" }
    alloy = {
      configMap = {
        create  = true
        content = file("${local.config_dir}/alloy/config.alloy")
      }
      mounts = {
        # Mounts the node's /var/log read-only, which holds /var/log/pods.
        varlog = true
      }
    }
  })]

  depends_on = [helm_release.loki]
}

# --- Grafana, with Loki and Managed Prometheus --------------------------------

resource "helm_release" "grafana" {
  name       = "grafana"
  namespace  = kubernetes_namespace_v1.main["grafana"].metadata[0].name
  repository = "https://grafana.github.io/helm-charts"
  chart      = "grafana"
  version    = var.grafana_chart_version

  values = [yamlencode({
    datasources        = { "datasources.yaml" = local.datasources }
    dashboardProviders = { "dashboardproviders.yaml" = local.dashboard_providers }
    dashboards         = { baton = local.dashboards }
  })]
}

resource "google_service_account" "datasource_syncer" {
  project      = var.project_id
  account_id   = local.syncer_name
  display_name = "Grafana datasource syncer"
  description  = "Reads Managed Prometheus; its token is written into Grafana's data source."
}

resource "google_project_iam_member" "datasource_syncer" {
  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = "serviceAccount:${google_service_account.datasource_syncer.email}"
}

resource "google_service_account_iam_member" "datasource_syncer_wi" {
  service_account_id = google_service_account.datasource_syncer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.workload_pool}[${var.grafana_namespace}/${local.syncer_name}]"
}

resource "kubernetes_service_account_v1" "datasource_syncer" {
  metadata {
    name      = local.syncer_name
    namespace = kubernetes_namespace_v1.main["grafana"].metadata[0].name
    annotations = {
      "iam.gke.io/gcp-service-account" = google_service_account.datasource_syncer.email
    }
  }
}

resource "kubernetes_cron_job_v1" "datasource_syncer" {
  metadata {
    name      = local.syncer_name
    namespace = kubernetes_namespace_v1.main["grafana"].metadata[0].name
  }

  spec {
    # OAuth tokens live an hour; Google's manifest refreshes every 10 minutes.
    schedule                      = "*/10 * * * *"
    concurrency_policy            = "Forbid"
    successful_jobs_history_limit = 1
    failed_jobs_history_limit     = 3

    job_template {
      metadata {}
      spec {
        template {
          metadata {}
          spec {
            service_account_name = kubernetes_service_account_v1.datasource_syncer.metadata[0].name
            restart_policy       = "Never"

            security_context {
              run_as_non_root = true
              run_as_user     = 65534
              run_as_group    = 65534
              seccomp_profile {
                type = "RuntimeDefault"
              }
            }

            container {
              name  = local.syncer_name
              image = var.datasource_syncer_image
              args = [
                "--datasource-uids=${local.prometheus_uid}",
                "--grafana-api-endpoint=http://grafana.${var.grafana_namespace}.svc.cluster.local",
                "--project-id=${var.project_id}",
                "--grafana-api-token=$(GRAFANA_SERVICE_ACCOUNT_TOKEN)",
              ]

              security_context {
                allow_privilege_escalation = false
                read_only_root_filesystem  = true
                capabilities {
                  drop = ["ALL"]
                }
              }

              resources {
                requests = { cpu = "10m", memory = "32Mi" }
                limits   = { memory = "64Mi" }
              }

              env {
                name = "GRAFANA_SERVICE_ACCOUNT_TOKEN"
                value_from {
                  secret_key_ref {
                    name = var.grafana_token_secret
                    key  = "token"
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  depends_on = [helm_release.grafana]
}

# --- Log-based metrics for the DORA dashboard -------------------------------
# Managed Prometheus exposes them as logging_googleapis_com:user_<name>.

resource "google_logging_metric" "main" {
  # A for filter, not a conditional: local.log_metrics is an object, and
  # "cond ? object : {}" has inconsistent types.
  for_each = { for name, m in local.log_metrics : name => m if var.create_log_metrics }

  project     = var.project_id
  name        = each.key
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = each.value.value_type
    unit        = each.value.unit

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.value
        value_type = "STRING"
      }
    }
  }

  label_extractors = { for l in each.value.labels : l => "EXTRACT(jsonPayload.${l})" }

  value_extractor = each.value.field == null ? null : "EXTRACT(${each.value.field})"

  dynamic "bucket_options" {
    for_each = each.value.value_type == "DISTRIBUTION" ? [1] : []
    content {
      # 1 s to about 97 days in powers of two: pushes deploy in minutes, a
      # restore may take days.
      exponential_buckets {
        num_finite_buckets = 24
        growth_factor      = 2
        scale              = 1
      }
    }
  }
}
