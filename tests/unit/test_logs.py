from __future__ import annotations

import logging

import orjson

from leaderwatch.logs import JsonFormatter, logging_config


def test_json_lines_carry_level_logger_message_and_extras():
    record = logging.makeLogRecord({"name": "agents.clean", "levelname": "WARNING", "levelno": 30,
                                    "msg": "dead letter from %s", "args": ("clean",), "reason": "binary"})
    line = orjson.loads(JsonFormatter().format(record))
    assert line["level"] == "warning" and line["logger"] == "agents.clean"
    assert line["message"] == "dead letter from clean" and line["reason"] == "binary"


def test_text_is_the_default():
    assert logging_config("text", "info") is None
    assert logging_config("json", "debug")["root"]["level"] == "DEBUG"
