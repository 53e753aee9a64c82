"""A sink's `destination` object for each destination type, as the server builds it.

Field names, and which fields are secret, follow `to_external/2` for each sink type in
`lib/sequin/transforms/transforms.ex`: unset plain fields are left out (`reject_nil_values`),
while an unset secret is still sent, as JSON null. Every secret here carries
`SECRET_MARKER`, so a test can search a tap's output for it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tap_sequin.sandbox.data import SECRET_MARKER
from tap_sequin.sandbox.self_hosted.sensitive import Sensitive

DESTINATION_TYPES: tuple[str, ...] = (
    "webhook",
    "kafka",
    "sqs",
    "gcp_pubsub",
    "rabbitmq",
    "redis_stream",
    "nats",
    "elasticsearch",
    "typesense",
    "sequin_stream",
    "azure_event_hub",
    "redis_string",
    "sns",
    "kinesis",
    "s2",
    "meilisearch",
)

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def secret(rng: random.Random, label: str) -> Sensitive:
    """A new secret, recognisable by `SECRET_MARKER`."""
    return Sensitive(f"{SECRET_MARKER}-{label}-{rng.getrandbits(48):012x}")


def _aws(rng: random.Random) -> dict[str, Any]:
    return {
        "access_key_id": Sensitive(f"AKIA{rng.getrandbits(64):016X}"),
        "secret_access_key": secret(rng, "aws"),
    }


def _webhook(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    return {
        "type": "webhook",
        "http_endpoint": endpoint,
        "http_endpoint_path": f"/sequin/{name}",
        "batch": rng.random() < 0.5,
    }


def _kafka(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "kafka",
        "hosts": "b-1.kafka.internal:9092,b-2.kafka.internal:9092",
        "topic": f"sequin.{name}",
        "tls": True,
        "compression": "none",
    }
    if rng.random() < 0.5:
        # MSK IAM: the key id goes out in clear (it is no SensitiveValue), the secret not.
        out.update(
            sasl_mechanism="aws_msk_iam",
            aws_access_key_id=f"AKIA{rng.getrandbits(64):016X}",
            aws_secret_access_key=secret(rng, "msk"),
            aws_region=rng.choice(REGIONS),
            password=Sensitive(None),
        )
    else:
        out.update(
            sasl_mechanism="scram_sha_512",
            username="sequin",
            password=secret(rng, "kafka"),
            aws_secret_access_key=Sensitive(None),
        )
    return out


def _sqs(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    region = rng.choice(REGIONS)
    fifo = rng.random() < 0.3
    return {
        "type": "sqs",
        "queue_url": f"https://sqs.{region}.amazonaws.com/123456789012/{name}"
        + (".fifo" if fifo else ""),
        "region": region,
        "is_fifo": fifo,
        "use_task_role": False,
        **_aws(rng),
    }


def _sns(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    region = rng.choice(REGIONS)
    return {
        "type": "sns",
        "topic_arn": f"arn:aws:sns:{region}:123456789012:{name}",
        "region": region,
        "is_fifo": False,
        "use_task_role": False,
        "use_emulator": False,
        **_aws(rng),
    }


def _kinesis(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    # With a task role the server sends no keys at all.
    return {
        "type": "kinesis",
        "stream_arn": f"arn:aws:kinesis:us-east-1:123456789012:stream/{name}",
        "use_task_role": True,
    }


def _gcp_pubsub(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    body = f"{SECRET_MARKER}-{rng.getrandbits(96):024x}"
    key = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    return {
        "type": "gcp_pubsub",
        "project_id": "acme-data",
        "topic_id": name,
        "use_emulator": False,
        "credentials": {
            "type": "service_account",
            "project_id": "acme-data",
            "private_key_id": secret(rng, "gcp-key-id"),
            "private_key": Sensitive(key),
            "client_email": Sensitive("sequin@acme-data.iam.gserviceaccount.com"),
            "client_id": Sensitive(str(rng.getrandbits(64))),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/sequin",
            "universe_domain": Sensitive("googleapis.com"),
        },
    }


def _rabbitmq(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    return {
        "type": "rabbitmq",
        "host": "rabbitmq.internal",
        "port": 5672,
        "username": "sequin",
        "password": secret(rng, "amqp"),
        "virtual_host": "/",
        "tls": False,
        "exchange": name,
    }


def _redis(kind: str) -> Callable[[random.Random, str, str], dict[str, Any]]:
    def make(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": kind,
            "host": "redis.internal",
            "port": 6379,
            "database": rng.randrange(4),
            "tls": rng.random() < 0.5,
            "password": secret(rng, "redis"),
        }
        if kind == "redis_stream":
            out["stream_key"] = f"sequin:{name}"
        else:
            out["expire_ms"] = 86_400_000
        return out

    return make


def _nats(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    return {
        "type": "nats",
        "host": "nats.internal",
        "port": 4222,
        "username": "sequin",
        "password": secret(rng, "nats"),
        "jwt": Sensitive(f"eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5In0.{SECRET_MARKER}"),
        "nkey_seed": secret(rng, "nkey"),
        "tls": True,
    }


def _azure(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    return {
        "type": "azure_event_hub",
        "namespace": "acme-events",
        "event_hub_name": name,
        "shared_access_key_name": "RootManageSharedAccessKey",
        "shared_access_key": secret(rng, "sas"),
    }


def _typesense(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    return {
        "type": "typesense",
        "endpoint_url": "https://typesense.internal:8108",
        "collection_name": name,
        "api_key": secret(rng, "typesense"),
        "batch_size": 40,
        "timeout_seconds": 5,
    }


def _meilisearch(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    return {
        "type": "meilisearch",
        "endpoint_url": "https://meilisearch.internal",
        "index_name": name,
        "primary_key": "id",
        "api_key": secret(rng, "meili"),
        "timeout_seconds": 5,
    }


def _elasticsearch(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    return {
        "type": "elasticsearch",
        "endpoint_url": "https://elasticsearch.internal:9200",
        "index_name": name,
        "auth_type": "api_key",
        "auth_value": secret(rng, "elastic"),
        "batch_size": 100,
    }


def _s2(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    return {"type": "s2", "basin": "acme", "stream": name, "access_token": secret(rng, "s2")}


def _sequin_stream(rng: random.Random, name: str, endpoint: str) -> dict[str, Any]:
    return {"type": "sequin_stream"}


MAKERS: dict[str, Callable[[random.Random, str, str], dict[str, Any]]] = {
    "webhook": _webhook,
    "kafka": _kafka,
    "sqs": _sqs,
    "sns": _sns,
    "kinesis": _kinesis,
    "gcp_pubsub": _gcp_pubsub,
    "rabbitmq": _rabbitmq,
    "redis_stream": _redis("redis_stream"),
    "redis_string": _redis("redis_string"),
    "nats": _nats,
    "azure_event_hub": _azure,
    "typesense": _typesense,
    "meilisearch": _meilisearch,
    "elasticsearch": _elasticsearch,
    "s2": _s2,
    "sequin_stream": _sequin_stream,
}


def destination(kind: str, rng: random.Random, sink_name: str, endpoint: str) -> dict[str, Any]:
    """The `destination` of a sink named `sink_name` (`endpoint`: a webhook's endpoint)."""
    return MAKERS[kind](rng, sink_name, endpoint)
