"""Which machine sizes exist on each cloud, so a typo in `instanceTypes` fails the config, not the deploy.

AWS: every EC2 instance type in botocore's bundled EC2 model, copied into
`data/aws_instance_types.json` by `python -m stacks.catalog` (loading the model itself costs about
0.2 s, too much for every preview; a test keeps the copy equal to the pinned botocore).
Azure and GCP: `data/machine_types.json`, written from each cloud's published size tables (the SDKs
ship no current list), series by series, with its sources.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Optional

DATA = Path(__file__).resolve().parent / "data"
AWS_FILE = DATA / "aws_instance_types.json"


def botocore_instance_types() -> list[str]:
    """Every EC2 instance type the pinned botocore's EC2 API model knows."""
    import botocore.loaders

    model = botocore.loaders.create_loader().load_service_model("ec2", "service-2")
    return sorted(model["shapes"]["InstanceType"]["enum"])


@lru_cache(maxsize=None)
def known_machine_types(cloud: str) -> frozenset[str]:
    if cloud == "aws":
        return frozenset(json.loads(AWS_FILE.read_text())["instanceTypes"])
    catalogue = json.loads((DATA / "machine_types.json").read_text())[cloud]
    names = {template.replace("{n}", str(size))
             for template, sizes in catalogue["series"].items() for size in sizes}
    return frozenset(names | set(catalogue.get("shared_core", [])))


@lru_cache(maxsize=None)
def _custom_pattern(cloud: str) -> Optional[re.Pattern[str]]:
    if cloud == "aws":
        return None
    pattern = json.loads((DATA / "machine_types.json").read_text())[cloud].get("custom_pattern")
    return re.compile(pattern) if pattern else None


def machine_type_problem(cloud: str, name: str) -> Optional[str]:
    """None when `name` is a size on `cloud`; otherwise what is allowed (with the nearest names)."""
    if name in known_machine_types(cloud):
        return None
    custom = _custom_pattern(cloud)
    if custom and custom.match(name):
        return None
    for other in ("aws", "azure", "gcp"):
        if other != cloud and name in known_machine_types(other):
            return f"is a{'n' if other in ('aws', 'azure') else ''} {other} size; this stack's cloud is {cloud}"
    close = difflib.get_close_matches(name, sorted(known_machine_types(cloud)), n=3, cutoff=0.7)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    where = "botocore's EC2 model" if cloud == "aws" else "stacks/data/machine_types.json"
    return f"is not a {cloud} machine size (checked against {where}){hint}"


def refresh_aws(path: Path = AWS_FILE) -> int:
    """Rewrite the AWS copy from the installed botocore; return how many types it holds."""
    import botocore

    types = botocore_instance_types()
    path.write_text(json.dumps({"source": f"botocore {botocore.__version__} data/ec2 service-2.json, shape InstanceType",
                                "instanceTypes": types}, indent=0) + "\n")
    return len(types)


if __name__ == "__main__":
    print(f"{AWS_FILE}: {refresh_aws()} EC2 instance types", file=sys.stderr)
