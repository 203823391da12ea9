"""streamproc: streaming clinical-NLP processor (HL7 v2 / FHIR notes in, coded FHIR resources out)."""

__version__ = "0.1.0"
