daemon "datadog-agent" {
  group = "host-metrics"
  # The capabilities Datadog documents for its agent: SYS_ADMIN for the cgroup and
  # container checks, SYS_PTRACE with the host's PID namespace for process monitoring.
  ignore_warnings = ["dangerous-capability", "host-namespaces"]
  task_role_arn   = "arn:aws:iam::${local.account}:role/datadog-agent"

  container "datadog-agent" {
    image  = "public.ecr.aws/datadog/agent:7.58.2"
    memory = 512
    environment = {
      DD_SITE                        = "datadoghq.eu"
      DD_ENV                         = env
      DD_APM_ENABLED                 = true
      DD_APM_NON_LOCAL_TRAFFIC       = true
      DD_DOGSTATSD_NON_LOCAL_TRAFFIC = true
      DD_PROCESS_AGENT_ENABLED       = true
      DD_CONTAINER_EXCLUDE           = "name:datadog-agent"
      DD_CHECKS_TAG_CARDINALITY      = "orchestrator"
      DD_DOGSTATSD_TAG_CARDINALITY   = "orchestrator"
    }
    secrets = {
      DD_API_KEY = "arn:aws:secretsmanager:${var.region}:${local.account}:secret:datadog/api-key"
    }
    mount_point "docker-sock" {
      container_path = "/var/run/docker.sock"
      read_only      = true
    }
    mount_point "proc" {
      container_path = "/host/proc"
      read_only      = true
    }
    mount_point "cgroup" {
      container_path = "/host/sys/fs/cgroup"
      read_only      = true
    }
    health_check {
      command      = ["CMD-SHELL", "agent health"]
      interval     = 30
      timeout      = 5
      retries      = 3
      start_period = 15
    }
    linux_parameters {
      capabilities {
        add = ["SYS_ADMIN", "SYS_RESOURCE", "SYS_PTRACE", "NET_ADMIN", "NET_BROADCAST", "NET_RAW", "IPC_LOCK", "CHOWN"]
      }
    }
    ulimits      = { nofile = 65536 }
    stop_timeout = 30
  }

  volume "docker-sock" {
    host {
      source_path = "/var/run/docker.sock"
    }
  }
}

environment "prod" {
  # Production pins the agent a release behind dev and gives it more room.
  daemon "datadog-agent" {
    container "datadog-agent" {
      image  = "public.ecr.aws/datadog/agent:7.57.2"
      memory = 1024
    }
  }
}
