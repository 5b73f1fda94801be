"""Kubernetes answers for the offline preview: the object as applied, with a generated name when none is
given; a LoadBalancer Service also gets the address its cloud controller would publish in its status (a DNS
name on AWS, a private or public IP on Azure and GCP), so DNS records that point at it render as they will."""

from __future__ import annotations

from mlops_tools.engine.mocks.common import MockContext, Outputs


def _load_balancer_status(ctx: MockContext) -> dict:
    annotations = (ctx.inputs.get("metadata") or {}).get("annotations") or {}
    octets = [int(ctx.hex(2, salt), 16) for salt in ("a", "b")]
    if any(key.startswith("service.beta.kubernetes.io/aws-") for key in annotations):
        internal = "internal-" if any(str(v).lower() in ("internal", "true") for k, v in annotations.items()
                                      if "internal" in k or "scheme" in k) else ""
        return {"hostname": f"{internal}{ctx.name[:20]}-{ctx.hex(16)}.elb.amazonaws.com"}
    internal = any(str(value).lower() in ("true", "internal") for key, value in annotations.items() if "internal" in key
                   or key.endswith("load-balancer-type"))
    # Internal: an address of the private network (10.0.0.0/8); public: one of TEST-NET-3 (documentation range).
    return {"ip": f"10.0.{octets[0]}.{octets[1]}" if internal else f"203.0.113.{octets[1]}"}


def answer(ctx: MockContext) -> Outputs:
    metadata = dict(ctx.inputs.get("metadata") or {})
    metadata.setdefault("name", f"{ctx.name}-{ctx.hex(8)}")
    namespace = metadata.get("namespace")
    outputs = {"metadata": metadata}
    if ctx.type == "kubernetes:core/v1:Service" and (ctx.inputs.get("spec") or {}).get("type") == "LoadBalancer":
        outputs["status"] = {"loadBalancer": {"ingress": [_load_balancer_status(ctx)]}}
    return (f"{namespace}/{metadata['name']}" if namespace else metadata["name"]), outputs
