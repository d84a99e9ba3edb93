import pytest
from django.core.exceptions import ImproperlyConfigured

from crm.env import env_bool, env_float, env_int, env_list, env_str

NAME = "CRM_TEST_VARIABLE"


@pytest.mark.parametrize(
    ("reader", "default"),
    [(env_str, "text"), (env_bool, True), (env_int, 7), (env_float, 2.5), (env_list, ["a", "b"])],
)
@pytest.mark.parametrize("value", [None, "", "   "])
def test_env_unset_or_blank_means_the_default(monkeypatch, reader, default, value):
    if value is None:
        monkeypatch.delenv(NAME, raising=False)
    else:
        monkeypatch.setenv(NAME, value)

    assert reader(NAME, default) == default


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True),
     ("0", False), ("false", False), ("No", False), ("off", False)],
)
def test_env_bool_reads_the_documented_spellings(monkeypatch, value, expected):
    monkeypatch.setenv(NAME, value)

    assert env_bool(NAME, not expected) is expected


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (env_bool, "maybe", "must be one of 1/0, true/false, yes/no, on/off; got 'maybe'."),
        (env_int, "-1", "must be a whole number >= 0; got '-1'."),
        (env_int, "1.5", "must be a whole number >= 0; got '1.5'."),
        (env_int, "five", "must be a whole number >= 0; got 'five'."),
        (env_float, "-0.5", "must be a number >= 0; got '-0.5'."),
        (env_float, "inf", "must be a number >= 0; got 'inf'."),
        (env_float, "nan", "must be a number >= 0; got 'nan'."),
    ],
)
def test_env_refuses_a_bad_value_naming_the_variable(monkeypatch, reader, value, message):
    monkeypatch.setenv(NAME, value)

    with pytest.raises(ImproperlyConfigured) as raised:
        reader(NAME, 0)

    assert str(raised.value) == f"{NAME} {message}"


def test_env_numbers(monkeypatch):
    monkeypatch.setenv(NAME, " 42 ")
    assert env_int(NAME, 0) == 42
    monkeypatch.setenv(NAME, "2.5")
    assert env_float(NAME, 0.0) == 2.5


def test_env_list_strips_items_and_drops_empty_ones(monkeypatch):
    monkeypatch.setenv(NAME, " a.example, b.example,, ")

    assert env_list(NAME, ["default"]) == ["a.example", "b.example"]


def test_env_str_keeps_the_value_as_given(monkeypatch):
    monkeypatch.setenv(NAME, " key with spaces ")

    assert env_str(NAME) == " key with spaces "
