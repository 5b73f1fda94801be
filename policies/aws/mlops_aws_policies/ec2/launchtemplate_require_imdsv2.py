"""Launch templates require IMDSv2 and keep the metadata service one network hop away.

IMDSv1 answers any GET, so one SSRF in a pod (an MLflow artifact proxy fetching a user URL) leaks
the node role's credentials. IMDSv2 needs a PUT for a session token, and a response hop limit of 1
drops that token before it reaches a pod's network namespace: pods use IRSA instead of the node
role. The metadata endpoint may also be switched off entirely (httpEndpoint disabled).
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown


def check(resource, config):
    options = resource.props.get("metadataOptions")
    if is_unknown(options):
        yield cannot_check("metadataOptions")
        return
    endpoint = get(options, "httpEndpoint")
    if is_unknown(endpoint):
        yield cannot_check("metadataOptions.httpEndpoint")
        return
    if endpoint == "disabled":
        return
    tokens = get(options, "httpTokens")
    hops = get(options, "httpPutResponseHopLimit")
    if is_unknown(tokens) or is_unknown(hops):
        yield cannot_check("metadataOptions.httpTokens/httpPutResponseHopLimit")
        return
    if tokens != "required":
        shown = "not set (the AMI's default, IMDSv1 allowed)" if tokens is None else repr(tokens)
        yield f"metadataOptions.httpTokens is {shown}: IMDSv1 hands the node role's credentials to any GET request."
    elif hops is not None and int(hops) > 1:
        yield (f"metadataOptions.httpPutResponseHopLimit is {hops}: IMDSv2 session tokens reach containers, so pods can "
               "use the node role instead of their own.")


RULE = ResourceRule(
    name="aws-ec2-launchtemplate-require-imdsv2",
    description="Launch templates must require IMDSv2 (httpTokens required) with a response hop limit of 1.",
    severity="high",
    enforcement="mandatory",
    remediation="Set metadata_options={'http_endpoint': 'enabled', 'http_tokens': 'required', "
                "'http_put_response_hop_limit': 1}.",
    frameworks=CIS_AWS("5.6") + SOC2("CC6.1") + ISO27001("A.8.9") + PCI_DSS("2.2.1"),
    tags=("ec2", "imds", "credentials"),
    resource_types=("aws:ec2/launchTemplate:LaunchTemplate",),
    check=check,
)
