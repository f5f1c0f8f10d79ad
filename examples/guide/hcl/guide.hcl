# The four daemons of the ECS developer guide's page on daemon task definitions.

# The busybox daemon of the guide's aws CLI example. The guide's images float on :latest;
# a real fleet pins a tag or a digest.
daemon "my-daemon-task" {
  ignore_warnings = ["floating-image"]
  container "daemon-container" {
    image              = "public.ecr.aws/docker/library/busybox:latest"
    essential          = true
    command            = ["sh", "-c", "while true; do echo 'Daemon running'; sleep 30; done"]
    memory_reservation = 512
  }
}

# Full privileged mode: every Linux capability, as the guide shows it.
daemon "security-daemon" {
  ignore_warnings = ["floating-image", "privileged", "writable-root"]
  container "security-daemon" {
    image              = "my-security-agent:latest"
    privileged         = true
    memory_reservation = 256
  }
}

# Individual capabilities, following least privilege.
daemon "monitoring-daemon" {
  ignore_warnings = ["floating-image"]
  container "monitoring-daemon" {
    image              = "my-monitoring-agent:latest"
    memory_reservation = 256
    linux_parameters {
      capabilities {
        add = ["NET_ADMIN", "SYS_PTRACE"]
      }
    }
  }
}

# A log collector reading the instance's /var/log through a bind mount.
daemon "log-collector" {
  ignore_warnings = ["floating-image"]
  container "log-collector" {
    image              = "fluent/fluentd:latest"
    memory_reservation = 256
    mount_point "var-log" {
      container_path = "/var/log"
    }
  }
  volume "var-log" {
    host {
      source_path = "/var/log"
    }
  }
}
