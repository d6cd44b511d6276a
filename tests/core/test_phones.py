"""Phone numbers in E.164 at every entry, and the migration that rewrites the stored ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from kefu.db.engine import make_engine
from kefu.db.schema import alembic_config, upgrade
from kefu.phones import PhoneError, to_e164


@pytest.mark.parametrize(
    "written",
    [
        "13900000031",
        "139 0000 0031",
        "+86 139-0000-0031",
        "008613900000031",
        "86-13900000031",
        "8613900000031",
        "１３９００００００３１",
    ],
)
def test_every_way_of_writing_a_mobile_is_one_e164(written: str) -> None:
    assert to_e164(written) == "+8613900000031"


def test_a_landline_keeps_its_area_code_and_abroad_stays_abroad() -> None:
    assert to_e164("0431-8888 6666") == "+8643188886666"
    assert to_e164("(010) 6552 9988") == "+861065529988"
    assert to_e164("+852 2123 4567") == "+85221234567"
    assert to_e164("2123 4567", "HK") == "+85221234567"


@pytest.mark.parametrize("bad", ["12345", "1390000003", "12345abc", "not-a-phone", "+86 000 0000 0000"])
def test_an_impossible_number_is_refused(bad: str) -> None:
    with pytest.raises(PhoneError, match="not a"):
        to_e164(bad)


def test_migration_rewrites_stored_numbers_on_both_engines(db_url: str) -> None:
    engine = make_engine(db_url)
    from alembic import command

    command.upgrade(alembic_config(engine), "0001")  # the core as it was before the rewrite
    now = datetime(2026, 11, 2, tzinfo=UTC)
    with engine.begin() as conn:
        for i, phone in enumerate(
            ["13900000031", "86-139 0000 0032", "+8613900000033", "0431-88886666", "garbage", None],
            start=1,
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO customers (id, plugin, ref, name, phone, sms_opt_out, email_undeliverable,"
                    " phone_invalid, data, created_at) VALUES (:id, 'x', :ref, '', :phone, false, false,"
                    " false, '{}', :now)"
                ),
                {"id": i, "ref": f"R{i}", "phone": phone, "now": now},
            )
        conn.execute(
            sa.text(
                "INSERT INTO contacts (customer_id, kind, value) VALUES "
                "(1, 'phone', '139 0000 0034'), (1, 'email', '13900000035@qq.com')"
            )
        )
        conn.execute(sa.text("INSERT INTO staff (key, name, phone, active) VALUES ('z', '张', '13800000001', true)"))
    upgrade(engine)
    with engine.connect() as conn:
        phones = [r[0] for r in conn.execute(sa.text("SELECT phone FROM customers ORDER BY id"))]
        contacts = sorted(r[0] for r in conn.execute(sa.text("SELECT value FROM contacts")))
        staff = conn.execute(sa.text("SELECT phone FROM staff")).scalar_one()
    assert phones == [
        "+8613900000031",
        "+8613900000032",
        "+8613900000033",
        "+8643188886666",
        "garbage",
        None,
    ]
    assert contacts == ["+8613900000034", "13900000035@qq.com"] and staff == "+8613800000001"
    engine.dispose()


def test_staff_phones_in_config_are_e164_and_an_impossible_one_names_its_key(tmp_path) -> None:
    from kefu.config import ConfigError, validate_settings

    path = tmp_path / "kefu.toml"
    staff = {"people": {"zhang": {"name": "张", "phone": "139 0000 0031"}}}
    settings = validate_settings(path, {"staff": staff}, {})
    assert settings.staff.people["zhang"].phone == "+8613900000031"
    hk = validate_settings(
        path,
        {
            "kefu": {"default_country": "HK"},
            "staff": {"people": {"li": {"name": "李", "phone": "2123 4567"}}},
        },
        {},
    )
    assert hk.staff.people["li"].phone == "+85221234567"
    with pytest.raises(ConfigError, match=r"staff\.people\.zhang\.phone: .*'1390000' is not a possible"):
        validate_settings(path, {"staff": {"people": {"zhang": {"name": "张", "phone": "1390000"}}}}, {})
    with pytest.raises(ConfigError, match=r"kefu\.default_country: .*unknown country 'ZZ'"):
        validate_settings(path, {"kefu": {"default_country": "ZZ"}}, {})


def test_the_mainland_mobile_shortcut_gives_what_the_parser_gives() -> None:
    import random

    import phonenumbers

    rng = random.Random(7)
    for _ in range(3000):
        text = "1" + "".join(rng.choice("0123456789") for _ in range(10))
        for written in (text, "+86" + text):
            try:
                parsed = phonenumbers.parse(written, "CN")
            except phonenumbers.NumberParseException:
                parsed = None
            expected = (
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                if parsed is not None and phonenumbers.is_valid_number(parsed)
                else None
            )
            try:
                got: str | None = to_e164(written)
            except PhoneError:
                got = None
            assert got == expected, written


def test_the_migration_assumes_the_sites_default_country(tmp_path) -> None:
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'hk.db'}")
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO staff (key, name, phone, active) VALUES ('li', '李', '2123 4567', true)"))
    upgrade(engine, default_country="HK")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT phone FROM staff")).scalar_one() == "+85221234567"
    engine.dispose()
