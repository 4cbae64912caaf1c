"""Commands -> plan, against the recorded QEMU 7.2 profile (inorder.plan.planner)."""

from __future__ import annotations

import json

import pytest

from inorder.errors import ScriptError
from inorder.lang.argv import parse_argv
from inorder.lang.parse import parse_file
from inorder.plan.data import from_data, to_data
from inorder.plan.planner import plan
from inorder.qemu.options import JSON_OPTIONS
from inorder.qemu.phase import Phase


@pytest.fixture
def planned(write, profile):
    """Plan a script of these lines (vm.qcmd)."""
    def planned(*lines, compat=False, feed=False):
        return plan(parse_file(write("vm.qcmd", *lines)), profile, compat=compat, feed=feed)
    return planned


@pytest.fixture
def refused(planned):
    """The ScriptError planning these lines raises."""
    def refused(*lines, **kw):
        with pytest.raises(ScriptError) as e:
            planned(*lines, **kw)
        return e.value
    return refused


@pytest.fixture
def planned_argv(profile):
    def planned_argv(*argv, compat=False, feed=False):
        return plan(parse_argv(list(argv), profile.options, JSON_OPTIONS), profile,
                    compat=compat, feed=feed)
    return planned_argv


def at(loc) -> str:
    """A location as line:column."""
    return f"{loc.line}:{loc.column}"


def summary(p):
    """Each step as (channel, phase, what it runs)."""
    return [(s.channel, str(s.phase), s.execute if s.channel == "qmp" else " ".join(s.argv))
            for s in p.steps]


def qmp(p):
    return [s.execute for s in p.qmp_steps]


# -- argv and QMP -------------------------------------------------------------------

def test_argv_only_options_land_on_argv_at_startup(planned):
    p = planned("-nodefaults", "-m 256M", "-smp 2", "-name guest=vm")
    assert [s.argv for s in p.argv_steps] == [["-nodefaults"], ["-m", "256M"], ["-smp", "2"],
                                              ["-name", "guest=vm"]]
    assert all(s.phase == Phase.STARTUP for s in p.argv_steps)
    assert p.argv() == ["-nodefaults", "-m", "256M", "-smp", "2", "-name", "guest=vm"]
    assert p.steps[1].why == "only QEMU's argv can set it"
    assert str(p.steps[1].command.loc).endswith("vm.qcmd:2:1")


def test_backends_are_qmp_steps_in_preconfig_with_feed(planned):
    p = planned("-nodefaults", "-object iothread,id=io0", "-netdev user,id=n0",
                "-blockdev driver=null-co,node-name=d0,size=1M",
                "-device virtio-net-pci,netdev=n0", feed=True)
    assert summary(p) == [
        ("argv", "startup", "-nodefaults"),
        ("qmp", "preconfig", "object-add"),
        ("qmp", "preconfig", "netdev_add"),
        ("qmp", "preconfig", "blockdev-add"),
        ("argv", "startup", "-device virtio-net-pci,netdev=n0"),
        ("qmp", "preconfig", "x-exit-preconfig"),
        ("qmp", "machine-ready", "cont"),
    ]
    assert p.preconfig is True and p.final == Phase.RUNNING
    # key=value arguments typed by the schema
    assert p.steps[3].arguments == {"driver": "null-co", "node-name": "d0", "size": 1 << 20}
    assert p.steps[1].why == "object-add at its position"
    # the advances are the plan's, not the script's
    assert [s.synthetic for s in p.qmp_steps] == [False, False, False, True, True]
    # still direct: QEMU given the whole argv would build the same VM
    assert p.direct


def test_a_qmp_command_keeps_backends_on_qmp(planned):
    p = planned("-nodefaults", "-object iothread,id=io0",
                "qom-set path=/machine property=dump-guest-core value=true")
    assert not p.direct and p.direct_argv is None
    assert qmp(p) == ["object-add", "qom-set", "x-exit-preconfig", "cont"]
    assert [str(s.phase) for s in p.qmp_steps] == ["preconfig"] * 3 + ["machine-ready"]
    assert p.qmp_steps[1].arguments == {"path": "/machine", "property": "dump-guest-core",
                                        "value": True}


