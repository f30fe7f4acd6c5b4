"""JSON Schemas and Pact contracts for Segment, Pushwoosh and the bridge.

`swoosh.contracts.validate(name, payload)`, `swoosh.contracts.check(name, payload)` and
`swoosh.contracts.names()` are the schema API (see contracts/schemas.py); the Pact side lives in contracts/pact_*.py.
"""

from swoosh.contracts.schemas import (
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
