"""A store encrypted with a customer-managed key is created after the grant that lets its identity use the key.

Azure checks key access when it creates a CMK store (storage account, PostgreSQL flexible server,
container registry, Managed Redis, disk encryption set): the store's user-assigned identity must
already hold a Key Vault crypto role. The role assignment is a separate resource, and nothing ties
it to the store unless the program says so, so without a dependency the two are created in
parallel and the store fails on a fresh deploy (and works on the retry, which hides the race).

The identity a store encrypts with is found through the encryption property's dependencies (what
the CLI sends) or its ARM id; the grant is a role assignment whose ``principalId`` comes from that
identity, with a role that can wrap and unwrap keys. System-assigned identities cannot be granted
before the store exists and are out of scope (Azure's documented two-step setup applies to them).
"""
from mlops_policy import ISO27001, SOC2, StackRule, cannot_check, created_after, get, is_unknown, violation

from .._azure import azure_types, lower, of_types, trailing_guid

IDENTITY_TYPES = azure_types("azure-native:managedidentity:UserAssignedIdentity")
ASSIGNMENT_TYPES = azure_types("azure-native:authorization:RoleAssignment")
# Built-in roles whose data actions include wrapKey/unwrapKey (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
CRYPTO_ROLES = {
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": "Key Vault Crypto Service Encryption User",
    "12338af0-0e69-4776-bea7-57ae8d297424": "Key Vault Crypto User",
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": "Key Vault Crypto Officer",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
}


def _assigned(identity_block):
    """User-assigned identity ids of an ``identity`` block (a list, or a map keyed by id)."""
    assigned = get(identity_block, "userAssignedIdentities")
    if isinstance(assigned, dict):
        return list(assigned)
    return list(assigned) if isinstance(assigned, list) else []


def _storage(props):
    encryption = props.get("encryption")
    if lower(get(encryption, "keySource")) == "microsoft.keyvault":
        return "encryption", [get(encryption, "encryptionIdentity.encryptionUserAssignedIdentity")]
    return None


def _postgres(props):
    encryption = props.get("dataEncryption")
    if lower(get(encryption, "type")) == "azurekeyvault":
        ids = [get(encryption, "primaryUserAssignedIdentityId"), get(encryption, "geoBackupUserAssignedIdentityId")]
        return "dataEncryption", [i for i in ids if i is not None]
    return None


def _registry(props):
    if lower(get(props.get("encryption"), "status")) == "enabled":
        return "identity", _assigned(props.get("identity"))
    return None


def _redis(props):
    cmk = get(props.get("encryption"), "customerManagedKeyEncryption")
    if get(cmk, "keyEncryptionKeyUrl") is not None:
        return "encryption", [get(cmk, "keyEncryptionKeyIdentity.userAssignedIdentityResourceId")]
    return None


def _disk_encryption_set(props):
    if get(props.get("activeKey"), "keyUrl") is not None:
        return "identity", _assigned(props.get("identity"))
    return None


STORES = {
    "azure-native:storage:StorageAccount": _storage,
    "azure-native:dbforpostgresql:Server": _postgres,
    "azure-native:containerregistry:Registry": _registry,
    "azure-native:redisenterprise:RedisEnterprise": _redis,
    "azure-native:compute:DiskEncryptionSet": _disk_encryption_set,
}


def _identities(store, prop, values, identities):
    """The program's identities the store encrypts with; None when that cannot be told during preview."""
    by_dependency = [i for i in identities if any(d.urn == i.urn for d in store.property_dependencies.get(prop, []))]
    found, open_values = [], False
    for value in values:
        if not isinstance(value, str) or is_unknown(value):
            open_values = True
            continue
        named = value.rstrip("/").rsplit("/", 1)[-1].lower()
        found += [i for i in identities if str(i.props.get("resourceName", "")).lower() == named]
    if open_values and not by_dependency:
        return None
    return list({i.urn: i for i in found + by_dependency}.values())


def _grants(identity, assignments):
    """Role assignments to ``identity`` with a crypto role (or a role unknown until the update)."""
    grants = []
    for assignment in assignments:
        sources = assignment.property_dependencies.get("principalId") or assignment.dependencies
        if not any(s.urn == identity.urn for s in sources):
            continue
        role = assignment.props.get("roleDefinitionId")
        if is_unknown(role) or trailing_guid(str(role or "")) in CRYPTO_ROLES:
            grants.append(assignment)
    return grants


def check(stack, config):
    identities = of_types(stack.resources, IDENTITY_TYPES)
    assignments = of_types(stack.resources, ASSIGNMENT_TYPES)
    for token, encryption in STORES.items():
        for store in of_types(stack.resources, azure_types(token)):
            found = encryption(store.props)
            if found is None:
                continue
            prop, values = found
            used = _identities(store, prop, values, identities)
            if used is None:
                yield cannot_check(f"which identity {prop} encrypts with", store)
                continue
            for identity in used:
                grants = _grants(identity, assignments)
                if not grants:
                    yield violation(f"{store.name} encrypts with a customer-managed key through identity {identity.name}, "
                                    "but no role assignment in the program gives that identity a Key Vault crypto role "
                                    "(e.g. Key Vault Crypto Service Encryption User on the key).", store)
                elif not any(created_after(store, g) for g in grants):
                    yield violation(f"{store.name} does not depend on {', '.join(g.name for g in grants)}, the grant that "
                                    f"lets identity {identity.name} use its key: Azure checks key access when it creates "
                                    "the store, so a first deploy races the grant and fails.", store)


RULE = StackRule(
    name="azure-authorization-cmk-store-require-key-grant-first",
    description="A store encrypted with a customer-managed key depends, directly or through its parents, on the role "
                "assignment that lets its identity use the key.",
    severity="high",
    remediation="Pass the role assignment to the store's depends_on (components.storage.azure.CustomerManagedKey.grant "
                "does this for the platform's stores).",
    frameworks=SOC2("CC8.1") + ISO27001("A.8.32"),
    enforcement="mandatory",
    tags=("encryption", "deployability"),
    check=check,
)
