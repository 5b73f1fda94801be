"""The backend-store URI every cloud builds: the driver is named (SQLAlchemy 2.1 maps a bare
postgresql:// to psycopg 3, which the MLflow image lacks), credentials are percent-encoded, TLS is required."""

from urllib.parse import unquote, urlsplit

from components.tracking import DATABASE_URI_SCHEME, database_uri


def test_uri_names_the_psycopg2_driver_and_encodes_the_password():
    uri = database_uri("ml user", "p@ss:/%?#word", "db.internal", 5432, "mlflow")
    parts = urlsplit(uri)
    assert DATABASE_URI_SCHEME == "postgresql+psycopg2" and parts.scheme == "postgresql+psycopg2"
    assert unquote(parts.password) == "p@ss:/%?#word" and unquote(parts.username) == "ml user"
    assert (parts.hostname, parts.port, parts.path, parts.query) == ("db.internal", 5432, "/mlflow", "sslmode=require")
