"""The notes plugin's hooks: none it needs beyond saying it has no config section.

Its tables come with it (``models`` and ``migrations/`` beside this module); the
core finds them by that convention, so no hook is needed for them.
"""

from __future__ import annotations

from kefu.api import hookimpl


@hookimpl
def kefu_config_section() -> None:
    """No ``[notes]`` section."""
    return None
