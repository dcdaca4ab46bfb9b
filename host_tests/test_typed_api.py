"""The typed API: a .pyi beside each public runtime module, exact against the code, checked by basedpyright.

Exact means: every name a stub declares exists at run time (CPython), with the same
parameter names, kinds and optional parameters (inspect.signature); every public class,
function and constant of a module is in its stub; every attribute a stub declares is set
by the code. Stubs ship in the wheel (py.typed), never to a board.
"""

import ast
import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cellex.system import ActorSystem
from cellex_tools import package_json
from cellex_tools.mpy import compile_package

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "firmware" / "cellex"
TYPING = Path(__file__).resolve().parent / "typing"
BASEDPYRIGHT = ROOT / ".venv" / "bin" / "basedpyright"

# The runtime's own machinery: a user never imports these, so they have no stub (an
# editor infers their types from the source where a stub mentions them).
INTERNAL = {
    "compat": "the one place the two interpreters differ",
    "wire": "the frame encoder (docs/wire-format.md is its spec)",
    "deadlines": "the deadline heap under timers, backoff and asks",
    "post": "the interrupt ring behind ActorSystem.post",
    "scheduler": "the ready queue behind ActorSystem.run",
    "escalation": "the supervision chain a failure walks",
}
PUBLIC = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in INTERNAL)
# Members the code serves without assigning them: (module, class, name) -> how.
DYNAMIC = {("snapshot", "FailureSnapshot", "description"): "FailureSnapshot.__getattr__"}
# Classes whose methods are bound onto the instance at construction (binding allocates,
# so the hot ones are bound once): their signatures are read from an instance.
INSTANCES = {("system", "ActorSystem"): ActorSystem}
CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")


def stub(stem):
    """The stub's path; its absence fails test_every_public_module_has_a_stub_beside_it, not every test."""
    path = PACKAGE / (stem + ".pyi")
    if not path.is_file():
        pytest.skip("no %s.pyi" % stem)
    return path


def module_name(stem):
    return "cellex" if stem == "__init__" else "cellex." + stem


def parse(path):
    return ast.parse(path.read_text(), filename=str(path))


def top_level(tree):
    """Names a module defines itself (not imports): name -> node, into top-level if/try blocks."""
    found = {}

    def visit(body):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found[node.name] = node
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found[node.target.id] = node
            elif isinstance(node, ast.If):
                visit(node.body + node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body])

    visit(tree.body)
    return found


def public(names):
    return {n for n in names if not n.startswith("_")}


