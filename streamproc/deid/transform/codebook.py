"""Keyed pseudonyms, per-patient date offsets and (optionally) an encrypted reverse map.

Every key written to the StateStore is ``deid:<kind>:<HMAC-SHA256(secret, ...)>``; no raw
identifier, name or date ever becomes a key or a value. Values are either surrogates (fake),
date offsets (integers), or — only when ``reversible`` — Fernet tokens whose key is derived from
the secret, so only whoever holds the secret can map a surrogate back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

from streamproc.state import StateStore

_PREFIX = "deid"


class Codebook:
    def __init__(
        self,
        store: StateStore,
        secret: str,
        *,
        date_shift_max_days: int = 365,
        reversible: bool = False,
    ) -> None:
        if not secret:
            raise ValueError("deid secret must not be empty")
        self.store = store
        self._secret = secret.encode("utf-8")
        self.max_shift = date_shift_max_days
        self.reversible = reversible
        self._fernet = None
        if reversible:
            from cryptography.fernet import Fernet

            key = hashlib.sha256(b"streamproc-deid-reverse|" + self._secret).digest()
            self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self._offsets: dict[str, int] = {}  # per-process cache of stored offsets (not PHI)

    # ---- keyed hashes ----------------------------------------------------------------------
    def digest(self, *parts: str) -> bytes:
        msg = "\x1f".join(parts).encode("utf-8")
        return hmac.new(self._secret, msg, hashlib.sha256).digest()

    def hkey(self, *parts: str) -> str:
        return self.digest(*parts).hex()[:40]

    def store_key(self, kind: str, *parts: str) -> str:
        return f"{_PREFIX}:{kind}:{self.hkey(kind, *parts)}"

    # ---- per-patient date shift -------------------------------------------------------------
    def date_offset(self, patient_key: str) -> int:
        """Non-zero offset in [-max, +max] days, one per patient, kept in the store.

        Drawn from a keyed digest of the patient key (like the surrogates), not a random
        generator: unpredictable without the secret, yet the same on every run and after the
        store is lost, so ``streamproc process`` and replays are reproducible. An offset already
        in the store (an earlier random draw included) always wins."""
        if patient_key in self._offsets:
            return self._offsets[patient_key]
        key = self.store_key("shift", patient_key)
        value = self.store.get(key)
        if value is None:
            draw = int.from_bytes(self.digest("shift-draw", patient_key)[:8], "big")
            magnitude = 1 + draw % (2 * self.max_shift)  # 1 .. 2*max
            offset = (
                magnitude - self.max_shift - 1
                if magnitude <= self.max_shift
                else magnitude - self.max_shift
            )
            self.store.set_if_absent(key, str(offset))
            value = self.store.get(key) or str(offset)  # another worker may have won the race
        offset = int(value)
        self._offsets[patient_key] = offset
        return offset

    # ---- surrogates ----------------------------------------------------------------------------
    def surrogate(self, kind: str, scope: str, original: str, make: Callable[[bytes], str]) -> str:
        """Consistent fake for ``original`` within ``scope`` (a patient key, or "" for global).

        ``make`` builds a candidate from a keyed digest, so the fake is deterministic even
        without a store; the store pins the first choice (and keeps the reverse map if enabled).
        """
        norm = original.strip().lower()
        key = self.store_key("sur", kind, scope, norm)
        found = self.store.get(key)
        if found is not None:
            return found
        fake = make(self.digest("make", kind, scope, norm))
        if self.store.set_if_absent(key, fake):
            self._remember(kind, fake, original)
            return fake
        return self.store.get(key) or fake

    def _remember(self, kind: str, fake: str, original: str) -> None:
        if self._fernet is None:
            return
        token = self._fernet.encrypt(json.dumps({"kind": kind, "original": original}).encode())
        self.store.set(self.store_key("rev", kind, fake.strip().lower()), token.decode("ascii"))

    def remember(self, kind: str, fake: str, original: str) -> None:
        """Record a reverse entry for a derived value (dates, refs) when reversible."""
        self._remember(kind, fake, original)

    def reverse(self, kind: str, fake: str) -> str | None:
        """The original behind a surrogate (reversible mode and the right secret only)."""
        if self._fernet is None:
            raise PermissionError("reverse lookup needs deid_reversible=true")
        token = self.store.get(self.store_key("rev", kind, fake.strip().lower()))
        if token is None:
            return None
        return str(json.loads(self._fernet.decrypt(token.encode("ascii")))["original"])
