"""What is kept between runs is data, the user's own, and never half-written
(inorder.cache, kept plans, the grammar's tables)."""

from __future__ import annotations

import json
import os

import pytest

from inorder import cache
from inorder.lang import grammar
from inorder.lang.parse import parse_file
from inorder.plan import kept
from inorder.plan.data import from_data, to_data
from inorder.plan.planner import plan


def test_the_cache_directory_is_created_private(private_cache):
    cache.write_json(str(private_cache / "plans" / "x.json"), {"a": 1})
    assert oct(os.stat(private_cache).st_mode & 0o777) == "0o700"
    assert oct(os.stat(private_cache / "plans").st_mode & 0o777) == "0o700"
    assert oct(os.stat(private_cache / "plans" / "x.json").st_mode & 0o777) == "0o600"
    assert cache.read_json(str(private_cache / "plans" / "x.json")) == {"a": 1}


def test_a_file_others_may_write_is_not_trusted(private_cache):
    path = private_cache / "x.json"
    cache.write_json(str(path), {"a": 1})
    os.chmod(path, 0o666)
    assert cache.read_json(str(path)) is None


def test_a_file_in_a_folder_others_may_write_is_not_trusted(private_cache):
    path = private_cache / "x.json"
    cache.write_json(str(path), {"a": 1})
    os.chmod(private_cache, 0o777)
    assert cache.read_json(str(path)) is None


def test_a_file_of_another_user_is_not_trusted(private_cache):
    path = private_cache / "x.json"
    cache.write_json(str(path), {"a": 1})
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file away")  # CI runs as root
    os.chown(path, 65534, 65534)
    assert cache.read_json(str(path)) is None


def test_a_symlink_is_not_followed(private_cache, tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text('{"a": 1}')
    private_cache.mkdir(mode=0o700)
    os.symlink(target, private_cache / "x.json")
    assert cache.read_json(str(private_cache / "x.json")) is None


def test_no_temporary_file_is_left_behind(private_cache):
    cache.write_json(str(private_cache / "x.json"), {"a": 1})
    assert sorted(os.listdir(private_cache)) == ["x.json"]


def test_a_kept_plan_is_json_with_its_key_and_files(write, profile, private_cache):
    script = write("vm.qcmd", "-nodefaults", "-m 256M", "-netdev user,id=n0",
                   "qom-set path=/machine property=dump-guest-core value=true")
    files = []
    p = plan(parse_file(script, files=files), profile)
    k = kept.key("in-order script", [script], profile)
    kept.store(k, p, files)
    [name] = os.listdir(private_cache / "plans")
    stored = json.loads((private_cache / "plans" / name).read_text())
    assert stored["key"] == k and stored["files"][0][0] == os.path.abspath(script)
    assert from_data(stored["plan"]).to_json() == p.to_json()


def test_the_key_changes_with_the_working_directory(profile, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    here = kept.key("in-order argv", ["-readconfig", "vm.cfg"], profile)
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path / "other")
    assert kept.key("in-order argv", ["-readconfig", "vm.cfg"], profile) != here


def test_a_kept_plan_of_another_format_is_rebuilt(write, profile, private_cache):
    script = write("vm.qcmd", "-nodefaults", "-m 256M")
    files = []
    p = plan(parse_file(script, files=files), profile)
    k = kept.key("in-order script", [script], profile)
    kept.store(k, p, files)
    [name] = os.listdir(private_cache / "plans")
    path = private_cache / "plans" / name
    stored = json.loads(path.read_text())
    stored["plan"]["steps"][0]["phase"] = "not a phase"
    path.write_text(json.dumps(stored))
    assert kept.load(k) is None
    stored["plan"] = {"format": 99}
    path.write_text(json.dumps(stored))
    assert kept.load(k) is None


def test_errors_located_by_a_kept_plan_show_the_line(write, profile):
    script = write("vm.qcmd", "-nodefaults", "include inc.qcmd")
    write("inc.qcmd", "-object memory-backend-ram,id=m0,size=64M")
    again = from_data(json.loads(json.dumps(to_data(plan(parse_file(script), profile,
                                                         feed=True)))))
    [step] = [s for s in again.steps if s.execute == "object-add"]
    loc = step.command.arg_at(step.pairs[-1].offset, 7)
    assert str(loc).endswith("inc.qcmd:1:34")
    assert "size=64M" in loc.snippet()
    assert str(loc.source.included_from).endswith("vm.qcmd:2:9")


def test_the_grammars_tables_are_kept_as_json(private_cache):
    grammar.parser.cache_clear()
    first = grammar.parser()
    [name] = [n for n in os.listdir(private_cache) if n.startswith("grammar-")]
    assert name.endswith(".json")
    json.loads((private_cache / name).read_text())
    grammar.parser.cache_clear()
    again = grammar.parser()                  # from the kept tables
    text = '-machine q35\nqom-set path=/machine property=x value=1\n-device {"driver": "x"}\n'
    assert again is not first and again.parse(text) == first.parse(text)
    (private_cache / name).write_text('{"data": 1}')
    grammar.parser.cache_clear()
    assert grammar.parser().parse(text) == first.parse(text)   # damaged: built again
    grammar.parser.cache_clear()


def test_a_relative_cache_directory_is_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INORDER_CACHE", "relcache")
    cache.write_json("relcache/plans/x.json", {"a": 1})
    assert cache.read_json("relcache/plans/x.json") == {"a": 1}
