output "bucket" {
  description = "Name of the state bucket; use it in envs/*/backend.hcl."
  value       = google_storage_bucket.main.name
}
