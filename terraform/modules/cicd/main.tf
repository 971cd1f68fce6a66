locals {
  # The Argo CD objects are written once, in charts/argocd (also usable with
  # kubectl apply); Terraform fills in the real chart repository and project.
  argocd_dir = "${path.module}/../../../charts/argocd"
  render = {
    for f in ["appproject.yaml", "repository-secret.yaml", "application.yaml"] : f => yamldecode(replace(
      replace(file("${local.argocd_dir}/${f}"), "/[a-z0-9-]+-docker\\.pkg\\.dev\\/PROJECT\\/charts/", var.charts_repository_url),
      "PROJECT", var.project_id,
    ))
  }
  project     = local.render["appproject.yaml"]
  repository  = local.render["repository-secret.yaml"]
  application = local.render["application.yaml"]

  # One Application per environment, named after its argocd.application in the
  # baton config: application.yaml's spec (chart, sync policy, retries) with the
  # environment's values file, which pins its release, and its own namespace.
  applications = {
    for e in var.environments : e.application => merge(local.application.spec, {
      source = merge(local.application.spec.source, {
        helm = merge(local.application.spec.source.helm, { valueFiles = [e.values_file] })
      })
      destination      = merge(local.application.spec.destination, { namespace = e.namespace })
      namespace        = var.argocd_namespace
      finalizers       = try(local.application.metadata.finalizers, [])
      additionalLabels = merge(try(local.application.metadata.labels, {}), { "baton/environment" = e.name })
    })
  }

  # The AppProject admits exactly the environments' namespaces.
  project_spec = merge(local.project.spec, {
    destinations = [for e in var.environments : { server = local.application.spec.destination.server, namespace = e.namespace }]
    namespace    = var.argocd_namespace
    finalizers   = try(local.project.metadata.finalizers, [])
  })

  refresher_name   = "argocd-oci-token-refresher"
  repo_secret_name = local.repository.metadata.name
  jenkins_ksas     = ["jenkins", "jenkins-agent"]
  jenkins_publish  = toset(var.jenkins_publish_topics)
}

resource "kubernetes_namespace_v1" "argocd" {
  metadata {
    name = var.argocd_namespace
  }
}

resource "kubernetes_namespace_v1" "jenkins" {
  metadata {
    name = var.jenkins_namespace
  }
}

# --- Argo CD -----------------------------------------------------------------

resource "helm_release" "argocd" {
  name       = "argocd"
  namespace  = kubernetes_namespace_v1.argocd.metadata[0].name
  repository = "https://argoproj.github.io/argo-helm"
  chart      = "argo-cd"
  version    = var.argocd_chart_version

  values = [yamlencode({
    configs = {
      cm = {
        # deployWatch's identity in Argo CD; create its token with
        # `argocd account generate-token --account baton` and store it in the
        # secret baton-argocd-auth-token (ARGOCD_AUTH_TOKEN).
        "accounts.baton" = "apiKey"
      }
      rbac = {
        "policy.csv" = join("\n", [
          "p, role:baton, applications, get, */*, allow",
          "p, role:baton, applications, sync, */*, allow",
          "g, baton, role:baton",
        ])
      }
    }
    server = {
      service = {
        type        = var.argocd_server_internal_lb ? "LoadBalancer" : "ClusterIP"
        annotations = { for k, v in { "networking.gke.io/load-balancer-type" = "Internal" } : k => v if var.argocd_server_internal_lb }
      }
    }
  })]
}

# The chart repository as Argo CD's classic OCI Helm repository: type helm,
# enableOCI, url without oci://. Workload Identity does not reach Argo CD's
# OCI Helm client (argo-cd #19731, #17279), so the password is a short-lived
# access token that the CronJob below renews; Terraform creates the Secret and
# then leaves its data to the CronJob.
resource "kubernetes_secret_v1" "chart_repository" {
  metadata {
    name      = local.repo_secret_name
    namespace = kubernetes_namespace_v1.argocd.metadata[0].name
    labels    = local.repository.metadata.labels
  }

  # charts/argocd/repository-secret.yaml (type helm, enableOCI, url, user
  # oauth2accesstoken), plus a placeholder password until the first refresh.
  data = merge(local.repository.stringData, { password = "set-by-${local.refresher_name}" })

  lifecycle {
    ignore_changes = [data["password"]]
  }
}

