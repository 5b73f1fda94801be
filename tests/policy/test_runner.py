"""The runner boots packs exactly as the CLI does and speaks the Analyzer protocol to them."""
import os
import sys
import textwrap
from pathlib import Path

import pytest

from mlops_tools.policy.runner import PolicyPackError, discover_packs, run_policy_packs

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
AWS_PACK, K8S_PACK = POLICIES / "aws", POLICIES / "kubernetes"
sys.path[:0] = [str(AWS_PACK), str(K8S_PACK)]

from mlops_policy import load_rules  # noqa: E402
import mlops_aws_policies  # noqa: E402
import mlops_kubernetes_policies  # noqa: E402

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STACK = "urn:pulumi:test::mlops::pulumi:pulumi:Stack::mlops-test"


def resource(type_token, name, inputs, provider=None, dependencies=(), parent=STACK):
    urn = f"urn:pulumi:test::mlops::{type_token}::{name}"
    return {"urn": urn, "type": type_token, "name": name, "custom": True, "parent": parent, "provider": provider,
            "inputs": inputs, "dependencies": list(dependencies), "protect": False}


DR_PROVIDER = resource("pulumi:providers:aws", "dr", {"region": "eu-central-1"})
RESOURCES = [
    DR_PROVIDER,
    resource("aws:sns/topic:Topic", "alerts", {}),
    resource("aws:sns/topic:Topic", "legacy-alerts", {}),
    resource("aws:sqs/queue:Queue", "jobs", {}),
    resource("aws:rds/instance:Instance", "tracking-db", {"engine": "postgres", "storageEncrypted": True,
                                                          "kmsKeyId": UNKNOWN, "publiclyAccessible": UNKNOWN,
                                                          "iamDatabaseAuthenticationEnabled": True}),
    resource("aws:ebs/encryptionByDefault:EncryptionByDefault", "ebs-default", {"enabled": True}),
    resource("aws:ebs/volume:Volume", "scratch", {"size": 10}),
    resource("aws:ebs/volume:Volume", "dr-scratch", {"size": 10}, provider=f"{DR_PROVIDER['urn']}::prov-id"),
    resource("kubernetes:apps/v1:Deployment", "mlflow", {"spec": {"template": {"spec": {
        "hostNetwork": True, "containers": [{"name": "mlflow", "image": "mlflow"}]}}}}),
]


@pytest.fixture(scope="module")
def default_run():
    return run_policy_packs(RESOURCES, [AWS_PACK, K8S_PACK])


def test_discover_packs_finds_every_pack_directory():
    found = [p.name for p in discover_packs(POLICIES)]
    assert {"aws", "kubernetes"} <= set(found) and found == sorted(found)
    assert "common" not in found
    with pytest.raises(PolicyPackError, match="no policy pack directory"):
        discover_packs(POLICIES / "missing")


@pytest.mark.parametrize("pack_dir, rules_package", [(AWS_PACK, mlops_aws_policies), (K8S_PACK, mlops_kubernetes_policies)])
def test_each_pack_boots_and_lists_every_rule_with_metadata(default_run, pack_dir, rules_package):
    packs, _ = default_run
    pack = next(p for p in packs if p.name == f"mlops-{pack_dir.name}")
    assert pack.version == "1.0.0"  # from PulumiPolicy.yaml; the Python SDK itself always answers 0.0.1
    rules = {r.name: r for r in load_rules(rules_package)}
    assert [p.name for p in pack.policies] == sorted(rules)
    for policy in pack.policies:
        rule = rules[policy.name]
        assert (policy.description, policy.severity, policy.enforcement_level) == (rule.description, rule.severity,
                                                                                   rule.enforcement)
        assert policy.remediation == rule.remediation
        assert policy.frameworks == rule.framework_tags and policy.frameworks
        assert policy.framework["reference"] == rule.frameworks[0].control_id
        assert "excludeFor" in policy.config_schema["properties"]


def test_violations_carry_plan_keys_and_are_sorted(default_run):
    _, violations = default_run
    assert violations == sorted(violations, key=lambda v: (v.pack, v.policy, v.urn, v.message))
    assert all(set(v.to_dict()) == {"pack", "policy", "severity", "enforcement", "urn", "message"} for v in violations)
    found = {(v.policy, v.urn.rsplit("::", 1)[-1], v.enforcement) for v in violations}
    assert ("aws-sns-topic-enable-kms-encryption", "alerts", "mandatory") in found
    assert ("aws-sqs-queue-enable-kms-encryption", "jobs", "mandatory") in found
    assert ("kubernetes-workload-pod-disallow-host-namespaces", "mlflow", "mandatory") in found
    assert ("kubernetes-workload-container-require-non-root", "mlflow", "advisory") in found


