# Shared by every daemon of the fleet, in every environment.

# Each environment lives in its own AWS account.
variable "accounts" {
  type        = map(string)
  description = "AWS account id per environment"
  default = {
    dev  = "111122223333"
    prod = "444455556666"
  }
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

locals {
  account = var.accounts[env]
}

environment "dev" {}

environment "prod" {
  # Production reserves more for every daemon; a daemon's own value still wins.
  defaults {
    container {
      memory_reservation = 256
    }
  }
}

defaults {
  execution_role_arn = "arn:aws:iam::${local.account}:role/ecs-daemon-execution"
  tags = {
    team        = "observability"
    environment = env
  }
  container {
    memory_reservation = 128
    log_configuration {
      log_driver = "awslogs"
      options = {
        "awslogs-group"         = "/ecs/daemons/${env}"
        "awslogs-region"        = var.region
        "awslogs-stream-prefix" = "daemon"
      }
    }
  }
}

# Agents that read the host's kernel and cgroup state.
group "host-metrics" {
  defaults {
    volumes = {
      proc   = "/proc"
      cgroup = "/sys/fs/cgroup"
    }
    pid_mode = "shared"
  }
}
