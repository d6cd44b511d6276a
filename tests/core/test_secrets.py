"""Secrets come from systemd credentials (one file each, or the unit's credential folder) or env."""

from __future__ import annotations

import pytest

from kefu.secrets import MissingSecret, find_secret, get_secret


def test_a_credential_file_named_after_the_secret(tmp_path, monkeypatch):
    (tmp_path / "imap_password").write_text("s3cret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert find_secret("imap_password") == "s3cret"


def test_a_file_of_the_units_credential_folder_arrives_prefixed_kefu(tmp_path, monkeypatch):
    # LoadCredential=kefu:/etc/kefu/credentials turns /etc/kefu/credentials/imap_password
    # into $CREDENTIALS_DIRECTORY/kefu_imap_password.
    (tmp_path / "kefu_imap_password").write_text("from-folder")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert find_secret("imap_password") == "from-folder"


def test_the_environment_is_the_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("KEFU_TWILIO_TOKEN", "tok")
    assert find_secret("twilio-token") == "tok"


def test_a_missing_secret_says_where_to_put_it(monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("KEFU_NOPE", raising=False)
    with pytest.raises(MissingSecret, match=r"KEFU_NOPE.*/etc/kefu/credentials/nope"):
        get_secret("nope")


def test_a_secret_name_cannot_walk_out_of_the_credentials_folder():
    with pytest.raises(ValueError, match="may only hold"):
        find_secret("../etc/shadow")