resource "google_service_account" "token_refresher" {
  project      = var.project_id
  account_id   = "baton-argocd-oci"
  display_name = "Argo CD OCI chart token refresher"
  description  = "Mints the Artifact Registry token that Argo CD uses to pull charts."
}

resource "google_service_account_iam_member" "token_refresher_wi" {
  service_account_id = google_service_account.token_refresher.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.workload_pool}[${var.argocd_namespace}/${local.refresher_name}]"
}

resource "kubernetes_service_account_v1" "token_refresher" {
  metadata {
    name      = local.refresher_name
    namespace = kubernetes_namespace_v1.argocd.metadata[0].name
    annotations = {
      "iam.gke.io/gcp-service-account" = google_service_account.token_refresher.email
    }
  }
}

# Read and patch one Secret, nothing else.
resource "kubernetes_role_v1" "token_refresher" {
  metadata {
    name      = local.refresher_name
    namespace = kubernetes_namespace_v1.argocd.metadata[0].name
  }

  rule {
    api_groups     = [""]
    resources      = ["secrets"]
    resource_names = [local.repo_secret_name]
    verbs          = ["get", "patch"]
  }
}

resource "kubernetes_role_binding_v1" "token_refresher" {
  metadata {
    name      = local.refresher_name
    namespace = kubernetes_namespace_v1.argocd.metadata[0].name
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role_v1.token_refresher.metadata[0].name
  }

  subject {
    kind      = "ServiceAccount"
    name      = kubernetes_service_account_v1.token_refresher.metadata[0].name
    namespace = kubernetes_namespace_v1.argocd.metadata[0].name
  }
}

resource "kubernetes_cron_job_v1" "token_refresher" {
  metadata {
    name      = local.refresher_name
    namespace = kubernetes_namespace_v1.argocd.metadata[0].name
  }

  spec {
    schedule                      = var.token_refresher_schedule
    concurrency_policy            = "Forbid"
    successful_jobs_history_limit = 1
    failed_jobs_history_limit     = 3

    job_template {
      metadata {}
      spec {
        backoff_limit = 3
        template {
          metadata {}
          spec {
            service_account_name = kubernetes_service_account_v1.token_refresher.metadata[0].name
            restart_policy       = "OnFailure"

            container {
              name    = "refresh"
              image   = var.token_refresher_image
              command = ["/bin/sh", "-c"]
              # The token is never printed: the API response (which echoes the
              # Secret) goes to /dev/null and only the status code is checked.
              args = [<<-EOT
                set -eu
                md=http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token
                token=$(curl -sf -H 'Metadata-Flavor: Google' "$md" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
                test -n "$token" || { echo "failed to get an access token from the metadata server"; exit 1; }
                sa=/var/run/secrets/kubernetes.io/serviceaccount
                code=$(curl -s -o /dev/null -w '%%{http_code}' -X PATCH \
                  --cacert "$sa/ca.crt" -H "Authorization: Bearer $(cat "$sa/token")" \
                  -H 'Content-Type: application/merge-patch+json' \
                  --data "{\"stringData\":{\"password\":\"$token\"}}" \
                  "https://kubernetes.default.svc/api/v1/namespaces/${var.argocd_namespace}/secrets/${local.repo_secret_name}")
                test "$code" = 200 || { echo "failed to patch secret ${local.repo_secret_name}: HTTP $code"; exit 1; }
                echo "renewed the token of ${local.repo_secret_name}"
              EOT
              ]

              security_context {
                run_as_non_root            = true
                read_only_root_filesystem  = true
                allow_privilege_escalation = false
                capabilities {
                  drop = ["ALL"]
                }
              }

              resources {
                requests = { cpu = "10m", memory = "16Mi" }
                limits   = { memory = "64Mi" }
              }
            }
          }
        }
      }
    }
  }
}

resource "helm_release" "argocd_apps" {
  count = var.create_application ? 1 : 0

  name       = "argocd-apps"
  namespace  = kubernetes_namespace_v1.argocd.metadata[0].name
  repository = "https://argoproj.github.io/argo-helm"
  chart      = "argocd-apps"
  version    = var.argocd_apps_chart_version

  # argocd-apps takes each object's spec plus a few metadata fields.
  values = [yamlencode({
    projects     = { (local.project.metadata.name) = local.project_spec }
    applications = local.applications
  })]

  depends_on = [helm_release.argocd, kubernetes_secret_v1.chart_repository]
}

# --- Jenkins -----------------------------------------------------------------

resource "google_service_account" "jenkins" {
  project      = var.project_id
  account_id   = "baton-jenkins"
  display_name = "Jenkins (Workload Identity)"
  description  = "Lets Jenkins follow a run's events on Pub/Sub and in the ledger, publish approvals and cancel runs."
}

# The baton CLI in Jenkins reads the run ledger (baton status, baton await) and writes it for
# what Jenkins decides (baton approve|reject, and baton cancel when a build is aborted).
resource "google_project_iam_member" "jenkins_ledger" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.jenkins.email}"
}