def test_unknown_values_become_advisory_cannot_check_on_the_resource(default_run):
    _, violations = default_run
    unknown = [v for v in violations if v.policy == "aws-rds-database-disallow-public-access"]
    assert len(unknown) == 1
    assert unknown[0].enforcement == "advisory"
    assert unknown[0].urn.endswith("::tracking-db")
    assert "cannot check during preview" in unknown[0].message and "publiclyAccessible" in unknown[0].message
    # The CMK rule does not need the (unknown) key ARN's value: it passes.
    assert not [v for v in violations if v.policy == "aws-rds-database-enable-cmk-encryption"]


def test_stack_policies_get_the_explicit_provider_of_each_resource(default_run):
    _, violations = default_run
    ebs = {v.urn.rsplit("::", 1)[-1] for v in violations if v.policy == "aws-ec2-ebs-enable-volume-encryption"}
    # Encryption-by-default covers the default provider's region, not the DR provider's eu-central-1.
    assert ebs == {"dr-scratch"}


def test_policy_config_levels_and_properties_reach_the_pack():
    config = {"all": "advisory",
              "aws-sns-topic-enable-kms-encryption": {"enforcementLevel": "mandatory", "excludeFor": ["legacy-*"]},
              "aws-sqs-queue-enable-kms-encryption": "disabled"}
    _, violations = run_policy_packs(RESOURCES, [AWS_PACK], config)
    by_policy = {}
    for v in violations:
        by_policy.setdefault(v.policy, []).append(v)
    assert [(v.urn.rsplit("::", 1)[-1], v.enforcement) for v in by_policy["aws-sns-topic-enable-kms-encryption"]] == [
        ("alerts", "mandatory")]
    assert "aws-sqs-queue-enable-kms-encryption" not in by_policy
    assert {v.enforcement for v in violations} <= {"advisory", "mandatory"}
    assert [v.enforcement for v in by_policy["aws-ec2-ebs-enable-volume-encryption"]] == ["advisory"]


@pytest.mark.parametrize("config, message", [
    ({"all": "strict"}, "enforcement level 'strict'"),
    ({"aws-not-a-real-policy-name": "advisory"}, "unknown policies: aws-not-a-real-policy-name"),
    ({"aws-sns-topic-enable-kms-encryption": {"excludeFor": "legacy-*"}}, "excludeFor"),
])
def test_bad_policy_config_is_one_clear_error(config, message):
    with pytest.raises(PolicyPackError, match=message):
        run_policy_packs(RESOURCES[:2], [AWS_PACK], config)


def _children() -> set:
    """PIDs of live (non-zombie) pack processes of this test process: its children and, in a test worker,
    the children of its policy pack fork server (mlops_tools/policy/fork_server.py), not the server itself."""
    from mlops_tools.policy import fork_server

    server = str(fork_server._server.process.pid) if fork_server._server is not None else None
    parents = {str(os.getpid()), server} - {None}
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and entry != server:
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("PPid", "").strip() in parents and not fields.get("State", "").startswith("Z"):
                found.add(int(entry))
    return found


def _pack(tmp_path: Path, name: str, main: str, version: str = "2.3.4") -> Path:
    pack = tmp_path / name
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text(f"runtime: python\nversion: {version}\n")
    (pack / "__main__.py").write_text(textwrap.dedent(main))
    return pack


def test_pack_crash_names_the_pack_and_its_stderr_and_stops_the_others(tmp_path):
    broken = _pack(tmp_path, "broken", "import sys\nprint('loading rules', file=sys.stderr)\nraise RuntimeError('rule module exploded')\n")
    before = _children()
    with pytest.raises(PolicyPackError) as error:
        run_policy_packs(RESOURCES, [AWS_PACK, broken])
    text = str(error.value)
    assert "policy pack broken" in text and "before printing its port" in text
    assert "RuntimeError: rule module exploded" in text and "loading rules" in text
    assert _children() <= before, "every pack process is terminated after an error"


def test_analyze_requests_carry_the_explicit_provider_and_options(tmp_path):
    echo = _pack(tmp_path, "echo", '''
        from pulumi_policy import PolicyPack, ResourceValidationPolicy

        def validate(args, report):
            if args.provider is not None:
                report(f"provider {args.provider.name} region={args.provider.props['region']} parent={args.opts.parent}")

        PolicyPack(name="echo", policies=[ResourceValidationPolicy(name="echo-provider", description="Echo.", validate=validate)])
    ''')
    packs, violations = run_policy_packs(RESOURCES, [echo])
    assert packs[0].version == "2.3.4"
    assert [(v.urn.rsplit("::", 1)[-1], v.message) for v in violations] == [
        ("dr-scratch", f"provider dr region=eu-central-1 parent={STACK}")]


