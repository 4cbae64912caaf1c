"""What QEMU is, as data: its options and QMP commands, the order in which it
creates things, the flags inorder-qemu gives it, the messages it prints, and
the profile of one binary (its QMP schema, what it allows in preconfig).

Nothing here decides anything about a script, and nothing here starts a
process (the probe that builds a profile lives in run/).
"""
