"""The one error type ingest raises; its ``code`` lands in the dead-letter envelope."""


class IngestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
