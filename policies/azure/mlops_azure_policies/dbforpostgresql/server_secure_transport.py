"""Every PostgreSQL flexible server must pin require_secure_transport=ON in code.

The server parameter lives in a separate ``Configuration`` resource, so only the whole stack
can tell whether a server has it. The service default is ON, but a default is not a control:
anyone can switch it off in the portal and nothing in the program would notice or restore it.
Declaring the parameter makes every ``pulumi up`` put it back.
"""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, violation

from .._azure import azure_types, linked, lower, of_types

SERVER_TYPES = azure_types("azure-native:dbforpostgresql:Server")
CONFIGURATION_TYPES = azure_types("azure-native:dbforpostgresql:Configuration")
PARAMETER = "require_secure_transport"
ON_VALUES = {"on", "true", "yes", "1"}  # PostgreSQL's spellings of a true boolean parameter


def check(stack, config):
    servers = of_types(stack.resources, SERVER_TYPES)
    if not servers:
        return
    settings = {s.urn: [] for s in servers}  # server urn -> [(configuration, value)]
    undecided = []                          # configurations we cannot tie to a server during preview
    for configuration in of_types(stack.resources, CONFIGURATION_TYPES):
        name = configuration.props.get("configurationName")
        if not is_unknown(name) and lower(name) != PARAMETER:
            continue
        targets, decided = linked(configuration, "serverName", servers, lambda s: s.props.get("serverName"))
        if not decided:
            undecided.append(configuration)
        for server in targets:
            settings[server.urn].append((configuration, name, configuration.props.get("value")))

    for server in servers:
        entries = settings[server.urn]
        off = [c for c, n, v in entries if not is_unknown(n) and not is_unknown(v) and lower(v) not in ON_VALUES]
        on = [c for c, n, v in entries if not is_unknown(n) and not is_unknown(v) and lower(v) in ON_VALUES]
        open_entries = [c for c, n, v in entries if is_unknown(n) or is_unknown(v)]
        if off:
            yield violation(f"server {server.name}: configuration {off[0].name} sets {PARAMETER} to "
                            f"{off[0].props.get('value')!r}, so clients may connect without TLS.", server)
        elif on:
            continue
        elif open_entries or undecided:
            names = ", ".join(c.name for c in open_entries + undecided)
            yield cannot_check(f"whether configuration(s) {names} set {PARAMETER}=ON on this server", server)
        else:
            yield violation(f"server {server.name} has no {PARAMETER}=ON configuration: TLS is enforced only by a "
                            "default that can be switched off outside the program.", server)


RULE = StackRule(
    name="azure-dbforpostgresql-server-require-secure-transport",
    description="Every PostgreSQL flexible server has a require_secure_transport=ON server parameter in the program.",
    severity="high",
    remediation="Add azure_native.dbforpostgresql.Configuration(server_name=server.name, "
                "configuration_name='require_secure_transport', value='ON', source='user-override') per server.",
    frameworks=CIS_AZURE("4.3.1") + SOC2("CC6.7") + ISO27001("A.8.24") + PCI_DSS("4.2.1"),
    enforcement="mandatory",
    tags=("postgresql", "encryption-in-transit"),
    check=check,
)
