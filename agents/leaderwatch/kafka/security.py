"""Kafka client security, translated once from the settings for every client: Faust's credentials
(the workers) and aiokafka's keyword arguments (ingest, follow, replay). PLAINTEXT, SSL,
SASL_PLAINTEXT or SASL_SSL with PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512; an optional CA file."""
from __future__ import annotations

import ssl


def ssl_context(settings) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL (system CAs, or LEADERWATCH_BROKER_CA_FILE), else None."""
    if settings.broker_security_protocol.upper() in ("SSL", "SASL_SSL"):
        return ssl.create_default_context(cafile=settings.broker_ca_file or None)
    return None


def aiokafka_security(settings) -> dict:
    """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer; {} for PLAINTEXT."""
    protocol = settings.broker_security_protocol.upper()
    if protocol == "PLAINTEXT":
        return {}
    options = {"security_protocol": protocol}
    context = ssl_context(settings)
    if context:
        options["ssl_context"] = context
    if protocol.startswith("SASL"):
        options.update(sasl_mechanism=settings.broker_sasl_mechanism, sasl_plain_username=settings.broker_sasl_username,
                       sasl_plain_password=settings.broker_sasl_password)
    return options


def faust_credentials(settings):
    """The same as faust.SASLCredentials / faust.SSLCredentials (for faust.App), or None."""
    import faust

    protocol = settings.broker_security_protocol.upper()
    context = ssl_context(settings)
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(username=settings.broker_sasl_username, password=settings.broker_sasl_password,
                                     mechanism=settings.broker_sasl_mechanism, ssl_context=context)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    return None
