"""Message catalogues for the pages: Simplified Chinese (default) and English.

Templates hold only keys (``t('task.accept')``); the words live in ``i18n/<lang>.json``. A key
missing from a catalogue renders as ``⟦key⟧`` so that tests (and people) see it at once.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
MISSING_MARK = "⟦{key}⟧"
_FOLDER = Path(__file__).resolve().parent / "i18n"


@cache
def catalogue(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_FOLDER / f"{language}.json").read_text(encoding="utf-8"))
    return data


class Translator:
    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._messages = catalogue(self.language)

    def has(self, key: str) -> bool:
        return key in self._messages

    def __call__(self, key: str, **values: Any) -> str:
        text = self._messages.get(key)
        if text is None:
            return MISSING_MARK.format(key=key)
        return text.format(**values) if values else text