def test_a_direct_plan_puts_its_backends_on_argv(planned):
    p = planned("-nodefaults", "-object iothread,id=io0", "-netdev user,id=n0",
                "-device virtio-net-pci,netdev=n0")
    assert p.direct
    assert qmp(p) == ["cont"]
    assert p.preconfig is False
    assert p.argv() == ["-nodefaults", "-object", "iothread,id=io0", "-netdev", "user,id=n0",
                        "-device", "virtio-net-pci,netdev=n0"]
    assert p.direct_argv == p.argv()
    assert "nothing needs the feed" in p.steps[1].why


def test_a_command_that_may_run_now_never_advances_the_phase(planned):
    # -object goes over QMP in preconfig (with feed), yet -m after it is fine
    p = planned("-nodefaults", "-object iothread,id=io0", "-m 256M",
                "-device virtio-rng-pci", "-smp 1", feed=True)
    assert [(s.channel, s.execute or s.argv[0]) for s in p.steps][1:] == [
        ("qmp", "object-add"), ("argv", "-m"), ("argv", "-device"), ("argv", "-smp"),
        ("qmp", "x-exit-preconfig"), ("qmp", "cont")]


@pytest.mark.parametrize("lines, direct", [
    (["-object iothread,id=io0", "-netdev user,id=n0",
      "-device virtio-net-pci,netdev=n0", "-numa node,nodeid=0"], True),
    (["-m 256M", "qom-set path=/machine property=dump-guest-core value=true"], False),
    (["x-exit-preconfig", "-device virtio-rng-pci"], False),
    # against QEMU's creation order: an early object naming a late one
    (["-object memory-backend-ram,id=m0,size=64M", "-object secret,id=s0,data=x,keyid=m0"],
     False),
])
def test_a_plan_is_direct_only_when_argv_means_the_same(planned, lines, direct):
    p = planned(*lines)
    assert p.direct is direct
    if direct:
        assert qmp(p) == ["cont"]


def test_numa_is_set_numa_node_in_preconfig(planned):
    p = planned("-nodefaults", "-smp 2", "-numa node,nodeid=0,cpus=0-1",
                "qom-set path=/machine property=dump-guest-core value=true")
    [numa] = [s for s in p.qmp_steps if s.execute == "set-numa-node"]
    assert numa.phase == Phase.PRECONFIG
    assert numa.arguments == {"type": "node", "nodeid": 0, "cpus": [0, 1]}


# -- hot plug ------------------------------------------------------------------------

def test_a_device_after_x_exit_preconfig_is_a_hot_plug(planned):
    p = planned("-nodefaults", "x-exit-preconfig", "-device virtio-rng-pci,id=r0")
    [plug] = [s for s in p.steps if s.execute == "device_add"]
    assert plug.channel == "qmp" and plug.phase == Phase.MACHINE_READY
    assert plug.arguments == {"driver": "virtio-rng-pci", "id": "r0"}
    assert plug.why == "hot plug: the machine is already built"
    [note] = plug.notes
    assert at(note.location) == "2:1" and "put the device above it to cold-plug it" in note.message
    # the script's own x-exit-preconfig is not an implicit step
    assert [(s.execute, s.synthetic) for s in p.qmp_steps] == [
        ("x-exit-preconfig", False), ("device_add", False), ("cont", True)]


def test_a_device_before_x_exit_preconfig_is_cold_plugged(planned):
    p = planned("-nodefaults", "-device virtio-rng-pci,id=r0", "x-exit-preconfig")
    assert p.steps[1].channel == "argv" and p.steps[1].argv == ["-device", "virtio-rng-pci,id=r0"]
    assert "device_add" not in qmp(p)


