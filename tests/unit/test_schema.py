"""Typing key=value arguments for QMP with the recorded QEMU 7.2 schema."""

from __future__ import annotations

import pytest

from inorder.lang import optarg
from inorder.qemu.options import OPTIONS
from inorder.qemu.schema import parse_size


def typed(schema, option: str, text: str):
    """`-option text` as the arguments of its QMP command, typed by the schema."""
    spec = OPTIONS[option]
    keyval = spec.syntax == "keyval"
    pairs = [p for p, problem in optarg.split(text, spec.implied, keyval=keyval)]
    return schema.coerce_arguments(spec.qmp, optarg.nest(pairs, dotted=keyval))


# -- object-add -------------------------------------------------------------

def test_memory_backend_size_is_an_integer(schema):
    assert typed(schema, "object", "memory-backend-ram,id=m0,size=512M") == {
        "qom-type": "memory-backend-ram", "id": "m0", "size": 536870912}


@pytest.mark.parametrize("word, value", [("on", True), ("yes", True), ("true", True),
                                         ("off", False), ("no", False), ("false", False)])
def test_booleans_take_qemus_spellings(schema, word, value):
    args = typed(schema, "object", f"memory-backend-ram,id=m0,size=1M,share={word}")
    assert args["share"] is value


def test_a_string_that_does_not_convert_passes_through_for_qemu_to_refuse(schema):
    args = typed(schema, "object", "memory-backend-ram,id=m0,size=lots,share=maybe")
    assert args["size"] == "lots" and args["share"] == "maybe"


def test_an_unknown_member_passes_through_unchanged(schema):
    args = typed(schema, "object", "memory-backend-ram,id=m0,size=1M,bogus=1")
    assert args["bogus"] == "1"


def test_an_enum_stays_a_string(schema):
    args = typed(schema, "object", "memory-backend-ram,id=m0,size=1M,policy=bind")
    assert args["policy"] == "bind"


# -- netdev_add ---------------------------------------------------------------

def test_netdev_hostfwd_is_a_list_of_string_wrappers(schema):
    args = typed(schema, "netdev", "user,id=n0,hostfwd=tcp::2222-:22,ipv4=on,restrict=no")
    assert args == {"type": "user", "id": "n0", "hostfwd": [{"str": "tcp::2222-:22"}],
                    "ipv4": True, "restrict": False}


def test_a_repeated_hostfwd_gives_every_value_in_order(schema):
    args = typed(schema, "netdev", "user,id=n0,hostfwd=tcp::22-:22,hostfwd=tcp::80-:8080")
    assert args["hostfwd"] == [{"str": "tcp::22-:22"}, {"str": "tcp::80-:8080"}]


def test_a_repeated_scalar_takes_the_last_value(schema):
    args = typed(schema, "netdev", "user,id=n0,ipv4=on,ipv4=off")
    assert args["ipv4"] is False


# -- set-numa-node ------------------------------------------------------------

def test_numa_cpus_range_expands_to_a_list(schema):
    args = typed(schema, "numa", "node,nodeid=0,cpus=0-1")
    assert args == {"type": "node", "nodeid": 0, "cpus": [0, 1]}


def test_numa_repeated_cpus_are_joined(schema):
    assert typed(schema, "numa", "node,nodeid=1,cpus=0-1,cpus=3")["cpus"] == [0, 1, 3]


def test_numa_cpus_that_are_not_numbers_pass_through(schema):
    assert typed(schema, "numa", "node,cpus=a-b")["cpus"] == ["a-b"]


# -- blockdev-add -------------------------------------------------------------

def test_blockdev_nested_members_are_typed_through_the_flat_union(schema):
    args = typed(schema, "blockdev",
                 "driver=qcow2,node-name=d0,read-only=on,cache.direct=on,"
                 "file.driver=file,file.filename=/x.img,file.aio=threads")
    assert args == {"driver": "qcow2", "node-name": "d0", "read-only": True,
                    "cache": {"direct": True},
                    "file": {"driver": "file", "filename": "/x.img", "aio": "threads"}}


def test_blockdev_variant_members_are_typed_by_the_driver(schema):
    # 'lazy-refcounts' exists only in the qcow2 variant
    args = typed(schema, "blockdev", "driver=qcow2,node-name=d0,file=f0,lazy-refcounts=on")
    assert args["lazy-refcounts"] is True


def test_blockdev_reference_by_name_stays_a_string(schema):
    # file= is an alternate of an inline definition and a node name
    args = typed(schema, "blockdev", "driver=qcow2,node-name=d0,file=f0")
    assert args["file"] == "f0"


# -- what the schema does not know ---------------------------------------------

def test_an_unknown_command_only_loses_repeats(schema):
    assert schema.coerce_arguments("no-such-command", {"a": optarg.Many(["1", "2"]), "b": "x"}) \
        == {"a": "2", "b": "x"}


def test_has_command_knows_commands_from_types(schema):
    assert schema.has_command("object-add")
    assert schema.has_command("set-numa-node")
    assert not schema.has_command("no-such-command")
    assert not schema.has_command("MemoryBackendProperties")


# -- parse_size -----------------------------------------------------------------

@pytest.mark.parametrize("text, size", [
    ("4096", 4096), ("0x1000", 4096), ("512M", 512 << 20), ("512m", 512 << 20),
    ("1G", 1 << 30), ("2T", 2 << 40), ("1b", 1), ("3 K", 3 << 10), ("  64m ", 64 << 20),
    ("1.5G", 3 << 29), ("0.5k", 512), ("1E", 1 << 60)])
def test_parse_size_takes_1024_based_suffixes_and_fractions(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "k", "lots", "1.5", "1.5x", "12Q"])
def test_parse_size_refuses_what_is_not_a_size(text):
    # a fraction needs a suffix
    assert parse_size(text) is None

