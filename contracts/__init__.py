"""JSON Schemas and Pact contracts for Segment, Pushwoosh and the bridge.

`contracts.validate(name, payload)`, `contracts.check(name, payload)` and `contracts.names()` are the
schema API (see contracts/schemas.py); the Pact side lives in contracts/pact_*.py.
"""

from contracts.schemas import (
    SchemaViolation,
    UnknownSchema,
    ValidationProblem,
    check,
    is_valid,
    names,
    schema,
    validate,
)

__all__ = [
    "SchemaViolation",
    "UnknownSchema",
    "ValidationProblem",
    "check",
    "is_valid",
    "names",
    "schema",
    "validate",
]
