"""Synthetic programs for `make bench`: N resources of the kinds our stacks register, per cloud.

Why synthetic: the stacks top out at ~300 resources; whether the engine and packs stay linear is only
visible at thousands. Each block registers resources the packs have rules for (so the packs work as
on a real stack) and wires them with Outputs (ids, names) the way components do.
"""

from __future__ import annotations

from typing import Callable

AZURE_POOLS = 50  # the Azure program carries this many AKS node pools (the heaviest azure-native resource)


def aws_program(size: int) -> Callable[[], None]:
    def program() -> None:
        import pulumi_aws as aws
        import pulumi_kubernetes as k8s

        key = aws.kms.Key("bench-key", enable_key_rotation=True)
        count = 1
        while count + 5 <= size:
            i = count // 5
            bucket = aws.s3.Bucket(f"bucket-{i}", bucket=f"bench-bucket-{i}")
            aws.s3.BucketServerSideEncryptionConfiguration(
                f"bucket-{i}-sse", bucket=bucket.id,
                rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                                    "kms_master_key_id": key.arn}}])
            aws.s3.BucketPublicAccessBlock(f"bucket-{i}-pab", bucket=bucket.id, block_public_acls=True,
                                           block_public_policy=True, ignore_public_acls=True,
                                           restrict_public_buckets=True)
            aws.sqs.Queue(f"queue-{i}", kms_master_key_id=key.arn)
            k8s.core.v1.ConfigMap(f"config-{i}", metadata={"name": f"config-{i}", "namespace": "bench"},
                                  data={"bucket": bucket.bucket})
            count += 5
        while count < size:
            aws.sqs.Queue(f"queue-extra-{count}", kms_master_key_id=key.arn)
            count += 1
    return program


def azure_program(size: int) -> Callable[[], None]:
    def program() -> None:
        import pulumi_azure_native as azure
        import pulumi_kubernetes as k8s

        group = azure.resources.ResourceGroup("bench-rg")
        cluster = azure.containerservice.ManagedCluster(
            "bench-aks", resource_group_name=group.name, dns_prefix="bench",
            agent_pool_profiles=[{"name": "system", "mode": "System", "count": 1, "vm_size": "Standard_D4s_v5"}])
        count = 2
        for i in range(min(AZURE_POOLS, size - count)):
            azure.containerservice.AgentPool(
                f"pool-{i}", agent_pool_name=f"pool{i}", resource_group_name=group.name, resource_name_=cluster.name,
                vm_size="Standard_D8s_v5", mode="User", count=0, enable_auto_scaling=True, min_count=0, max_count=4,
                scale_set_priority="Spot", scale_set_eviction_policy="Delete", spot_max_price=-1)
            count += 1
        while count + 3 <= size:
            i = count // 3
            account = azure.storage.StorageAccount(
                f"account-{i}", resource_group_name=group.name, kind="StorageV2", sku={"name": "Standard_ZRS"},
                minimum_tls_version="TLS1_2", allow_blob_public_access=False, enable_https_traffic_only=True)
            azure.storage.BlobContainer(f"container-{i}", account_name=account.name,
                                        resource_group_name=group.name, public_access="None")
            k8s.core.v1.ConfigMap(f"config-{i}", metadata={"name": f"config-{i}", "namespace": "bench"},
                                  data={"account": account.name})
            count += 3
        while count < size:
            k8s.core.v1.ConfigMap(f"config-extra-{count}", metadata={"name": f"extra-{count}", "namespace": "bench"})
            count += 1
    return program


PROGRAMS = {"aws": aws_program, "azure": azure_program}
CONFIG = {"aws": {"mlops:cloud": "aws", "mlops:region": "eu-west-1", "aws:region": "eu-west-1"},
          "azure": {"mlops:cloud": "azure", "mlops:region": "westeurope", "azure-native:location": "westeurope"}}
