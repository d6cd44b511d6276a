"""The surface of the core that plugins import: ``kefu.api`` and its submodules."""