# baton cancel stops the run's builds: cloudbuild.builds.update is the permission of Cloud
# Build's cancel and of nothing else (roles/cloudbuild.builds.editor would also let Jenkins
# start builds as any service account it may act as).
resource "google_project_iam_custom_role" "jenkins_cancel_builds" {
  project     = var.project_id
  role_id     = "batonJenkinsCancelBuilds"
  title       = "baton Jenkins build cancel"
  description = "Cancel Cloud Build builds (baton cancel, when a Jenkins build is aborted)."
  permissions = ["cloudbuild.builds.update"]
}

resource "google_project_iam_member" "jenkins_cancel_builds" {
  project = var.project_id
  role    = google_project_iam_custom_role.jenkins_cancel_builds.id
  member  = "serviceAccount:${google_service_account.jenkins.email}"
}

resource "google_service_account_iam_member" "jenkins_wi" {
  for_each = toset(local.jenkins_ksas)

  service_account_id = google_service_account.jenkins.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.workload_pool}[${var.jenkins_namespace}/${each.value}]"
}

resource "google_pubsub_topic_iam_member" "jenkins_publisher" {
  for_each = local.jenkins_publish

  project = var.project_id
  topic   = var.topic_ids[each.value]
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.jenkins.email}"
}

# Subscribing needs attachSubscription on the topic ...
resource "google_pubsub_topic_iam_member" "jenkins_subscriber" {
  for_each = var.topic_ids

  project = var.project_id
  topic   = each.value
  role    = "roles/pubsub.subscriber"
  member  = "serviceAccount:${google_service_account.jenkins.email}"
}

# ... and, because each Jenkins run makes its own short-lived subscription
# filtered on attributes.run_id (so parallel runs never steal each other's
# messages), creating and deleting subscriptions in the project.
resource "google_project_iam_custom_role" "jenkins_subscriptions" {
  project     = var.project_id
  role_id     = "batonJenkinsSubscriptions"
  title       = "baton Jenkins per-run subscriptions"
  description = "Create, read, pull from and delete Pub/Sub subscriptions."
  permissions = [
    "pubsub.subscriptions.consume",
    "pubsub.subscriptions.create",
    "pubsub.subscriptions.delete",
    "pubsub.subscriptions.get",
  ]
}

resource "google_project_iam_member" "jenkins_subscriptions" {
  project = var.project_id
  role    = google_project_iam_custom_role.jenkins_subscriptions.id
  member  = "serviceAccount:${google_service_account.jenkins.email}"
}

resource "helm_release" "jenkins" {
  name       = "jenkins"
  namespace  = kubernetes_namespace_v1.jenkins.metadata[0].name
  repository = "https://charts.jenkins.io"
  chart      = "jenkins"
  version    = var.jenkins_chart_version

  values = [yamlencode({
    controller = {
      serviceType = "ClusterIP"
    }
    serviceAccount = {
      create      = true
      name        = local.jenkins_ksas[0]
      annotations = { "iam.gke.io/gcp-service-account" = google_service_account.jenkins.email }
    }
    # Pipelines run on agent pods, so the agents carry the identity too.
    serviceAccountAgent = {
      create      = true
      name        = local.jenkins_ksas[1]
      annotations = { "iam.gke.io/gcp-service-account" = google_service_account.jenkins.email }
    }
    agent = {
      serviceAccount = local.jenkins_ksas[1]
    }
    persistence = {
      enabled = true
      size    = "10Gi"
    }
  })]
}
