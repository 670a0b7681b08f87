"""The JSON Schema files in schemas/, loaded as Draft 2020-12 validators."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jsonschema
import orjson

from leaderwatch.settings import SCHEMAS_DIR


@lru_cache(maxsize=None)
def validator_for(name: str, schemas_dir: str | None = None) -> jsonschema.Draft202012Validator:
    """schemas/<name> -> a validator (schema checked first); format checks on."""
    schema = orjson.loads((Path(schemas_dir) if schemas_dir else SCHEMAS_DIR).joinpath(name).read_bytes())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
