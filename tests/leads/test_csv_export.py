import pytest

from leads.csv_export import neutralize_cell


@pytest.mark.parametrize(
    ("value", "safe"),
    [("=1+1", "'=1+1"), ("+91", "'+91"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\t=1", "'\t=1"), ("Asha", "Asha"), ("98290", "98290"), (None, ""), ("a=b", "a=b")],
)
def test_neutralize_cell(value, safe):
    assert neutralize_cell(value) == safe
