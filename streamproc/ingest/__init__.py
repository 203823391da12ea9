"""Ingest: parse and validate HL7 v2 ER7 and FHIR R4 JSON into canonical ``NoteEvent``s.

Contract used by the pipeline (implemented in this package):

* ``parse_message(raw, source, settings) -> list[NoteEvent]`` — an empty list means a valid
  message that carries no note (ADT, SIU, a FHIR Patient...): skipped and counted.
* ``IngestError(code, message)`` — anything unparseable or invalid; the pipeline dead-letters it.
  ``message`` never contains note text.
"""

from streamproc.ingest.errors import IngestError
from streamproc.ingest.router import parse_message

__all__ = ["IngestError", "parse_message"]
