"""Single sign-on for a stack: the issuer the config names, turned into each UI's SSO settings.

Shared by the three stack builders; the cloud's managed issuer (Cognito, Entra) comes in as a factory
so this file stays cloud-neutral. None when the stack names no issuer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

import pulumi

from components.access.frontdoor import FrontDoor, FrontDoorArgs, ui_routes
from components.access import AccessArgs, ExternalIssuer, grafana_sso, mlflow_sso, pipelines_sso
from components.k8s.access import MlflowSsoArgs
from components.k8s.grafana_sso import GrafanaSsoArgs
from components.pipelines.ui_sso import PipelineUiSso
from stacks import naming
from stacks.config import PlatformConfig


@dataclass
class StackSso:
    """What each UI needs from the stack's issuer."""

    access: AccessArgs
    mlflow: MlflowSsoArgs
    grafana: GrafanaSsoArgs
    pipelines: PipelineUiSso  # for RetrainingPipelineArgs.ui_sso where a stack installs the pipelines


def stack_sso(cfg: PlatformConfig, managed: Optional[Callable[[AccessArgs], Any]] = None,
              opts: Optional[pulumi.ResourceOptions] = None) -> Optional[StackSso]:
    args = AccessArgs.from_config(cfg, naming.platform_name(pulumi.get_stack()), cfg.cost_tags)
    if args is None:
        return None
    if args.issuer == "external":
        issuer = ExternalIssuer("access", args, opts=opts)
    elif managed is not None:
        issuer = managed(args)
    else:  # the config model allows only this cloud's issuers; reaching here is a programming error
        raise ValueError(f"issuer {args.issuer!r} has no implementation on {cfg.cloud}")
    assert cfg.access.mlflow_image is not None  # required with an issuer (stacks/access_config.py)
    return StackSso(access=args, mlflow=mlflow_sso(args, issuer, cfg.access.mlflow_image, cfg.access.scopes),
                    grafana=grafana_sso(args, issuer, cfg.access.scopes), pipelines=pipelines_sso(args, issuer))


def stack_front_door(cfg: PlatformConfig, sso: StackSso, private_cidrs: Sequence[pulumi.Input[str]],
                     internal_annotations: Mapping[str, str], public_annotations: Mapping[str, str],
                     opts: pulumi.ResourceOptions, pipelines_namespace: Optional[str] = None) -> FrontDoor:
    """The private TLS front door for the SSO'd UIs (components/access/frontdoor.py); a public endpoint only
    with ``mlops:access.public`` (the config model insists on SSO and an allow-list). A stack that installs
    the pipelines passes their namespace, adding ``pipelines.<domain>``."""
    public = [str(cidr) for cidr in cfg.access.public.allowed_cidrs] if cfg.access.public.enabled else []
    return FrontDoor("front-door", FrontDoorArgs(
        platform=sso.access.name, environment=cfg.environment, routes=ui_routes(sso.access.hostnames, pipelines_namespace),
        private_cidrs=list(private_cidrs), internal_annotations=dict(internal_annotations),
        public_cidrs=public, public_annotations=dict(public_annotations)), opts=opts)
