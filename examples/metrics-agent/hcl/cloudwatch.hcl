daemon "cloudwatch-agent" {
  group         = "host-metrics"
  task_role_arn = "arn:aws:iam::${local.account}:role/cloudwatch-agent"

  container "cloudwatch-agent" {
    image  = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300049.1b929"
    memory = 512
    secrets = {
      CW_CONFIG_CONTENT = "arn:aws:ssm:${var.region}:${local.account}:parameter/ecs-cwagent-daemon-${env}"
    }
    mount_point "proc" {
      container_path = "/rootfs/proc"
      read_only      = true
    }
    mount_point "cgroup" {
      container_path = "/sys/fs/cgroup"
      read_only      = true
    }
    mount_point "dev" {
      container_path = "/rootfs/dev"
      read_only      = true
    }
  }

  volumes = { dev = "/dev" }
}