def test_a_qom_set_on_a_cold_device_waits_for_machine_ready(planned):
    p = planned("-nodefaults", "-device virtio-rng-pci,id=r0",
                "qom-set path=/machine/peripheral/r0 property=max-bytes value=1")
    assert [(s.execute, str(s.phase)) for s in p.qmp_steps] == [
        ("qom-set", "machine-ready"), ("cont", "machine-ready")]
    # nothing runs in preconfig: QEMU starts in machine-ready, nothing to exit
    assert p.preconfig is False
    # on the machine itself, the same command runs in preconfig
    p = planned("-nodefaults", "-device virtio-rng-pci,id=r0",
                "qom-set path=/machine property=dump-guest-core value=false")
    assert [(s.execute, str(s.phase)) for s in p.qmp_steps][0] == ("qom-set", "preconfig")


# -- references --------------------------------------------------------------------------

def test_a_forward_reference_is_an_error_with_the_fix(refused):
    e = refused("-nodefaults", "-device virtio-net-pci,netdev=n1", "-netdev user,id=n1")
    assert e.message == "netdev 'n1' is used before it is defined"
    assert at(e.location) == "2:31" and e.location.length == 2
    [note] = e.notes
    assert at(note.location) == "3:1"
    assert note.message == "'n1' is defined here; move that line above line 2"


def test_a_forward_reference_in_compat_mode_is_a_warning(planned):
    p = planned("-nodefaults", "-device virtio-net-pci,netdev=n1", "-netdev user,id=n1",
                compat=True)
    [(loc, message)] = p.warnings
    assert at(loc) == "2:31"
    assert message.startswith("netdev 'n1' is used before it is defined (QEMU resolves it at board init)")
    assert message.endswith("move that line above line 2")


def test_a_forward_numa_reference_in_compat_mode_runs_after_the_backend(planned):
    p = planned("-nodefaults", "-numa node,nodeid=0,memdev=m0",
                "-object memory-backend-ram,id=m0,size=64M",
                "qom-set path=/machine property=dump-guest-core value=true", compat=True)
    assert qmp(p) == ["object-add", "qom-set", "set-numa-node", "x-exit-preconfig", "cont"]
    assert len(p.warnings) == 1


def test_a_reference_never_defined_is_an_error_without_a_note(refused):
    e = refused("-device virtio-blk-pci,drive=nope")
    assert e.message == "block 'nope' is used before it is defined"
    assert at(e.location) == "1:30" and e.notes == []


def test_a_reference_never_defined_is_an_error_in_compat_mode_too(refused):
    e = refused("-nodefaults", "-machine memory-backend=pc.ram", compat=True)
    assert e.message == "object 'pc.ram' is never defined"


def test_argv_forward_reference_names_the_indexes(planned_argv):
    with pytest.raises(ScriptError) as e:
        planned_argv("-accel", "tcg", "-device", "virtio-net-pci,netdev=n1", "-netdev", "user,id=n1")
    assert str(e.value.location) == "argv[3]"
    [note] = e.value.notes
    assert str(note.location) == "argv[4]"
    # before the -device option word (argv[2]), whose argument is argv[3]
    assert note.message == "'n1' is defined here; move -netdev user,id=n1 (argv[4]) before argv[2]"
    assert "-device virtio-net-pci,netdev=n1" in e.value.render()


def test_an_id_defined_twice_is_an_error_pointing_at_both(refused):
    e = refused("-netdev user,id=n0", "-netdev user,id=n0")
    assert e.message == "netdev 'n0' is already defined"
    assert at(e.location) == "2:17"
    [note] = e.notes
    assert at(note.location) == "1:17" and note.message == "first defined here"


def test_an_id_defined_twice_across_forms_is_an_error(refused):
    e = refused("-object memory-backend-ram,id=m0,size=1M",
                'object-add {"qom-type": "iothread", "id": "m0"}')
    assert e.message == "object 'm0' is already defined"
    assert at(e.notes[0].location) == "1:31"


def test_an_id_may_be_defined_again_after_it_is_deleted(planned):
    p = planned("-nodefaults", "-object iothread,id=io0", "object-del id=io0",
                "-object iothread,id=io0")
    assert qmp(p)[:3] == ["object-add", "object-del", "object-add"]