def test_analyze_calls_in_flight_together_keep_each_answer_with_its_resource(tmp_path):
    # The runner sends every Analyze request before reading the first answer. This pack answers the
    # first resources last (each waits longer than the next), on its four server threads.
    slow_first = _pack(tmp_path, "slow-first", '''
        import threading
        import time
        from pulumi_policy import PolicyPack, ResourceValidationPolicy, StackValidationPolicy

        ORDER = ["alerts", "legacy-alerts", "jobs", "tracking-db", "scratch", "dr-scratch"]
        lock, in_flight, most = threading.Lock(), [0], [0]

        def validate(args, report):
            if args.name in ORDER:
                with lock:
                    in_flight[0] += 1
                    most[0] = max(most[0], in_flight[0])
                time.sleep(0.02 * (len(ORDER) - ORDER.index(args.name)))
                with lock:
                    in_flight[0] -= 1
                report(f"seen {args.name}")

        def most_in_flight(args, report):
            report(f"at most {most[0]} in flight")

        PolicyPack(name="slow-first", policies=[
            ResourceValidationPolicy(name="echo-name", description="Echo.", validate=validate),
            StackValidationPolicy(name="in-flight", description="Concurrency seen.", validate=most_in_flight)])
    ''')
    _, violations = run_policy_packs(RESOURCES, [slow_first])
    per_resource = [v for v in violations if v.policy == "echo-name"]
    assert sorted((v.urn.rsplit("::", 1)[-1], v.message) for v in per_resource) == sorted(
        (name, f"seen {name}") for name in ["alerts", "legacy-alerts", "jobs", "tracking-db", "scratch", "dr-scratch"])
    # One call at a time would show 1: each answer would be awaited before the next request left.
    [stack] = [v.message for v in violations if v.policy == "in-flight"]
    assert int(stack.split()[2]) > 1, stack


def test_a_pack_dying_while_analyze_calls_are_in_flight_is_one_clear_error(tmp_path):
    dies = _pack(tmp_path, "dies", '''
        import os
        from pulumi_policy import PolicyPack, ResourceValidationPolicy

        def validate(args, report):
            if args.name == "jobs":
                os._exit(7)

        PolicyPack(name="dies", policies=[ResourceValidationPolicy(name="die", description="Dies.", validate=validate)])
    ''')
    before = _children()
    with pytest.raises(PolicyPackError) as error:
        run_policy_packs(RESOURCES, [dies])
    assert "policy pack dies" in str(error.value) and "failed in Analyze" in str(error.value)
    assert _children() <= before, "the pack process is gone after the error"


def test_docs_list_every_aws_and_kubernetes_rule():
    catalogue = (ROOT / "docs" / "policies.md").read_text()
    for rule in load_rules(mlops_aws_policies) + load_rules(mlops_kubernetes_policies):
        assert f"| `{rule.name}` |" in catalogue, f"docs/policies.md does not list {rule.name}"


FORK_CHILD = """
import json, sys, threading
from pathlib import Path
sys.path[:0] = [sys.argv[1]]
from tests.policy.test_runner import AWS_PACK, K8S_PACK, RESOURCES
from mlops_tools.policy.runner import PolicyPacks

def started(packs):
    return {d.name: [type(p.process).__name__] + Path(f"/proc/{p.process.pid}/cmdline").read_bytes().decode().split("\\0")[:2]
            for d, p in packs._processes.items()}

def run():
    with PolicyPacks([AWS_PACK, K8S_PACK]) as packs:
        how = started(packs)
        info, violations = packs.analyze(RESOURCES)
    return {"how": how,
            "packs": [[p.name, p.version, [q.name for q in p.policies]] for p in info],
            "violations": [v.to_dict() for v in violations]}

forked = run()                       # this process has one thread: the packs are forked from it
hold = threading.Event()
threading.Thread(target=hold.wait, daemon=True).start()
execd = run()                        # another thread is running: started the exact CLI way
from mlops_tools.policy import fork_server
fork_server.enable()
served = run()                       # threads, but a fork server: forked by the single-threaded helper
served["server"] = Path(f"/proc/{fork_server._server.process.pid}/cmdline").read_bytes().decode().split("\\0")[1:3]
hold.set()
print(json.dumps({"forked": forked, "execd": execd, "served": served, "argv": sys.argv[:1]}))
"""


