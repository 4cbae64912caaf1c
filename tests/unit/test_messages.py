"""Reading QEMU's own words back: `-h`, error messages (inorder.qemu.messages)."""

from __future__ import annotations

import pytest

from inorder.qemu.messages import help_arity, named_key, refused_option, unquoted_option
from inorder.qemu.options import EXTRA_OPTIONS


@pytest.fixture(scope="module")
def arity(help_text):
    return help_arity(help_text)


@pytest.mark.parametrize("option", ["m", "smp", "device", "netdev", "object", "machine",
                                    "drive", "dtb", "k", "readconfig", "accel", "qmp",
                                    "watchdog-action"])
def test_options_shown_with_an_argument_take_one(arity, option):
    assert arity[option] is True


@pytest.mark.parametrize("option", ["S", "nodefaults", "daemonize", "version", "nographic",
                                    "enable-kvm", "audio-help", "no-user-config",
                                    "only-migratable", "enable-sync-profile",
                                    "async-teardown", "win2k-hack"])
def test_options_shown_without_an_argument_take_none(arity, option):
    assert arity[option] is False


def test_slash_separated_options_share_their_arity(arity):
    # "-fda/-fdb file", "-hda/-hdb file"
    assert arity["fda"] is arity["fdb"] is True
    assert arity["hda"] is arity["hdb"] is True


def test_lines_that_are_not_options_are_ignored(arity):
    assert all(name and not name.startswith("-") for name in arity)
    assert "QEMU" not in arity and "" not in arity


def test_the_recorded_profile_is_help_arity_plus_the_extra_options(arity, recorded):
    # the probe keeps what -h says and adds what -h hides
    assert {**arity, **EXTRA_OPTIONS} == recorded["options"]


def test_help_arity_of_synthetic_lines():
    text = ("-a              no argument, description at column 16\n"
            "-bb file        an argument\n"
            "-cc x           \n"
            "-long-name-with-arg value description\n"
            "   -indented is not an option\n")
    assert help_arity(text) == {"a": False, "bb": True, "cc": True,
                                "long-name-with-arg": True}


def test_named_key_finds_the_parameter_or_property():
    assert named_key("Parameter 'size' expects a non-negative number below 2^64") == "size"
    assert named_key("Property 'virtio-net-pci.netdve' not found") == "virtio-net-pci.netdve"
    assert named_key("property 'x' is read-only") == "x"
    assert named_key("Device 'foo' not found") is None


def test_refused_option_is_the_message_after_the_option_as_written():
    line = "qemu-system-x86_64: -object memory-backend-ram,id=m0: Parameter 'size' is missing"
    assert refused_option(line, ["-object", "memory-backend-ram,id=m0"]) == \
        "Parameter 'size' is missing"


def test_refused_option_is_none_for_another_option():
    line = "qemu-system-x86_64: -device e1000: Bus 'x' not found"
    assert refused_option(line, ["-object", "iothread,id=io0"]) is None
    # a prefix of the option's words is not the option
    assert refused_option("qemu-system-x86_64: -device e1000,id=a: x", ["-device", "e1000"]) is None


def test_a_refusal_that_names_no_option_is_about_one():
    assert unquoted_option("qemu-system-aarch64: unsupported machine type") == ("-machine", "-M")
    assert unquoted_option("qemu-system-x86_64: unable to find CPU model 'x'") == ("-cpu",)
    assert unquoted_option("qemu-system-x86_64: -m 2X: Parameter 'size' expects ...") == ()
