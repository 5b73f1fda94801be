"""A store encrypted with a Cloud KMS key is created after the grant that lets its service agent use the key.

Google checks, when it creates a CMEK bucket, Cloud SQL instance, GKE cluster, Bigtable instance,
Artifact Registry repository (...), that the service's agent holds
``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on the key. The grant is a separate IAM resource on
the key; without a dependency on it the store is created in parallel and a fresh deploy fails.

The store's key is found through the key property's dependencies (what the CLI sends) or its
resource name; a grant is a ``CryptoKeyIAMMember``/``Binding`` on that key with the
encrypter/decrypter role whose member, when known, is the service agent of the store's service.
Keys created outside the program are out of scope (their grants are too).
"""
from mlops_policy import ISO27001, SOC2, StackRule, cannot_check, correlate, created_after, is_unknown, violation

from .._gcp import key_references, names_key

CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
GRANT_TYPES = ("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding")
ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# type -> [(top-level property, path with "[]" over a list of blocks, the service agent's domain)]
STORES = {
    "gcp:storage/bucket:Bucket": [("encryption", "encryption.defaultKmsKeyName", "gs-project-accounts.iam.gserviceaccount.com")],
    "gcp:sql/databaseInstance:DatabaseInstance": [("encryptionKeyName", "encryptionKeyName", "gcp-sa-cloud-sql.iam.gserviceaccount.com")],
    "gcp:container/cluster:Cluster": [
        ("databaseEncryption", "databaseEncryption.keyName", "container-engine-robot.iam.gserviceaccount.com"),
        ("nodeConfig", "nodeConfig.bootDiskKmsKey", "compute-system.iam.gserviceaccount.com")],
    "gcp:container/nodePool:NodePool": [("nodeConfig", "nodeConfig.bootDiskKmsKey", "compute-system.iam.gserviceaccount.com")],
    "gcp:artifactregistry/repository:Repository": [("kmsKeyName", "kmsKeyName", "gcp-sa-artifactregistry.iam.gserviceaccount.com")],
    "gcp:bigtable/instance:Instance": [("clusters", "clusters[].kmsKeyName", "gcp-sa-bigtable.iam.gserviceaccount.com")],
    "gcp:pubsub/topic:Topic": [("kmsKeyName", "kmsKeyName", "gcp-sa-pubsub.iam.gserviceaccount.com")],
    "gcp:redis/instance:Instance": [("customerManagedKey", "customerManagedKey", "cloud-redis.iam.gserviceaccount.com")],
}


def _members(grant):
    members = grant.props.get("members") if "members" in grant.props else [grant.props.get("member")]
    return members if isinstance(members, list) else [members]


def _grants_for(key, agent, grants):
    """Encrypter/decrypter grants on ``key`` to the service agent (or to members unknown until the update)."""
    found = []
    for grant in grants:
        if not correlate(grant, "cryptoKeyId", [key], names_key).matches:
            continue
        role = grant.props.get("role")
        if not is_unknown(role) and role != ROLE:
            continue
        members = _members(grant)
        if any(is_unknown(m) or (isinstance(m, str) and m.endswith("@" + agent)) for m in members):
            found.append(grant)
    return found


def check(stack, config):
    keys = stack.of_type(CRYPTO_KEY)
    grants = stack.of_type(*GRANT_TYPES)
    seen = set()
    for resource in stack.resources:
        for prop, dotted, agent in STORES.get(resource.type, ()):
            for value in key_references(resource, dotted):
                matches, decided = correlate(resource, prop, keys, names_key, value=value)
                if not decided:
                    yield cannot_check(f"which key {dotted} names", resource)
                for key in [k for k in matches if (resource.urn, k.urn) not in seen]:
                    seen.add((resource.urn, key.urn))
                    candidates = _grants_for(key, agent, grants)
                    if not candidates:
                        yield violation(f"{resource.name} encrypts with key {key.name}, but no IAM grant in the program "
                                        f"gives the service agent (*@{agent}) {ROLE} on it.", resource)
                    elif not any(created_after(resource, g) for g in candidates):
                        yield violation(f"{resource.name} does not depend on {', '.join(g.name for g in candidates)}, the "
                                        f"grant that lets its service agent use key {key.name}: Google checks the key "
                                        "when it creates the store, so a first deploy races the grant and fails.", resource)


RULE = StackRule(
    name="gcp-kms-cmek-store-require-key-grant-first",
    description="A store encrypted with a Cloud KMS key depends, directly or through its parents, on the IAM grant "
                "that lets its service agent use the key.",
    severity="high",
    remediation="Pass the key's CryptoKeyIAMMember for the service agent to the store's depends_on.",
    frameworks=SOC2("CC8.1") + ISO27001("A.8.32"),
    enforcement="mandatory",
    tags=("kms", "encryption", "deployability"),
    check=check,
)