def test_packs_started_first_are_forked_and_answer_as_exec_started_ones():
    """A pack forked from the preview skips re-importing pulumi, pulumi_policy and grpc (issue 18); it must
    report exactly what the pack started as `python __main__.py` reports."""
    import json
    import subprocess

    child = subprocess.run([sys.executable, "-c", FORK_CHILD, str(ROOT)], cwd=ROOT, capture_output=True, text=True,
                           timeout=300, env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(POLICIES / "common")])})
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    forked, execd, served = result["forked"], result["execd"], result["served"]
    # Forked: this interpreter's own command line (`python -c ...`); exec'd: `python __main__.py`, through Popen;
    # served: forked by the fork server, so its command line (`python -c ...serve()`).
    assert all(how[0] == "_ForkedProcess" and how[2] == "-c" for how in forked["how"].values()), forked["how"]
    assert all(how[0] == "Popen" for how in execd["how"].values()), execd["how"]
    assert all(how[0] == "ServedProcess" and how[2] == "-c" for how in served["how"].values()), served["how"]
    assert served["server"][0] == "-c" and "serve()" in served["server"][1]
    assert forked["packs"] == execd["packs"] == served["packs"]
    assert forked["violations"] == execd["violations"] == served["violations"]
    assert {v["policy"] for v in forked["violations"]} >= {"aws-sns-topic-enable-kms-encryption",
                                                          "kubernetes-workload-pod-disallow-host-namespaces"}


def test_the_fork_server_stops_its_packs_when_its_caller_is_gone():
    """A test worker that dies must not leave pack processes serving forever (they sleep until stopped)."""
    import json
    import signal
    import subprocess
    import time

    code = ("import json, sys, tempfile\nfrom mlops_tools.policy import fork_server\nfork_server.enable()\n"
            "server = fork_server.running()\npack = server.fork(sys.argv[1], dict(__import__('os').environ), "
            "tempfile.TemporaryFile())\nport = pack.stdout.readline().strip().decode()\n"
            "print(json.dumps([server.process.pid, pack.pid, port]), flush=True)\nsys.stdin.read()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(POLICIES / "common")])}
    caller = subprocess.Popen([sys.executable, "-c", code, str(AWS_PACK)], cwd=ROOT, env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        server, pack, port = json.loads(caller.stdout.readline())
        assert port.isdigit() and Path(f"/proc/{pack}").exists()  # the pack booted and printed its port
        caller.send_signal(signal.SIGKILL)
        caller.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and
                                                  not Path(f"/proc/{pid}/status").read_text().count("zombie")
                                                  for pid in (server, pack)):
            time.sleep(0.05)
        assert not any(Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()
                       for pid in (server, pack)), "the server and its pack end with their caller"
    finally:
        if caller.poll() is None:
            caller.kill()


def test_a_config_shared_by_many_policies_is_validated_once_and_a_bad_one_still_names_its_policy(monkeypatch):
    """~90 policies share the excludeFor schema and its default; each was validated apart (issue 18)."""
    import jsonschema

    from mlops_tools.policy.runner import PackInfo, PolicyInfo, configure_request

    schema = {"properties": {"excludeFor": {"type": "array", "items": {"type": "string"}, "default": []}}, "required": []}
    pack = PackInfo("p", "1", [PolicyInfo(f"p-{i}", "d.", "low", "advisory", "r", config_schema=schema) for i in range(5)])
    calls = []
    validate = jsonschema.validate
    monkeypatch.setattr(jsonschema, "validate", lambda *a, **k: (calls.append(a), validate(*a, **k))[1])
    request = configure_request(pack, {"p-3": {"excludeFor": ["legacy-*"]}, "p-2": {"excludeFor": ["legacy-*"]}})
    assert len(calls) == 1  # p-3's and p-2's identical config once; the others keep their schema's default
    assert list(request.policyConfig["p-3"].properties["excludeFor"]) == ["legacy-*"]
    assert list(request.policyConfig["p-1"].properties["excludeFor"]) == []
    configure_request(pack, None)
    assert len(calls) == 1  # no config given: nothing of the user's to validate (the defaults: the next test)
    with pytest.raises(PolicyPackError, match=r"policy config p-4.excludeFor: 'legacy-\*' is not of type 'array'"):
        configure_request(pack, {"p-4": {"excludeFor": "legacy-*"}})


@pytest.mark.parametrize("pack", ["aws", "azure", "gcp", "kubernetes"])
def test_every_policy_default_config_satisfies_its_schema(pack):
    """The runner validates only the properties a policy config sets (issue 18: jsonschema cost every preview
    ~0.04 s); the defaults every preview uses must then be valid here, for every rule of every pack."""
    import importlib

    import jsonschema

    sys.path.insert(0, str(POLICIES / pack))
    rules = load_rules(importlib.import_module(f"mlops_{pack}_policies"))
    checked = 0
    for rule in rules:
        schema = rule.policy.config_schema
        if schema is None:
            continue
        defaults = {name: spec["default"] for name, spec in schema.properties.items() if "default" in spec}
        jsonschema.validate(defaults, {"type": "object", "properties": schema.properties, "required": schema.required or []})
        checked += 1
    assert checked == len(rules)  # every rule takes at least excludeFor
