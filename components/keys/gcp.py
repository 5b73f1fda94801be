"""Cloud KMS keys: a key ring per region, one CMEK crypto key per data domain, twins in the DR region.

How services get to use a key: on GCP the data services encrypt with CMEK as their Google-managed
*service agent* (``service-<project number>@<agent domain>``), not as the caller. Each agent gets
``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on exactly the keys of the domains whose data it
stores (``DOMAIN_AGENTS``), as a member grant on the key itself: no project-wide KMS role, and a
store whose agent lacks the grant fails at creation instead of falling back to Google keys.
Consumers depend on ``grants[domain]`` so a store is never created before its agent may use the key.

Keys rotate every 90 days (the policy maximum). Destroying a key only schedules its versions for
destruction (``destroy_scheduled_duration``: 7 days in dev, 30 elsewhere); key rings and keys
cannot be deleted on GCP at all, so their names are fixed per stack and reused on re-create.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp

from components.keys import DOMAINS, KeysArgs

ROTATION_PERIOD = f"{90 * 24 * 3600}s"  # 90 days
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

# Google service agents (service-<project number>@<domain>), from "Service agents" in the IAM docs.
SERVICE_AGENT_DOMAINS: dict[str, str] = {
    "cloud-sql": "gcp-sa-cloud-sql.iam.gserviceaccount.com",
    "storage": "gs-project-accounts.iam.gserviceaccount.com",
    "artifact-registry": "gcp-sa-artifactregistry.iam.gserviceaccount.com",
    "gke": "container-engine-robot.iam.gserviceaccount.com",
    "compute": "compute-system.iam.gserviceaccount.com",
}

# Agents Google creates only on first use of their API; a ServiceIdentity makes them exist before the
# grant (the GKE, Compute and Cloud Storage agents exist once their API is enabled).
LAZY_AGENT_SERVICES: dict[str, str] = {
    "cloud-sql": "sqladmin.googleapis.com",
    "artifact-registry": "artifactregistry.googleapis.com",
}

# Which agents encrypt each domain's data (see components.keys for the data per domain).
DOMAIN_AGENTS: dict[str, tuple[str, ...]] = {
    "artifacts": ("storage", "artifact-registry"),  # artifact bucket, container images
    "database": ("cloud-sql",),  # tracking database
    "cluster": ("gke", "compute"),  # Secrets (application-layer encryption), node boot and persistent disks
    # Feast bucket; the Bigtable online store grants its own agent on the key in each of its clusters'
    # regions (components/features/gcp.py), DR region included.
    "features": ("storage",),
    # No GCP store uses it yet: alerts go to Cloud Monitoring email channels, which hold no data to encrypt.
    # The key exists so every cloud offers the same domains; a future Pub/Sub alert topic grants its agent here.
    "notifications": (),
}


def service_agent(agent: str, project_number: pulumi.Input[str]) -> pulumi.Output[str]:
    """The email of one Google service agent of the project."""
    return pulumi.Output.concat("service-", project_number, "@", SERVICE_AGENT_DOMAINS[agent])


@dataclass(frozen=True)
class GcpKeysInputs:
    """GCP-only inputs: where the key rings live and whose service agents use the keys."""

    project: pulumi.Input[str]
    project_number: pulumi.Input[str]  # service agents are named after the project NUMBER
    region: str
    dr_region: Optional[str] = None
    dr_provider: Optional[gcp.Provider] = None
    apis: Sequence[pulumi.Resource] = ()  # the project's enabled APIs (gcp.projects.Service) the agents need


class Keys(pulumi.ComponentResource):
    """The platform's CMEKs on GCP (outputs: see components.keys; ``key_arns`` hold key ids).

    GCP extras: ``key_ring`` / ``dr_key_ring``, ``service_agents`` (agent -> email) and
    ``grants[domain]`` / ``dr_grants[domain]`` (the IAM members to depend on).
    """

    def __init__(self, name: str, args: KeysArgs, gcp_inputs: GcpKeysInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:keys:Keys", name, None, opts)
        self.service_agents = {agent: service_agent(agent, gcp_inputs.project_number) for agent in SERVICE_AGENT_DOMAINS}
        self.agent_identities = {
            agent: gcp.projects.ServiceIdentity(
                f"{name}-{agent}-agent", project=gcp_inputs.project, service=api,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(gcp_inputs.apis)))
            for agent, api in LAZY_AGENT_SERVICES.items()}
        self.key_ring, self.keys, self.grants = self._region_keys(
            name, args, gcp_inputs.project, gcp_inputs.region, pulumi.ResourceOptions(parent=self))
        self.key_arns = {domain: key.id for domain, key in self.keys.items()}

        self.dr_key_ring: Optional[gcp.kms.KeyRing] = None
        self.dr_replicas: dict[str, gcp.kms.CryptoKey] = {}
        self.dr_grants: dict[str, list[gcp.kms.CryptoKeyIAMMember]] = {}
        if args.dr_enabled:
            if not gcp_inputs.dr_region or gcp_inputs.dr_provider is None:
                raise ValueError("keys: DR is enabled but no DR region/provider was given")
            self.dr_key_ring, self.dr_replicas, self.dr_grants = self._region_keys(
                f"{name}-dr", args, gcp_inputs.project, gcp_inputs.dr_region,
                pulumi.ResourceOptions(parent=self, provider=gcp_inputs.dr_provider))
        self.dr_key_arns = {domain: key.id for domain, key in self.dr_replicas.items()}

        for domain in DOMAINS:
            setattr(self, domain, self.keys[domain])
        self.register_outputs({"key_arns": self.key_arns, "dr_key_arns": self.dr_key_arns})

    def _region_keys(self, name: str, args: KeysArgs, project: pulumi.Input[str], location: str,
                     opts: pulumi.ResourceOptions):
        """One key ring in `location` with a key per domain, each granted to its domain's agents."""
        protected = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=args.protect))
        ring = gcp.kms.KeyRing(f"{name}-ring", name=args.name, project=project, location=location, opts=protected)
        keys: dict[str, gcp.kms.CryptoKey] = {}
        grants: dict[str, list[gcp.kms.CryptoKeyIAMMember]] = {}
        for domain in DOMAINS:
            key = gcp.kms.CryptoKey(
                f"{name}-{domain}", name=domain, key_ring=ring.id, purpose="ENCRYPT_DECRYPT",
                rotation_period=ROTATION_PERIOD, destroy_scheduled_duration=f"{args.deletion_window_days * 24 * 3600}s",
                labels={**args.tags, "domain": domain}, opts=protected)
            keys[domain] = key
            grants[domain] = [
                gcp.kms.CryptoKeyIAMMember(
                    f"{name}-{domain}-{agent}", crypto_key_id=key.id, role=ENCRYPTER_DECRYPTER,
                    member=pulumi.Output.concat("serviceAccount:", self.service_agents[agent]),
                    opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                        depends_on=[self.agent_identities[agent]] if agent in self.agent_identities else [])))
                for agent in DOMAIN_AGENTS[domain]]
        return ring, keys, grants