def test_invalid_id_syntax_is_an_error(refused):
    e = refused("-object iothread,id=io_0,", "-object iothread,id=0io")
    assert e.message.startswith("invalid object id '0io'")
    assert at(e.location) == "2:21"


def test_a_bus_of_a_later_device_is_an_error(refused):
    e = refused("-device virtio-net-pci,bus=rp1", "-device pcie-root-port,id=rp1,chassis=1")
    assert e.message == "bus 'rp1' is used before device 'rp1' is defined"


def test_a_malformed_argument_is_located_at_the_key(refused):
    e = refused("-blockdev driver=file,filename")
    assert e.message == "malformed option argument: expected '=' after parameter 'filename'"
    assert at(e.location) == "1:23"


# -- phases ---------------------------------------------------------------------------------

def test_an_argv_option_after_a_qmp_command_is_an_error_naming_the_phase(refused):
    e = refused("-smp 2", "qom-set path=/machine property=dump-guest-core value=true", "-m 256M")
    assert e.message == ("'-m' can only be given on QEMU's command line, but QEMU is "
                         "already running the script (phase preconfig)")
    assert at(e.location) == "3:1"
    entered, move = e.notes
    assert at(entered.location) == "2:1"
    assert entered.message.startswith("phase preconfig was entered here, by 'qom-set")
    assert move.location is None and move.message == "move it above that line"


def test_a_command_whose_phase_has_passed_names_what_advanced_it(refused):
    e = refused("cont", "-numa node,nodeid=0")
    assert e.message == ("'-numa' is allowed up to phase preconfig, but the machine is "
                         "already in phase running")
    assert at(e.notes[0].location) == "1:1"
    assert e.notes[0].message == "phase running was entered here, by 'cont'"


def test_set_numa_node_after_the_machine_is_built_is_an_error(refused):
    e = refused("x-exit-preconfig", "set-numa-node type=node nodeid=0")
    assert "allowed up to phase preconfig" in e.message and "machine-ready" in e.message


def test_S_ends_the_plan_in_machine_ready(planned):
    p = planned("-nodefaults", "-S")
    assert p.final == Phase.MACHINE_READY
    assert qmp(p) == []
    assert p.preconfig is False


def test_preconfig_ends_the_plan_in_preconfig(planned):
    p = planned("--preconfig", "-nodefaults", "-object iothread,id=io0", feed=True)
    assert p.final == Phase.PRECONFIG and p.preconfig is True
    assert qmp(p) == ["object-add"]


def test_preconfig_without_feed_keeps_the_object_on_argv(planned):
    p = planned("--preconfig", "-nodefaults", "-object iothread,id=io0")
    assert p.final == Phase.PRECONFIG and p.preconfig is True and qmp(p) == []
    assert ["-object", "iothread,id=io0"] in [s.argv for s in p.argv_steps]


def test_nothing_needs_preconfig_so_qemu_starts_in_machine_ready(planned):
    p = planned("-m 256M")
    assert p.preconfig is False
    assert qmp(p) == ["cont"]


def test_nothing_runs_after_quit(refused):
    e = refused("-nodefaults", "quit", "-m 1G")
    assert e.message == "nothing runs after 'quit'" and at(e.location) == "3:1"
    assert at(e.notes[0].location) == "2:1" and e.notes[0].message == "QEMU quits here"


def test_a_plan_that_quits_ends_where_it_quits(planned):
    p = planned("-nodefaults", "quit")
    assert p.quits and p.final == Phase.PRECONFIG
    assert qmp(p) == ["quit"]


# -- devices in one syntax ----------------------------------------------------------------

def test_a_json_device_among_key_value_ones_is_rewritten_as_key_value(planned):
    p = planned("-machine q35",
                '-device {"driver": "pcie-root-port", "id": "rp1", "chassis": 1, "multifunction": true}',
                "-device pcie-root-port,id=rp2,chassis=2")
    devices = [s.argv[1] for s in p.argv_steps if s.argv[0] == "-device"]
    assert devices == ["driver=pcie-root-port,id=rp1,chassis=1,multifunction=on",
                       "pcie-root-port,id=rp2,chassis=2"]
    assert p.direct_argv[p.direct_argv.index("-device") + 1] == devices[0]


