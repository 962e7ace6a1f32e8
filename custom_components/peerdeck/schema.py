"""The schema library: voluptuous, which Home Assistant 2026.10 replaced with probatio.

Probatio is API-compatible and Home Assistant installs it under the name ``voluptuous`` at start-up, so at run time
``voluptuous`` is whatever the running Home Assistant validates with. Only the type checker needs telling: on
Python 3.14 (Home Assistant 2026.10 and newer) it checks against probatio's types, before that voluptuous's.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING and sys.version_info >= (3, 14):
    import probatio as vol
else:
    import voluptuous as vol

__all__ = ["vol"]
