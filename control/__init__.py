"""The top layer: the `emops` command assembled from every part's subcommand, and the
supervisor that runs the monitoring stack (Prometheus, Alertmanager, the collectors,
the alert sink). Nothing in the project imports it; see docs/architecture.md."""
