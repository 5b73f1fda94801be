"""Every stack file deploys through the workflows, and the docs name exactly the OIDC subjects they request."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def stack_clouds() -> dict[str, str]:
    clouds = {}
    for path in ROOT.glob("Pulumi.*.yaml"):
        stack = path.name[len("Pulumi."):-len(".yaml")]
        clouds[stack] = yaml.safe_load(path.read_text())["config"]["mlops:cloud"]
    return clouds


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


@pytest.mark.parametrize("stack,cloud", sorted(stack_clouds().items()))
def test_every_stack_file_has_a_deploy_job_for_its_cloud(stack, cloud):
    job = load("deploy.yml")["jobs"].get(stack)
    assert job is not None, f"deploy.yml has no job for stack {stack}"
    assert job["uses"] == "./.github/workflows/deploy-stack.yml"
    assert job["with"] == {"stack": stack, "cloud": cloud}


def test_deploy_signs_in_to_each_cloud_with_oidc_and_runs_its_pack():
    steps = load("deploy-stack.yml")["jobs"]["up"]["steps"]
    sign_in_actions = {"aws-actions/configure-aws-credentials", "azure/login", "google-github-actions/auth"}
    signers = {step["if"].split("== ")[1].strip("'"): step["uses"].split("@")[0] for step in steps
               if step.get("uses", "").split("@")[0] in sign_in_actions}
    assert signers == {"aws": "aws-actions/configure-aws-credentials", "azure": "azure/login",
                       "gcp": "google-github-actions/auth"}
    up = next(step for step in steps if step.get("uses", "").startswith("pulumi/actions"))
    assert [line.strip() for line in up["with"]["policyPacks"].splitlines() if line.strip()] == ["policies/${{ inputs.cloud }}", "policies/kubernetes"]


def requested_subjects() -> set[str]:
    """The OIDC `sub` of every job that asks for an id-token, as GitHub forms it."""
    subjects = set()
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = load(path.name)
        triggers = workflow.get(True) or workflow.get("on")  # PyYAML reads a bare `on:` key as True
        for job in workflow["jobs"].values():
            if (job.get("permissions") or {}).get("id-token") != "write" or "uses" in job:
                continue
            if "environment" in job:
                if job["environment"] == "${{ inputs.stack }}":
                    subjects |= {f"environment:{stack}" for stack in stack_clouds()}
                else:
                    subjects.add(f"environment:{job['environment']}")
            elif "pull_request" in triggers:
                subjects.add("pull_request")
            else:
                subjects.add("ref:refs/heads/main")
    return subjects


def test_docs_name_every_subject_the_workflows_request():
    text = (ROOT / "docs" / "operations.md").read_text()
    missing = sorted(s for s in requested_subjects() if f"`{s}`" not in text and f"repo:<org>/<repo>:{s}`" not in text)
    assert missing == [], f"docs/operations.md does not list the OIDC subjects {missing}"
    assert requested_subjects() >= {"pull_request", "ref:refs/heads/main", "environment:azure-prod", "environment:gcp-dev"}
