"""Key Vault keys must rotate automatically (a rotation policy with a "rotate" lifetime action).

A stack rule so that one finding per key also says what the key protects: the resources of the
stack that depend on the key or name its URI (storage accounts, encryption scopes, PostgreSQL
servers, Azure ML workspaces, disk encryption sets, AKS KMS). Data stores pick up a rotated key
only when they reference it without a version (e.g. no ``keyVersion`` on a storage account).
"""
import re

from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, get, is_unknown, violation

from .._azure import azure_types, lower, of_types

KEY_TYPES = azure_types("azure-native:keyvault:Key")
DEFAULT_MAX_DAYS = 365
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
# Where data stores name a Key Vault key (a key URI, possibly with a version after it).
KEY_URI_PATHS = ("encryption.keyVaultProperties.keyIdentifier", "keyVaultProperties.keyUri",
                 "dataEncryption.primaryKeyURI", "activeKey.keyUrl", "securityProfile.azureKeyVaultKms.keyId")


def duration_days(value: str):
    """Days in an ISO 8601 duration as Key Vault writes them ("P90D", "P1Y", "P3M"); None when malformed."""
    match = _DURATION.match(value.strip().upper())
    if not match or not any(match.groups()):
        return None
    years, months, weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return years * 365 + months * 30 + weeks * 7 + days + (hours * 3600 + minutes * 60 + seconds) / 86400


def rotation_problem(props, max_days):
    """(what is unknown, None) / (None, why the key fails) / (None, None)."""
    policy = get(props, "properties.rotationPolicy")
    if is_unknown(policy):
        return "properties.rotationPolicy", None
    actions = get(policy, "lifetimeActions") or []
    if is_unknown(actions):
        return "properties.rotationPolicy.lifetimeActions", None
    periods = []
    for action in actions:
        kind = get(action, "action.type")
        if is_unknown(kind):
            return "properties.rotationPolicy.lifetimeActions[].action.type", None
        if lower(kind) != "rotate":
            continue
        after_create, before_expiry = get(action, "trigger.timeAfterCreate"), get(action, "trigger.timeBeforeExpiry")
        expiry = get(policy, "attributes.expiryTime")
        if any(is_unknown(v) for v in (after_create, before_expiry, expiry)):
            return "the rotation policy's trigger", None
        if after_create:
            periods.append(duration_days(str(after_create)))
        elif before_expiry and expiry:
            total, before = duration_days(str(expiry)), duration_days(str(before_expiry))
            periods.append(None if total is None or before is None else total - before)
        else:
            periods.append(None)
    if not periods:
        return None, "has no rotation policy with a 'rotate' action: the key material never rotates."
    known = [p for p in periods if p is not None]
    if not known:
        return None, "has a 'rotate' action whose trigger is not an ISO 8601 duration such as 'P90D'."
    if min(known) > max_days:
        return None, f"rotates every {min(known):g} days: longer than the {max_days}-day maximum."
    return None, None


def _key_uri(key):
    vault, name = key.props.get("vaultName"), key.props.get("keyName")
    if isinstance(vault, str) and isinstance(name, str) and not is_unknown(vault) and not is_unknown(name):
        return f"https://{vault}.vault.azure.net/keys/{name}".lower()
    return None


def _protects(stack, key):
    uri = _key_uri(key)
    users = set()
    for resource in stack.resources:
        if resource is key:
            continue
        referenced = [get(resource.props, p) for p in KEY_URI_PATHS]
        vault_uri, key_name = (get(resource.props, f"encryption.keyVaultProperties.{k}") for k in ("keyVaultUri", "keyName"))
        if isinstance(vault_uri, str) and isinstance(key_name, str):  # storage accounts: vault URI + key name
            referenced.append(f"{vault_uri.rstrip('/')}/keys/{key_name}")
        named = uri is not None and any(isinstance(v, str) and (v.lower().rstrip("/") + "/").startswith(uri + "/")
                                        for v in referenced)
        if named or key.urn in {d.urn for d in resource.dependencies}:
            users.add(resource.name)
    return sorted(users)


def check(stack, config):
    max_days = config.get("maxRotationDays", DEFAULT_MAX_DAYS)
    for key in of_types(stack.resources, KEY_TYPES):
        unknown, problem = rotation_problem(key.props, max_days)
        if unknown:
            yield cannot_check(unknown, key)
        elif problem:
            users = _protects(stack, key)
            protects = f" (protects {', '.join(users)})" if users else ""
            yield violation(f"key {key.name}{protects} {problem}", key)


RULE = StackRule(
    name="azure-keyvault-key-enable-key-rotation",
    description="Key Vault keys have a rotation policy that rotates them automatically at least once a year.",
    severity="medium",
    remediation="Set properties.rotationPolicy={'lifetimeActions': [{'action': {'type': 'rotate'}, 'trigger': "
                "{'timeAfterCreate': 'P90D'}}], 'attributes': {'expiryTime': 'P1Y'}} on the key, and reference it "
                "without a version from the data stores.",
    frameworks=CIS_AZURE("8.8") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.7.4"),
    enforcement="mandatory",
    tags=("keyvault", "key-management"),
    config={"maxRotationDays": {"type": "integer", "minimum": 7, "default": DEFAULT_MAX_DAYS,
                                "description": "Longest rotation period allowed, in days."}},
    check=check,
)