def test_a_comma_in_a_rewritten_json_device_is_escaped(planned):
    p = planned('-device {"driver": "virtio-blk-pci", "serial": "a,b"}', "-device virtio-rng-pci")
    assert ["-device", "driver=virtio-blk-pci,serial=a,,b"] in [s.argv for s in p.argv_steps]


@pytest.mark.parametrize("devices", [
    # JSON alone
    ['{"driver": "pcie-root-port", "id": "rp1", "chassis": 1}',
     '{"driver": "pcie-root-port", "id": "rp2", "chassis": 2}'],
    # JSON after every key=value one: QEMU creates them last, where the
    # script has them, so nothing is rewritten
    ["virtio-rng-pci,id=r0", '{"driver": "virtio-rng-pci", "id": "r1", "max-bytes": 1024}'],
], ids=["alone", "after-key-value"])
def test_json_devices_no_key_value_one_follows_stay_json(planned, devices):
    p = planned(*(f"-device {d}" for d in devices))
    assert [s.argv[1] for s in p.argv_steps if s.argv[0] == "-device"] == devices


def test_a_structured_json_device_among_key_value_ones_is_an_error(refused):
    e = refused('-device {"driver": "virtio-rng-pci", "id": "d0", "max-bytes": {"a": 1}}',
                "-device virtio-rng-pci")
    assert e.message.startswith("this JSON -device has structured values")
    assert at(e.location) == "1:9"


# -- monitors ---------------------------------------------------------------------------------

def test_the_default_monitor_is_written_out(planned):
    p = planned("-m 256M")
    assert p.steps[0].argv == ["-monitor", "vc:80Cx24C"] and p.steps[0].synthetic
    # QEMU given its argv alone makes that monitor itself
    assert p.direct_argv == ["-m", "256M"]


@pytest.mark.parametrize("lines, words", [
    (["-nographic"], ["-serial", "mon:stdio"]),
    (["-nographic", "-serial null"], ["-monitor", "stdio"]),
    (["-nodefaults"], None),
    (["-nographic", "-nodefaults"], None),
])
def test_the_default_monitor_follows_qemus_rules(planned, lines, words):
    p = planned(*lines)
    defaults = [s.argv for s in p.steps if s.synthetic and s.channel == "argv"]
    assert defaults == ([words] if words else [])


def test_a_monitor_option_replaces_the_default_monitor(planned, tmp_path):
    p = planned(f"-qmp unix:{tmp_path}/q.sock,server=on,wait=off")
    assert not any(s.synthetic and s.channel == "argv" for s in p.steps)
    [monitor] = p.monitors
    assert monitor.label == f"{tmp_path}/q.sock" and monitor.mode == "control"


