"""Pod security rules for every workload kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ...)."""
