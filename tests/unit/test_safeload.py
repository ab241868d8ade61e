"""The safe loader on every class of malformed input issue 14 found, and its line numbers against
PyYAML's own composer on the shipped environments."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import safeload
from gitops.errors import GitopsError
from gitops.yamlmarks import YamlSyntaxError, load_yaml
from safeload import Limits, LoadError, load_json_bytes, load_yaml_bytes

REPO = Path(__file__).resolve().parents[2]


def refused(data: bytes, limits: Limits = safeload.DEFAULT_LIMITS) -> LoadError:
    with pytest.raises(LoadError) as err:
        load_yaml_bytes(data, "env/x.yml", limits)
    return err.value


def _laughs(levels: int) -> bytes:
    rows = [b'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = b",".join(b"*l%d" % (i - 1) for _ in range(9))
        rows.append(b"l%d: &l%d [%s]" % (i, i, refs))
    return b"\n".join(rows) + b"\n"


# (case, file bytes, expected line, expected column, words the message must contain)
BAD_INPUTS: list[tuple[str, bytes, int, int, list[str]]] = [
    ("latin-1", "name: caf\xe9\n".encode("latin-1"), 1, 10, ["not valid UTF-8", "0xe9", "Latin-1", "UTF-8"]),
    (
        "cp1252 on line 3",
        "a: 1\nb: 2\nquote: \u201cx\u201d\n".encode("cp1252"),
        3,
        8,
        ["not valid UTF-8", "0x93", "Windows-1252", "column 8"],
    ),
    ("NUL", b"name: shop\nauth_mode: k\x00ey\n", 2, 13, ["NUL", "U+0000", "remove it"]),
    ("escape", b"name: \x1b[31mshop\n", 1, 7, ["ESC", "U+001B"]),
    ("C1 control", "name: a\x85b\x90\n".encode(), 1, 10, ["U+0090"]),
    ("gzip", gzip.compress(b"name: shop\n"), 1, 1, ["not a text file", "gzip"]),
    ("binary", bytes(range(256)) * 4, 1, 1, ["not a text file", "binary"]),
    ("utf-16", "name: shop\n".encode("utf-16"), 1, 1, ["UTF-16", "UTF-8"]),
    (
        "duplicate block key",
        b"name: shop\ntraffic:\n  blue: 100\ntraffic:\n  green: 100\n",
        4,
        1,
        ["duplicate key 'traffic'", "first at line 2"],
    ),
    (
        "duplicate flow key",
        b"name: shop\ntraffic: {blue: 1, blue: 2}\n",
        2,
        20,
        ["duplicate key 'blue'", "first at line 2"],
    ),
    (
        "duplicate nested key",
        b"model:\n  name: m\n  path:\n    a: 1\n    b: 2\n    a: 3\n",
        6,
        5,
        ["duplicate key 'a'", "first at line 4"],
    ),
    (
        "duplicate key inside a list item",
        b"steps:\n- weight: 10\n  duration: 5m\n  weight: 20\n",
        4,
        3,
        ["duplicate key 'weight'", "first at line 2"],
    ),
    ("same int key spelt twice", b"1: a\n01: b\n", 2, 1, ["duplicate key '01'", "first at line 1"]),
    ("self-referencing alias", b"a: &x\n  b: *x\n", 2, 6, ["alias *x refers to its own anchor &x (line 1)"]),
    ("self-referencing flow alias", b"a: &x [1, *x]\n", 1, 11, ["refers to its own anchor"]),
    ("billion laughs", _laughs(9), 6, 10, ["expands to more than 100000 nodes", "billion laughs"]),
    ("deep block nesting", b"- " * 100 + b"x\n", 1, 129, ["nested deeper than 64 levels"]),
    ("deep flow nesting", b"a: " + b"[" * 200 + b"]" * 200 + b"\n", 1, 67, ["nested deeper than 64 levels"]),
    (
        "deep through an alias",
        b"deep: &d "
        + b"[" * 40
        + b"]" * 40
        + b"\nuse:\n"
        + b"".join(b"  " * i + b"k:\n" for i in range(1, 30))
        + b"  " * 30
        + b"v: *d\n",
        32,
        64,
        ["nested deeper than 64 levels (aliases expanded)"],
    ),
    (
        "template placeholder",
        b"name: {{ENDPOINT_NAME}}\nauth_mode: key\n",
        1,
        8,
        ["template placeholder ({{ENDPOINT_NAME}})", "render the template before committing"],
    ),
    (
        "placeholder in a syntax error",
        b'name: shop\ndescription: "{{ TEXT }}" {{ MORE }}\n',
        2,
        27,
        ["invalid YAML", "did not find expected key", "template placeholder ({{ TEXT }})"],
    ),
    ("placeholder as a key", b"a: 1\n{{KEY}}: 2\n", 2, 2, ["template placeholder ({{KEY}})"]),
    (
        "placeholder with text after it",
        b"a: 1\nname: {{ENDPOINT_NAME}}-blue\n",
        2,
        8,
        ["template placeholder ({{ENDPOINT_NAME}})"],
    ),
    ("two documents", b"a: 1\n---\nb: 2\n", 2, 1, ["single document", "line 1", "another document"]),
    ("undefined alias", b"a: *nope\n", 1, 4, ["undefined alias 'nope'"]),
    ("bad indentation", b"a:\n  b: 1\n c: 2\n", 3, 2, ["invalid YAML"]),
]


@pytest.mark.parametrize(
    ("case", "data", "line", "column", "words"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_one_located_error(
    case: str, data: bytes, line: int, column: int, words: list[str]
) -> None:
    err = refused(data)
    assert (err.line, err.column) == (line, column), str(err)
    for word in words:
        assert word in err.message, str(err)
    assert str(err).startswith(f"env/x.yml:{line}:{column}: ")


def test_billion_laughs_stops_within_a_bounded_number_of_nodes() -> None:
    budget = 1000
    err = refused(_laughs(9), Limits(max_nodes=budget))
    # An alias is charged what it expands to, and anything anchored already fitted the budget:
    # loading stops at most one alias past it, never after expanding 9**9 strings.
    assert budget < err.nodes <= 2 * budget


def test_aliases_within_the_budget_still_work() -> None:
    loaded = load_yaml_bytes(_laughs(3), "x.yml")
    assert len(loaded.data["l2"]) == 9
    assert loaded.data["l2"][0] == loaded.data["l1"]


def test_merge_keys_override_without_a_duplicate_error() -> None:
    loaded = load_yaml_bytes(b"base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\n", "x.yml")
    assert loaded.data["c"] == {"x": 3, "y": 2}
    assert loaded.line("c", "x") == 4


def test_utf8_bom_is_accepted() -> None:
    loaded = load_yaml_bytes(b"\xef\xbb\xbfname: shop\nauth_mode: key\n", "x.yml")
    assert loaded.data == {"name": "shop", "auth_mode": "key"}
    assert loaded.line("auth_mode") == 2


def test_tab_cr_and_lf_are_allowed() -> None:
    loaded = load_yaml_bytes(b"name: shop\r\ndescription: 'a\tb'\r\n", "x.yml")
    assert loaded.data == {"name": "shop", "description": "a\tb"}


def test_an_empty_file_is_no_document() -> None:
    assert load_yaml_bytes(b"", "x.yml").data is None


def test_size_cap_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "blue.yml"
    big.write_bytes(b"a: " + b"x" * 5_000_000 + b"\n")

    def never(*_: Any) -> str:
        raise AssertionError("the file was decoded")

    monkeypatch.setattr("safeload.yaml_loader.decode_text", never)
    with pytest.raises(LoadError) as err:
        safeload.load_yaml_file(big)
    assert (err.value.line, err.value.column) == (1, 0)
    assert "file is 5.0 MB, over the 1.0 MB limit" in err.value.message
    assert "4 MB" in err.value.message


def test_size_cap_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    path.write_bytes(b"name: shop\n")
    with pytest.raises(LoadError, match="over the 5 bytes limit"):
        safeload.load_yaml_file(path, Limits(max_bytes=5))
    assert safeload.load_yaml_file(path, Limits(max_bytes=11)).data == {"name": "shop"}


def test_unreadable_file_stays_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        safeload.load_yaml_file(tmp_path / "missing.yml")


# ------------------------------------------------------------------------------------------ JSON
BAD_JSON: list[tuple[str, bytes, int, list[str]]] = [
    (
        "duplicate key",
        b'{\n  "env": "dev",\n  "env": "prod"\n}\n',
        3,
        ["duplicate key 'env'", "first at line 2"],
    ),
    ("syntax", b'{\n  "env": "dev",\n}\n', 3, ["invalid JSON"]),
    ("latin-1", '{"env": "d\xe9v"}'.encode("latin-1"), 1, ["not valid UTF-8"]),
    ("gzip", gzip.compress(b"{}"), 1, ["not a text file"]),
    ("nesting", b"[" * 100_000 + b"]" * 100_000, 1, ["nested too deeply"]),
]


@pytest.mark.parametrize(("case", "data", "line", "words"), BAD_JSON, ids=[c[0] for c in BAD_JSON])
def test_bad_json_is_one_located_error(case: str, data: bytes, line: int, words: list[str]) -> None:
    with pytest.raises(LoadError) as err:
        load_json_bytes(data, "plan.json")
    assert err.value.line == line, str(err.value)
    for word in words:
        assert word in err.value.message


def test_json_with_bom_loads() -> None:
    assert load_json_bytes(b'\xef\xbb\xbf{"a": [1, 2]}', "plan.json") == {"a": [1, 2]}


def test_saved_plan_errors_name_the_file(tmp_path: Path) -> None:
    from gitops.commands import _read_saved_plan

    plan = tmp_path / "plan.json"
    plan.write_bytes(b'{"format_version": 1,\n "format_version": 2}\n')
    with pytest.raises(GitopsError, match=r"plan\.json:2: cannot read plan \(duplicate key 'format_version'"):
        _read_saved_plan(str(plan))
    plan.write_text("[]")
    with pytest.raises(GitopsError, match="cannot read plan"):
        _read_saved_plan(str(plan))


# ----------------------------------------------------------------------------------- the adapters
def test_yamlmarks_turns_a_load_error_into_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "endpoint.yml"
    path.write_bytes(b"name: shop\nname: other\n")
    with pytest.raises(YamlSyntaxError) as err:
        load_yaml(path)
    diag = err.value.diagnostic
    assert (diag.line, diag.file.endswith("endpoint.yml")) == (2, True)
    assert diag.message.startswith("duplicate key 'name' (first at line 1)")


def test_stack_file_errors_have_file_and_line(tmp_path: Path) -> None:
    from mlplatform.config import ConfigError, load_stack_file

    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_bytes(b"config:\n  mlplatform:location: westeurope\n  mlplatform:location: northeurope\n")
    with pytest.raises(ConfigError, match=r"^Pulumi\.dev\.yaml:3:3: duplicate key 'mlplatform:location'"):
        load_stack_file(stack)


# ------------------------------------------------------------------------- the same lines as before
def _compose_lines(node: yaml.Node, prefix: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    # What the loader replaced did: PyYAML's pure-Python composer, first occurrence of each path.
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out.setdefault((*prefix, key.value), key.start_mark.line + 1)
            _compose_lines(value, (*prefix, key.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.setdefault((*prefix, i), item.start_mark.line + 1)
            _compose_lines(item, (*prefix, i), out)


SHIPPED = sorted(
    [*(REPO / "environments").rglob("*.yml"), *(REPO / "environments").rglob("*.yaml")]
) + sorted(REPO.glob("Pulumi*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(REPO)) for p in SHIPPED])
def test_lines_and_data_match_pyyaml_on_shipped_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected: dict[tuple[Any, ...], int] = {}
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is not None:
        _compose_lines(node, (), expected)
    loaded = safeload.load_yaml_file(path)
    assert loaded.lines == expected
    assert loaded.data == yaml.safe_load(text)


def test_shipped_files_exist_and_libyaml_is_used() -> None:
    assert len(SHIPPED) >= 19
    assert safeload.uses_libyaml() == hasattr(yaml, "CSafeLoader")


def test_json_round_trip_of_a_written_plan(tmp_path: Path) -> None:
    body = {"format_version": 3, "actions": [{"kind": "create", "diff": []}], "notes": ["é"]}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    assert safeload.load_json_file(path) == body
