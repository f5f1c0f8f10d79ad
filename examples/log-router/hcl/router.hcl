# A Fluent Bit FireLens log router that ships the instance's own logs to CloudWatch Logs.

locals {
  region = "us-east-1"
}

environment "dev" {}

environment "prod" {
  daemon "fluent-bit" {
    cpu    = "512"
    memory = "1024"
    container "log-router" {
      image              = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4"
      memory_reservation = 256
    }
  }
}

defaults {
  execution_role_arn = "arn:aws:iam::123456789012:role/ecs-daemon-execution"
  tags               = { "cost-center" = "platform-logging" }
}

daemon "fluent-bit" {
  task_role_arn = "arn:aws:iam::123456789012:role/fluent-bit-${env}"
  cpu           = "256"
  memory        = "512"

  # The FireLens router itself logs to CloudWatch through awslogs.
  container "log-router" {
    image              = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
    essential          = true
    memory_reservation = 128
    user               = "0"
    firelens_configuration {
      type = "fluentbit"
      options = {
        "enable-ecs-log-metadata" = "true"
        "config-file-type"        = "file"
        "config-file-value"       = "/fluent-bit/configs/parse-json.conf"
      }
    }
    log_configuration {
      log_driver = "awslogs"
      options = {
        "awslogs-group"         = "/ecs/firelens/${env}"
        "awslogs-region"        = local.region
        "awslogs-stream-prefix" = "router"
      }
    }
    health_check {
      command      = ["CMD-SHELL", "curl -sf http://127.0.0.1:2020/api/v1/health || exit 1"]
      interval     = 10
      timeout      = 5
      retries      = 3
      start_period = 10
    }
    mount_point "var-log" {
      container_path = "/var/log/host"
      read_only      = true
    }
    ulimit "nofile" {
      soft_limit = 65536
      hard_limit = 65536
    }
  }

  # Tails the host's journal export and sends it through the router.
  container "host-tailer" {
    image              = "public.ecr.aws/docker/library/busybox:1.36"
    essential          = false
    memory_reservation = 32
    command            = ["sh", "-c", "tail -F /var/log/host/messages"]
    depends_on         = { "log-router" = "HEALTHY" }
    mount_point "var-log" {
      container_path = "/var/log/host"
      read_only      = true
    }
    log_configuration {
      log_driver = "awsfirelens"
      options = {
        Name              = "cloudwatch_logs"
        region            = local.region
        log_group_name    = "/ecs/host-logs/${env}"
        log_stream_prefix = "host-"
        auto_create_group = "true"
      }
    }
    restart_policy {
      enabled                = true
      restart_attempt_period = 60
    }
  }

  volumes = { "var-log" = "/var/log" }
}
