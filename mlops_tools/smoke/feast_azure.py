"""Feast on Azure: the registry on Azure Blob through Feast's AzureRegistryStore and the offline store
(abfs://) on Azurite over HTTPS, the online store on Redis with TLS only and a password, with the rendered
feature_store.yaml unchanged.

The rendered URLs name the real endpoints (``https://<account>.blob.core.windows.net/...``,
``abfs://feast@<account>.dfs.core.windows.net/...``): the Feast processes resolve exactly those names to
Azurite (``SMOKE_HOSTS``, see feast_site/sitecustomize.py) and trust the run's own certificate for them.
Credentials differ from the pod's on purpose: the pod signs in with its workload identity
(DefaultAzureCredential), which needs Entra ID; here the registry store and adlfs use the emulated
account's key (``REGISTRY_BLOB_KEY``, ``AZURE_STORAGE_ACCOUNT_KEY``). Role coverage for the workload
identity is checked separately (tests/smoke/test_feast_azure_roles.py).
"""

from __future__ import annotations

from urllib.parse import urlparse

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.envs import venv
from mlops_tools.smoke.feast_smoke import FEAST_NAME, SITE, RenderedFeast, require
from mlops_tools.smoke.online_stores import Redis, certificate, start_redis
from mlops_tools.smoke.procs import Processes
from mlops_tools.smoke.services import start_azurite

SECRET = "feast-online-store/connection_string"


def prepare(procs: Processes, feast: RenderedFeast, ssl: bool = True) -> tuple[dict[str, str], str, Redis]:
    registry = urlparse(require(feast, ("https://",), "redis", "Azure"))
    account, container = registry.netloc.split(".")[0], registry.path.lstrip("/").split("/")[0]
    names = [f"{account}.blob.core.windows.net", f"{account}.dfs.core.windows.net"]
    cert, key = certificate(procs, names, "azurite-tls")
    blob = start_azurite(procs, account, tls=(cert, key))
    redis = start_redis(procs, tls=(cert, key))  # one run certificate: SSL_CERT_FILE trusts it
    port = blob.url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
    account_key = blob.env["AZURE_STORAGE_CONNECTION_STRING"].split("AccountKey=", 1)[1].split(";", 1)[0]
    env = feast.workload.env(feast.workload.container(FEAST_NAME), {SECRET: redis.connection_string(ssl=ssl)})
    env.update({
        "SMOKE_HOSTS": ",".join(f"{name}:443=127.0.0.1:{port}" for name in names),
        "SSL_CERT_FILE": str(cert), "REQUESTS_CA_BUNDLE": str(cert),
        "REGISTRY_BLOB_KEY": account_key,
        "AZURE_STORAGE_ACCOUNT_NAME": account, "AZURE_STORAGE_ACCOUNT_KEY": account_key,
        "PYTHONPATH": str(SITE), "PATH": "/usr/bin:/bin",
    })
    # The platform creates the container; the Feast identity only reads and writes blobs in it.
    procs.run("azurite-container", [str(venv("feast") / "python"), "-c",
                                    "import os, sys; from azure.storage.blob import BlobServiceClient; "
                                    "BlobServiceClient(sys.argv[1], credential=os.environ['REGISTRY_BLOB_KEY'])"
                                    ".create_container(sys.argv[2])",
                                    f"https://{account}.blob.core.windows.net", container], env, timeout=60)
    offline_root = str(feast.plan.data["outputs"].get("featureOfflineStorePath"))
    return env, f"{offline_root}/smoke_source.parquet", redis


def explain(feast: RenderedFeast, failure: SmokeFailure) -> SmokeFailure:
    text = str(failure)
    if "redis" in text.lower() and ("ConnectionError" in text or "SSL" in text or "Connection reset" in text):
        return SmokeFailure(f"{feast.component}: online_store.connection_string (${{REDIS_CONNECTION_STRING}} from "
                            f"Secret {SECRET}) does not reach Redis, which speaks TLS only and needs the password: "
                            f"the value must be '<host>:<port>,ssl=true,password=<key>' ({text.splitlines()[0]})")
    return failure
