"""The reference runner daemon: RunnerService with workloads as local processes."""
