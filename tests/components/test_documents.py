"""components.documents.json_document renders a document exactly as pulumi.Output.json_dumps does: the
same text, secret when a value in it is, the same dependencies, unknown while a value is unknown."""

import asyncio

import pulumi
import pulumi_aws as aws

from components.documents import json_document
from mlops_tools.engine.preview import UNKNOWN, Secret, preview_program

CONFIG = {"mlops:cloud": "aws", "mlops:region": "eu-west-1", "aws:region": "eu-west-1"}


def _unknown() -> pulumi.Output:
    """An Output the engine has no value for yet (as a new resource's computed attribute in a preview)."""
    loop = asyncio.get_event_loop()
    value, known = loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(False)
    return pulumi.Output(set(), value, known)


def _document(topic: aws.sns.Topic, secret: pulumi.Output) -> dict:
    """Outputs as values, as a dict key, inside tuples and nested lists, beside plain scalars."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Publish", "Effect": "Allow", "Action": ("sns:Publish", "sns:Subscribe"), "Resource": topic.arn,
            "Condition": {"StringEquals": {topic.name.apply(lambda name: f"aws:SourceTopic/{name}"): secret}},
        }],
        "count": 3, "ratio": 0.5, "none": None, "flag": True, "nested": [[1, {"id": topic.id}], []], "empty": {},
    }


def _both(make_document) -> tuple:
    """The recorded (inputs, dependencies, propertyDependencies) of a queue whose policy is the document
    rendered by json_document, and of one whose policy is the SDK's json_dumps of the same document."""
    def program():
        document = make_document()
        aws.sqs.Queue("ours", policy=json_document(document))
        aws.sqs.Queue("sdk", policy=pulumi.Output.json_dumps(document))

    result = preview_program(program, stack="test", config=CONFIG)
    queues = {r["name"]: r for r in result.records if r["type"] == "aws:sqs/queue:Queue"}
    return tuple((q["inputs"], q["dependencies"], q["propertyDependencies"]) for q in (queues["ours"], queues["sdk"]))


def test_the_text_secrecy_and_dependencies_match_the_sdks_json_dumps():
    ours, sdk = _both(lambda: _document(aws.sns.Topic("alerts"), pulumi.Output.secret("team-a")))
    assert ours == sdk
    policy = ours[0]["policy"]
    assert isinstance(policy, Secret), "a secret anywhere in the document makes the whole text secret"
    assert '"Action": ["sns:Publish", "sns:Subscribe"], "Resource": "arn:aws:sns:eu-west-1:' in policy.value
    assert '{"StringEquals": {"aws:SourceTopic/alerts-' in policy.value and '": "team-a"}}' in policy.value
    assert [urn.rsplit("::", 1)[1] for urn in ours[2]["policy"]] == ["alerts"], "the queue's policy depends on the topic"


def test_a_document_without_outputs_is_plain_text_with_no_dependencies():
    ours, sdk = _both(lambda: {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    assert ours == sdk
    assert ours[0]["policy"] == '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}'
    assert ours[1] == [] and ours[2] == {"policy": []}


def test_an_unknown_value_leaves_the_document_unknown_in_a_preview():
    ours, sdk = _both(lambda: _document(aws.sns.Topic("alerts"), _unknown()))
    assert ours == sdk
    assert ours[0]["policy"] == UNKNOWN
