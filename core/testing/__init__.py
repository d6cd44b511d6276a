"""kefu's test fixtures, shipped as a pytest plugin (``-p kefu.testing.fixtures``, auto-loaded)."""