def stub_params(fn):
    """(name, kind, optional) for each parameter of a stub def, as inspect names the kinds."""
    a = fn.args
    positional = [(p.arg, "POSITIONAL_ONLY") for p in a.posonlyargs] + [
        (p.arg, "POSITIONAL_OR_KEYWORD") for p in a.args
    ]
    first_default = len(positional) - len(a.defaults)
    out = [(name, kind, i >= first_default) for i, (name, kind) in enumerate(positional)]
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", False))
    out += [(p.arg, "KEYWORD_ONLY", d is not None) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", False))
    return out


def runtime_params(obj):
    return [
        (p.name, p.kind.name, p.default is not inspect.Parameter.empty)
        for p in inspect.signature(obj).parameters.values()
    ]


def is_property(fn):
    return any(isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list)


def stub_classes(stem):
    return {
        name: node for name, node in top_level(parse(stub(stem))).items()
        if isinstance(node, ast.ClassDef) and not name.startswith("_")
    }  # fmt: skip


def members(classdef):
    """The methods and the annotated attributes a stub class declares."""
    methods = {n.name: n for n in classdef.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    attrs = {
        n.target.id for n in classdef.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }  # fmt: skip
    return methods, attrs


def assigned_attributes(cls):
    """Attributes the code of `cls` and its cellex bases sets: on self in any method, or in the class body."""
    names = set()
    for klass in inspect.getmro(cls):
        if not klass.__module__.startswith("cellex"):
            continue
        tree = parse(Path(inspect.getfile(klass)))
        (classdef,) = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == klass.__name__]
        names |= set(vars(klass))
        for node in ast.walk(classdef):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id == "self":
                    names.add(node.attr)
    return names


@pytest.mark.parametrize("stem", PUBLIC)
def test_every_public_module_has_a_stub_beside_it(stem):
    assert (PACKAGE / (stem + ".pyi")).is_file(), "firmware/cellex/%s.pyi is missing" % stem


def test_the_package_is_marked_typed():
    assert (PACKAGE / "py.typed").is_file()


def test_internal_modules_are_real_modules_without_stubs():
    for stem in INTERNAL:
        assert (PACKAGE / (stem + ".py")).is_file() and not (PACKAGE / (stem + ".pyi")).exists()


def test_the_package_stub_serves_exactly_the_lazy_names():
    import cellex

    tree = parse(PACKAGE / "__init__.pyi")
    imported = {
        alias.asname or alias.name: node.module.split(".", 1)[1]
        for node in tree.body if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }  # fmt: skip
    assert imported == cellex._attrs


@pytest.mark.parametrize("stem", [s for s in PUBLIC if s != "__init__"])
def test_a_stub_declares_only_names_the_module_has(stem):
    module = importlib.import_module(module_name(stem))
    declared = public(top_level(parse(stub(stem))))
    assert {n for n in declared if not hasattr(module, n)} == set()


@pytest.mark.parametrize("stem", [s for s in PUBLIC if s != "__init__"])
def test_every_public_class_function_and_constant_is_in_the_stub(stem):
    defined = top_level(parse(PACKAGE / (stem + ".py")))
    api = {
        name for name, node in defined.items()
        if not name.startswith("_")
        and (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or CONSTANT.match(name))
    }  # fmt: skip
    assert api - public(top_level(parse(stub(stem)))) == set()


@pytest.mark.parametrize("stem", [s for s in PUBLIC if s != "__init__"])
def test_stub_functions_have_the_codes_parameters(stem):
    module = importlib.import_module(module_name(stem))
    for name, node in top_level(parse(stub(stem))).items():
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not name.startswith("_"):
            assert stub_params(node) == runtime_params(getattr(module, name)), "%s.%s" % (stem, name)


@pytest.mark.parametrize("stem", [s for s in PUBLIC if s != "__init__"])
def test_stub_methods_have_the_codes_parameters(stem):
    module = importlib.import_module(module_name(stem))
    for cname, classdef in stub_classes(stem).items():
        cls = getattr(module, cname)
        instance = INSTANCES[(stem, cname)]() if (stem, cname) in INSTANCES else None
        methods, _ = members(classdef)
        for name, fn in methods.items():
            where = "%s.%s.%s" % (stem, cname, name)
            if is_property(fn):
                assert hasattr(cls, name) or (stem, cname, name) in DYNAMIC, where
                continue
            if name in vars(cls) or hasattr(cls, name):
                assert stub_params(fn) == runtime_params(getattr(cls, name)), where
            else:
                assert instance is not None, where + " is not in the code"
                assert stub_params(fn)[1:] == runtime_params(getattr(instance, name)), where


@pytest.mark.parametrize("stem", [s for s in PUBLIC if s != "__init__"])
def test_every_public_method_of_a_class_is_in_its_stub(stem):
    module = importlib.import_module(module_name(stem))
    for cname, classdef in stub_classes(stem).items():
        cls = getattr(module, cname)
        code = {n for n, v in vars(cls).items() if not n.startswith("_") and inspect.isfunction(v)}
        assert code - set(members(classdef)[0]) == set(), "%s.%s" % (stem, cname)


@pytest.mark.parametrize("stem", [s for s in PUBLIC if s != "__init__"])
def test_stub_attributes_are_set_by_the_code(stem):
    module = importlib.import_module(module_name(stem))
    for cname, classdef in stub_classes(stem).items():
        code = assigned_attributes(getattr(module, cname))
        missing = {a for a in members(classdef)[1] if a not in code and (stem, cname, a) not in DYNAMIC}
        assert missing == set(), "%s.%s" % (stem, cname)


def test_the_description_served_dynamically_is_there():
    from cellex.snapshot import FailureSnapshot

    assert FailureSnapshot().description == ""


def test_mip_installs_no_stubs():
    assert ".pyi" not in package_json.render()


def test_the_compiled_package_has_one_mpy_per_module_and_none_of_the_stubs(tmp_path):
    # What make mpy, deploy and the board test runner put on a board.
    built = compile_package("x64", tmp_path)
    assert sorted(p.stem for p in built) == sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert sorted(p.name for p in (tmp_path / "cellex").iterdir()) == sorted(p.name for p in built)


def basedpyright(app, folder=TYPING):
    """basedpyright's errors in one example app, with folder/pyrightconfig.json: [(line, rule, message)]."""
    proc = subprocess.run(
        [str(BASEDPYRIGHT), "--outputjson", "-p", str(folder / "pyrightconfig.json"), str(folder / app)],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )
    report = json.loads(proc.stdout)
    return [
        (d["range"]["start"]["line"] + 1, d.get("rule", ""), d["message"])
        for d in report["generalDiagnostics"] if d["severity"] == "error"
    ]  # fmt: skip


def expected_errors(app):
    """(line, rule) for each line of the app marked `# expect: <rule>`."""
    lines = (TYPING / app).read_text().splitlines()
    return {(i, m.group(1)) for i, line in enumerate(lines, 1) if (m := re.search(r"# expect: (\w+)", line))}


def test_an_app_that_uses_the_api_right_type_checks_clean():
    assert basedpyright("good_app.py") == []


def test_an_app_that_uses_the_api_wrong_gets_exactly_its_errors():
    errors = basedpyright("bad_app.py")
    assert {(line, rule) for line, rule, _ in errors} == expected_errors("bad_app.py"), errors
    assert any('Cannot access attribute "tel" for class "ActorRef"' in m for _, _, m in errors)


def test_the_example_apps_run(tmp_path):
    # What the checker accepts also runs: the good app end to end under CPython.
    proc = subprocess.run(
        [sys.executable, str(TYPING / "good_app.py")], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, env={"PYTHONPATH": str(PACKAGE.parent)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "imu restarted 1 time(s); the ring kept 0 failure(s)"


def test_the_freeze_manifest_takes_no_stubs():
    # MicroPython's own manifest reader, from the source `make firmware` unpacks.
    tools = ROOT / "build" / "micropython-1.28.0" / "tools"
    if not (tools / "manifestfile.py").is_file():
        pytest.skip("MicroPython's source is not unpacked yet (make firmware does it)")
    sys.path.insert(0, str(tools))
    try:
        import manifestfile
    finally:
        sys.path.remove(str(tools))
    paths = {"MPY_DIR": str(tools.parent), "MPY_LIB_DIR": str(tools.parent / "lib" / "micropython-lib")}
    manifest = manifestfile.ManifestFile(manifestfile.MODE_FREEZE, paths)
    manifest.execute(str(ROOT / "firmware" / "manifest.py"))
    frozen = [f.target_path for f in manifest.files()]
    assert "cellex/system.py" in frozen
    assert [p for p in frozen if p.endswith(".pyi")] == []
