"""The one package a plugin imports from kefu (see docs/plugins.md)."""
