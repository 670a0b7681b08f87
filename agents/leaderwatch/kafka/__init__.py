"""Kafka clients outside Faust's own: the broker's traits, security, client factories, one topic reader."""
