"""The code's shape: tests reach product code through public names only, and
the dashboard's cache package stays in small modules without mutable holders."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("crm", "leads", "calls", "dashboard", "accounts", "intake", "timeline", "whatsapp")
CACHE_PACKAGE = ROOT / "dashboard" / "cache"
MAX_CACHE_MODULE_LINES = 250

# Django's documented Model._meta API, on the product's models.
PUBLIC_UNDERSCORE_ATTRIBUTES = {"_meta"}


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _product(module):
    return module.split(".")[0] in PRODUCT


def _private_dotted(value):
    """True for a string such as "dashboard.cache._bucket"."""
    parts = value.split(".")
    return (len(parts) > 1 and _product(value) and all(part.isidentifier() for part in parts)
            and any(_private(part) for part in parts))


def _bound_names(tree):
    """{local name: the dotted product path it was imported as}."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _product(node.module or ""):
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _product(alias.name):
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        bound[top] = top
    return bound


def _attribute_path(node, bound):
    """The dotted product path of `a.b.c` when `a` is a product import, else None."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in bound:
        return None
    return ".".join([bound[node.id], *reversed(names)])


def private_reaches(source, filename="<test>"):
    """[(line, dotted path)]: each place `source` reaches a `_name` of product code."""
    tree = ast.parse(source, filename)
    bound = _bound_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _product(node.module or ""):
            found += [(node.lineno, f"{node.module}.{alias.name}")
                      for alias in node.names if _private(alias.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            path = _attribute_path(node, bound)
            if path and node.attr not in PUBLIC_UNDERSCORE_ATTRIBUTES:
                found.append((node.lineno, path))
        elif isinstance(node, ast.Call):
            # setattr / getattr / monkeypatch.setattr(module, "_name", ...)
            target, name = (node.args + [None, None])[:2]
            if (isinstance(target, ast.Name) and target.id in bound
                    and isinstance(name, ast.Constant) and isinstance(name.value, str)
                    and _private(name.value)):
                found.append((node.lineno, f"{bound[target.id]}.{name.value}"))
            # monkeypatch.setattr("dashboard.cache._name", ...)
            found += [(node.lineno, arg.value) for arg in node.args
                      if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                      and _private_dotted(arg.value)]
    return sorted(found)


def test_private_reaches_finds_each_way_of_reaching_a_private_name():
    source = "\n".join([
        "from dashboard.cache import _read_versions, fetch",
        "from dashboard import cache as dash_cache",
        "import dashboard.views",
        "from leads.models import Lead",
        "from crm.cache_settings import _location",
        "def test(monkeypatch):",
        "    dash_cache._last_flush[0] = 1",
        "    dashboard.views._personalise",
        "    monkeypatch.setattr(dash_cache, '_bucket', None)",
        "    monkeypatch.setattr('dashboard.cache.stats._key', None)",
        "    Lead._meta, Lead.__name__, dash_cache.fetch, fetch._private",
    ])
    assert private_reaches(source) == [
        (1, "dashboard.cache._read_versions"),
        (5, "crm.cache_settings._location"),
        (7, "dashboard.cache._last_flush"),
        (8, "dashboard.views._personalise"),
        (9, "dashboard.cache._bucket"),
        (10, "dashboard.cache.stats._key"),
        (11, "dashboard.cache.fetch._private"),
    ]


def test_tests_reach_product_code_through_public_names_only():
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        relative = path.relative_to(ROOT)
        found += [f"{relative}:{line}: {name}"
                  for line, name in private_reaches(path.read_text(), str(path))]
    assert found == []


def test_cache_modules_stay_small():
    sizes = {path.name: len(path.read_text().splitlines())
             for path in sorted(CACHE_PACKAGE.glob("*.py"))}
    assert "store.py" in sizes  # the package is where this test looks
    assert {name: n for name, n in sizes.items() if n > MAX_CACHE_MODULE_LINES} == {}


_MUTABLE_CALLS = {"Counter", "defaultdict", "deque", "dict", "list", "set", "OrderedDict"}


def _mutable_holders(source):
    """Module-level names bound to a bare list, dict, set or collection."""
    holders = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        call = value.func if isinstance(value, ast.Call) else None
        called = getattr(call, "id", getattr(call, "attr", None))
        if isinstance(value, (ast.List, ast.Dict, ast.Set)) or called in _MUTABLE_CALLS:
            holders += [target.id for target in targets
                        if isinstance(target, ast.Name) and target.id != "__all__"]
    return holders


def test_mutable_holders_are_found():
    source = "_last_flush = [0.0]\n_pending = Counter()\n__all__ = ['a']\nbreaker = Breaker()\n"
    assert _mutable_holders(source) == ["_last_flush", "_pending"]


def test_cache_package_keeps_process_state_in_objects():
    found = {path.name: _mutable_holders(path.read_text())
             for path in sorted(CACHE_PACKAGE.glob("*.py"))}
    assert {name: holders for name, holders in found.items() if holders} == {}