def test_a_monitor_path_that_is_not_a_socket_is_refused(refused, tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    e = refused(f"-qmp unix:{victim},server=on,wait=off")
    assert "exists and is not a socket" in e.message
    assert victim.read_text() == "keep me"


def test_an_object_a_chardev_needs_at_creation_is_hoisted_to_argv(planned):
    p = planned("-nodefaults", "-object iothread,id=io0",
                "-object tls-creds-anon,id=tls0,endpoint=server",
                "-chardev socket,id=c0,host=127.0.0.1,port=0,server=on,wait=off,tls-creds=tls0",
                feed=True)
    by_line = {s.command.loc.line: s for s in p.steps if not s.synthetic}
    tls = by_line[3]
    assert tls.channel == "argv" and tls.phase == Phase.STARTUP
    assert tls.argv == ["-object", "tls-creds-anon,id=tls0,endpoint=server"]
    assert tls.why.startswith("needed when QEMU creates") and tls.why.endswith("vm.qcmd:4:1")
    assert by_line[2].channel == "qmp" and by_line[2].phase == Phase.PRECONFIG   # io0
    # argv order: the object before the chardev that names it
    assert p.argv().index("-object") < p.argv().index("-chardev")


def test_a_memory_backend_the_machine_names_further_on_is_hoisted_to_argv(planned):
    # QEMU resolves -machine memory-backend= at board init, but before any QMP
    p = planned("-nodefaults", "-machine memory-backend=m0",
                "-object memory-backend-ram,id=m0,size=64M",
                "qom-set path=/machine property=dump-guest-core value=true")
    obj = p.steps[2]
    assert obj.channel == "argv" and obj.why.endswith("vm.qcmd:2:1")
    assert p.argv() == ["-nodefaults", "-machine", "memory-backend=m0",
                        "-object", "memory-backend-ram,id=m0,size=64M"]


def test_a_qmp_object_needed_when_qemu_starts_is_an_error(refused):
    e = refused("-nodefaults", "-machine memory-backend=m0",
                'object-add {"qom-type": "memory-backend-ram", "id": "m0", "size": 67108864}')
    assert e.message.startswith("'object-add' over QMP runs after QEMU starts")
    assert e.message.endswith("use the option form")
    assert at(e.location) == "3:1"


def test_a_chardev_in_preconfig_is_an_error(refused):
    # QEMU 7.2 refuses chardev-add before machine-ready: no handler there
    e = refused('object-add {"qom-type": "tls-creds-anon", "id": "tls0"}',
                "-chardev socket,id=c0,host=127.0.0.1,port=0,server=on,wait=off,tls-creds=tls0")
    assert e.message.startswith("'-chardev' has no handler in phase preconfig")


def test_daemonize_with_a_console_on_stdio_is_an_error(refused):
    e = refused("-daemonize", "-nographic")
    assert e.message == "-daemonize cannot be used with a console or monitor on stdio"


# -- what the binary does not have -------------------------------------------------------------

def test_an_unknown_option_is_an_error(refused):
    e = refused("-frobnicate 1")
    assert e.message == "unknown option '-frobnicate' (not in /usr/bin/qemu-system-x86_64 -h)"
    assert at(e.location) == "1:1"


def test_an_unknown_qmp_command_is_an_error(refused):
    e = refused("query-frobs")
    assert e.message.startswith("unknown QMP command 'query-frobs'")


def test_qmp_capabilities_is_a_no_op(planned):
    # a captured transcript starts with the handshake inorder-qemu has made
    p = planned("-m 1G", "qmp_capabilities", '{"execute": "qmp_capabilities"}')
    assert "qmp_capabilities" not in qmp(p)


@pytest.mark.parametrize("line, message, column", [
    ("-m", "option '-m' requires an argument", 1),
    ("-S now", "option '-S' takes no argument", 4),
    ('-m {"size": 1}', "option '-m' does not take a JSON argument", 4),
])
def test_option_arity_and_json_come_from_the_profile(refused, line, message, column):
    e = refused(line)
    assert e.message == message and e.location.column == column


# -- the made plan --------------------------------------------------------------------------------

@pytest.fixture
def made(planned):
    return planned("-nodefaults", "-object iothread,id=io0",
                   "qom-set path=/machine property=dump-guest-core value=true",
                   "-device virtio-rng-pci,id=r0")


def test_the_made_plan_is_immutable(made):
    with pytest.raises(AttributeError, match="immutable"):
        made.final = Phase.STARTUP
    with pytest.raises(AttributeError, match="immutable"):
        made.steps = ()
    assert isinstance(made.steps, tuple)


def test_the_steps_of_a_made_plan_are_immutable(made):
    for step in made.steps:
        with pytest.raises(AttributeError, match="immutable"):
            step.channel = "argv"
        with pytest.raises(AttributeError):
            step.phase = Phase.RUNNING


def test_a_plan_as_json_data_loads_back_equal(made):
    again = from_data(json.loads(json.dumps(to_data(made))))
    assert again.to_json() == made.to_json()
    assert again.direct == made.direct and again.final == made.final
    assert [str(s.command.loc) for s in again.steps] == [str(s.command.loc) for s in made.steps]
    with pytest.raises(AttributeError, match="immutable"):
        again.final = Phase.STARTUP
    with pytest.raises(AttributeError, match="immutable"):
        again.steps[0].why = "changed"


def test_to_json_shows_locations_channels_and_implicit_steps(made):
    data = made.to_json()
    assert data["preconfig"] is True and data["final-phase"] == "running"
    assert data["argv"] == ["-nodefaults", "-device", "virtio-rng-pci,id=r0"]
    assert data["direct-argv"] is None
    last = data["steps"][-1]
    assert last["execute"] == "cont" and last["implicit"] is True and last["phase"] == "machine-ready"
    assert data["steps"][1]["arguments"] == {"qom-type": "iothread", "id": "io0"}


# -- the process model --dry-run names ------------------------------------------

@pytest.mark.parametrize("lines, feed, model, why", [
    (["-nodefaults", "-object iothread,id=io0", "-device virtio-rng-pci,id=r0"], False,
     "exec", "nothing needs the feed"),
    (["-nodefaults", "-object iothread,id=io0"], True, "supervise", "--feed"),
    (["-nodefaults", "qom-set path=/machine property=dump-guest-core value=true"], False,
     "supervise", "1 QMP step to feed (the first at "),
])
def test_dry_run_names_the_process_model_and_why(planned, lines, feed, model, why):
    from inorder.plan import show
    p = planned(*lines, feed=feed)
    assert show.process(p, feed)[0] == model and why in show.process(p, feed)[1]
    text = show.text(p, "qemu-system-x86_64", feed)
    assert f"# process: {model}: " in text
    assert ("exec'd as it is" in text) == (model == "exec")
    assert json.loads(show.as_json(p, "q", feed))["process"]["model"] == model


# -- release options anywhere before the end --------------------------------------

QOM_SET = "qom-set path=/machine property=dump-guest-core value=true"


@pytest.mark.parametrize("late", [
    ["-qmp unix:/tmp/iq-late.sock,server=on,wait=off"],
    ["-monitor unix:/tmp/iq-late.sock,server=on,wait=off"],
    ["-chardev socket,id=m0,path=/tmp/iq-late.sock,server=on,wait=off",
     "-mon chardev=m0,mode=control"],
])
def test_a_monitor_after_a_qmp_command_is_held_from_the_launch(planned, late):
    p = planned("-nodefaults", QOM_SET, *late)
    assert [m.label for m in p.monitors] == ["/tmp/iq-late.sock"]
    late_steps = [s for s in p.argv_steps if s.command.loc.line >= 3]
    assert len(late_steps) == len(late)
    assert all(s.phase == Phase.STARTUP for s in late_steps)
    assert qmp(p) == ["qom-set", "x-exit-preconfig", "cont"]


@pytest.mark.parametrize("line, final", [
    ("-S", Phase.MACHINE_READY), ("--preconfig", Phase.PRECONFIG),
    ("-daemonize", Phase.RUNNING), ("-pidfile /tmp/iq-late.pid", Phase.RUNNING),
])
def test_release_options_after_a_qmp_command(planned, line, final):
    p = planned("-nodefaults", "-object iothread,id=io0", QOM_SET, line)
    assert p.final == final
    assert ("qom-set" in qmp(p)) and (("cont" in qmp(p)) == (final == Phase.RUNNING))


def test_s_after_cont_is_an_error_naming_cont(refused):
    e = refused("-nodefaults", QOM_SET, "cont", "-S")
    assert "'-S' is allowed up to phase machine-ready" in e.message
    assert any("by 'cont'" in n.message for n in e.notes)


def test_a_chardev_no_monitor_uses_is_still_argv_only(refused):
    e = refused("-nodefaults", QOM_SET, "-chardev null,id=c0")
    assert "'-chardev' has no handler in phase preconfig" in e.message


# -- hot handlers: options after the machine is built ---------------------------

@pytest.mark.parametrize("line, backend", [
    ("-chardev null,id=c1", {"type": "null", "data": {}}),
    ("-chardev file,id=c1,path=/tmp/x.log,append=on",
     {"type": "file", "data": {"out": "/tmp/x.log", "append": True}}),
    ("-chardev pipe,id=c1,path=/tmp/p", {"type": "pipe", "data": {"device": "/tmp/p"}}),
    ("-chardev pty,id=c1", {"type": "pty", "data": {}}),
    ("-chardev ringbuf,id=c1,size=64K", {"type": "ringbuf", "data": {"size": 65536}}),
    ("-chardev stdio,id=c1,signal=off", {"type": "stdio", "data": {"signal": False}}),
    ("-chardev socket,id=c1,path=/tmp/c.sock,server=on,wait=off",
     {"type": "socket", "data": {"server": True, "wait": False,
                                 "addr": {"type": "unix", "data": {"path": "/tmp/c.sock"}}}}),
    ("-chardev socket,id=c1,host=127.0.0.1,port=4444,server=on,wait=off,nodelay=on",
     {"type": "socket", "data": {"server": True, "wait": False, "nodelay": True,
                                 "addr": {"type": "inet",
                                          "data": {"host": "127.0.0.1", "port": "4444"}}}}),
    ("-chardev udp,id=c1,host=127.0.0.1,port=5555,localport=5556",
     {"type": "udp", "data": {
         "remote": {"type": "inet", "data": {"host": "127.0.0.1", "port": "5555"}},
         "local": {"type": "inet", "data": {"host": "", "port": "5556"}}}}),
    ("-chardev file,id=c1,path=/tmp/x.log,logfile=/tmp/l.log,logappend=on",
     {"type": "file", "data": {"out": "/tmp/x.log", "logfile": "/tmp/l.log",
                               "logappend": True}}),
])
def test_a_chardev_after_cont_is_chardev_add(planned, line, backend):
    p = planned("-nodefaults", "cont", line)
    [step] = [s for s in p.qmp_steps if s.execute == "chardev-add"]
    assert step.arguments == {"id": "c1", "backend": backend}
    assert step.phase == Phase.RUNNING


def test_a_hot_device_on_a_hot_chardev_is_checked_left_to_right(planned, refused):
    p = planned("-nodefaults", "-device virtio-serial-pci,id=vs0", "cont",
                "-chardev ringbuf,id=c1", "-device virtserialport,chardev=c1,bus=vs0.0,id=p1")
    assert qmp(p)[-2:] == ["chardev-add", "device_add"]
    e = refused("-nodefaults", "-device virtio-serial-pci,id=vs0", "cont",
                "-device virtserialport,chardev=c1,bus=vs0.0,id=p1", "-chardev ringbuf,id=c1")
    assert "chardev 'c1' is used before it is defined" in e.message


@pytest.mark.parametrize("line, said, where", [
    ("-chardev null,id=c1,mux=on", "a multiplexed chardev (mux=on) has no chardev-add form",
     "3:21"),
    ("-chardev file,id=c1,path=/tmp/x,nosuch=1", "'nosuch' is not a key of a 'file' chardev",
     "3:33"),
])
def test_a_hot_chardev_without_a_qmp_form_is_located(refused, line, said, where):
    e = refused("-nodefaults", "cont", line)
    assert e.message == f"after the machine is built, {said}"
    assert at(e.location) == where


def test_a_chardev_in_preconfig_names_the_phase(refused):
    e = refused("-nodefaults", "qom-set path=/machine property=dump-guest-core value=true",
                "-chardev null,id=c1")
    assert e.message.startswith("'-chardev' has no handler in phase preconfig")


def test_a_drive_after_cont_is_drive_add(planned, refused):
    p = planned("-nodefaults", "cont", "-drive file=/tmp/d.img,format=raw,id=d1,if=none",
                "-drive file=/tmp/e.img,format=raw,id=d2")
    hmp = [s.arguments["command-line"] for s in p.qmp_steps
           if s.execute == "human-monitor-command"]
    assert hmp == ["drive_add 0 file=/tmp/d.img,format=raw,id=d1,if=none",
                   "drive_add 0 file=/tmp/e.img,format=raw,id=d2,if=none"]
    e = refused("-nodefaults", "cont", "-drive file=/tmp/d.img,if=virtio")
    assert "drive_add cannot create if=virtio" in e.message
