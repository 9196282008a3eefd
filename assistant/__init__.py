"""ARRS Assistant: grounded, cited answers about the Additional Roles Reimbursement Scheme.

``Assistant`` is imported lazily so that light users (the CLI's --help, the calculator) do not
pay for torch and Chroma at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.chain import Assistant
    from assistant.models import Answer, Citation
    from assistant.settings import Settings

__all__ = ["Answer", "Assistant", "Citation", "Settings"]


def __getattr__(name: str):
    if name == "Assistant":
        from assistant.chain import Assistant

        return Assistant
    if name in {"Answer", "Citation"}:
        from assistant import models

        return getattr(models, name)
    if name == "Settings":
        from assistant.settings import Settings

        return Settings
    raise AttributeError(name)
