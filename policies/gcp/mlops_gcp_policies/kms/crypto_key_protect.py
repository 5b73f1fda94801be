"""Cloud KMS keys are protected from deletion by the program (Pulumi ``protect``).

A CryptoKey cannot be deleted on GCP, but destroying it in Pulumi destroys all its versions (after
``destroyScheduledDuration``), and every object, database and disk encrypted with them becomes
unreadable for good. ``protect`` makes the engine refuse that destroy (and any replacement): the
equivalent of the Terraform ``prevent_destroy`` lifecycle that Checkov asks for.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule


def check(resource, config):
    if not resource.protect:
        yield ("the key is not protected (Pulumi protect): a destroy or replacement destroys every key version and "
               "makes all data encrypted with it unreadable.")


RULE = ResourceRule(
    name="gcp-kms-cryptokey-enable-deletion-protection",
    description="Cloud KMS keys are protected from destroy by the program (Pulumi protect).",
    severity="high",
    remediation="Create keys with opts=pulumi.ResourceOptions(protect=True) (the platform does when "
                "mlops:deletionProtection is true) and keep destroy_scheduled_duration at 30 days.",
    frameworks=SOC2("A1.2", "CC6.1") + ISO27001("A.8.24", "A.8.13"),
    # Advisory: dev stacks are destroyable by design (deletionProtection false); prod is forced by the config
    # model (mlops:deletionProtection must be true in prod), which protects every key.
    enforcement="advisory",
    tags=("kms", "encryption"),
    resource_types=("gcp:kms/cryptoKey:CryptoKey",),
    check=check,
)
