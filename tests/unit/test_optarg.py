"""QEMU's key=value option syntax: QemuOpts and keyval (inorder.lang.optarg)."""

from __future__ import annotations

from inorder.lang import optarg
from inorder.lang.optarg import Many, Pair


def pairs(text, implied=None, keyval=False):
    """The pairs of `text`, asserting that none has a problem."""
    out = optarg.split(text, implied, keyval=keyval)
    assert [problem for _, problem in out] == [None] * len(out), out
    return [p for p, _ in out]


def items(text, implied=None, keyval=False):
    return [(p.key, p.value) for p in pairs(text, implied, keyval)]


def problems(text, implied=None, keyval=False):
    return [(p.key, problem) for p, problem in optarg.split(text, implied, keyval=keyval)
            if problem]


# -- split ----------------------------------------------------------------

def test_the_first_element_without_equals_is_the_implied_key():
    assert items("virtio-net-pci,netdev=n0,id=nic0", "driver") == [
        ("driver", "virtio-net-pci"), ("netdev", "n0"), ("id", "nic0")]
    [first, *_] = pairs("virtio-net-pci,netdev=n0", "driver")
    assert first.implied
    assert not pairs("driver=virtio-net-pci", "driver")[0].implied


def test_the_implied_key_applies_only_to_the_first_element():
    # a later bare word is a flag, not another implied value
    assert items("virtio-net-pci,mq", "driver") == [("driver", "virtio-net-pci"), ("mq", "on")]


def test_a_first_element_with_equals_names_its_key():
    assert items("id=nic0,driver=e1000", "driver") == [("id", "nic0"), ("driver", "e1000")]


def test_double_comma_is_a_literal_comma():
    assert items("file=a,,b.img,if=none") == [("file", "a,b.img"), ("if", "none")]
    assert items("a,,b,c=d,,e", "driver") == [("driver", "a,b"), ("c", "d,e")]
    # ',,,' is a comma then the separator; a final ',,' a comma
    assert items("a=1,,,b=2") == [("a", "1,"), ("b", "2")]
    assert items("a=1,,") == [("a", "1,")]


def test_equals_inside_a_value_belongs_to_the_value():
    assert items("append=console=ttyS0") == [("append", "console=ttyS0")]


def test_qemuopts_bare_name_is_on_and_no_prefix_is_off():
    assert items("x,foo,nobar", "driver") == [("driver", "x"), ("foo", "on"), ("bar", "off")]
    assert items("foo") == [("foo", "on")]
    assert items("nofoo") == [("foo", "off")]


def test_keyval_bare_name_is_an_error_not_a_flag():
    assert problems("x,foo", "qom-type", keyval=True) == [
        ("foo", "expected '=' after parameter 'foo'")]
    assert problems("driver=file,filename", keyval=True) == [
        ("filename", "expected '=' after parameter 'filename'")]
    # ... but the implied first element is still allowed
    assert items("iothread,id=io0", "qom-type", keyval=True) == [
        ("qom-type", "iothread"), ("id", "io0")]


def test_empty_parameter_name_is_a_problem():
    assert problems("a=1,=2") == [("", "empty parameter name")]
    assert problems("=1", "driver") == [("", "empty parameter name")]


def test_an_empty_leading_element_is_a_problem_without_an_implied_key():
    assert [problem for _, problem in optarg.split(",a=1", None)] == ["empty parameter", None]
    # with one, it is the implied key's empty value
    assert items(",id=x", "driver") == [("driver", ""), ("id", "x")]


def test_a_trailing_comma_is_allowed():
    assert items("iothread,id=io_0,", "qom-type", keyval=True) == [
        ("qom-type", "iothread"), ("id", "io_0")]
    assert items("a=1,") == [("a", "1")]


def test_offsets_point_at_each_key_and_value():
    text = "virtio-net-pci,netdev=n0,id=nic0"
    ps = pairs(text, "driver")
    assert [p.offset for p in ps] == [0, 15, 25]
    assert [p.value_offset for p in ps] == [0, 22, 28]
    for p in ps:
        assert text[p.value_offset:p.value_offset + len(p.value)] == p.value
        if not p.implied:
            assert text[p.offset:p.offset + len(p.key)] == p.key


def test_offsets_stay_right_after_an_escaped_comma():
    text = "file=a,,b,if=none"
    [f, i] = pairs(text)
    assert (f.value, f.value_offset) == ("a,b", 5)
    assert (i.offset, i.value_offset) == (10, 13)
    assert text[i.value_offset:] == "none"


def test_offset_of_a_problem_points_at_the_bad_key():
    text = "driver=file,filename"
    [(_, _), (bad, problem)] = optarg.split(text, None, keyval=True)
    assert problem and text[bad.offset:] == "filename"


# -- nest -------------------------------------------------------------------

def test_keyval_dotted_keys_nest():
    ps = pairs("driver=qcow2,file.driver=file,file.filename=/x.img", keyval=True)
    assert optarg.nest(ps, dotted=True) == {
        "driver": "qcow2", "file": {"driver": "file", "filename": "/x.img"}}


def test_qemuopts_dotted_keys_stay_flat():
    ps = pairs("virtio-net-pci,a.b=1", "driver")
    assert optarg.nest(ps, dotted=False) == {"driver": "virtio-net-pci", "a.b": "1"}


def test_keyval_numeric_keys_become_lists():
    ps = pairs("a.0=x,a.1=y,b.1=q,b.0=p", keyval=True)
    assert optarg.nest(ps, dotted=True) == {"a": ["x", "y"], "b": ["p", "q"]}


def test_keyval_numeric_keys_with_a_gap_stay_an_object():
    ps = pairs("b.0=z,b.2=q", keyval=True)
    assert optarg.nest(ps, dotted=True) == {"b": {"0": "z", "2": "q"}}


def test_a_repeated_key_becomes_many():
    ps = pairs("node,cpus=0-1,cpus=3,cpus=5", "type")
    nested = optarg.nest(ps, dotted=False)
    assert isinstance(nested["cpus"], Many)
    assert nested["cpus"] == ["0-1", "3", "5"]
    assert nested["type"] == "node" and not isinstance(nested["type"], Many)


# -- get and plain ------------------------------------------------------------

def test_get_returns_the_last_pair_for_a_key():
    ps = pairs("id=a,x=1,id=b")
    assert optarg.get(ps, "id").value == "b"
    assert optarg.get(ps, "id").offset == 9
    assert optarg.get(ps, "nope") is None


def test_plain_takes_the_last_of_a_repeated_key():
    nested = optarg.nest(pairs("node,cpus=0-1,cpus=3", "type"), dotted=False)
    assert optarg.plain(nested) == {"type": "node", "cpus": "3"}


def test_plain_reaches_into_nested_objects_and_lists():
    value = {"a": {"b": Many(["1", "2"])}, "c": [Many(["x", "y"]), "z"], "d": "e"}
    assert optarg.plain(value) == {"a": {"b": "2"}, "c": ["y", "z"], "d": "e"}
    assert optarg.plain("s") == "s"


def test_pair_repr_shows_its_parts():
    assert repr(Pair("id", "n0", 3)) == "Pair('id', 'n0', 3, False)"
