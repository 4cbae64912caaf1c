"""inorder-qemu: QEMU configuration as an ordered program.

The pipeline, one room per stage (the README's "Code map" lists every module):

    lang/   text and argv → commands with source locations
    qemu/   what QEMU is: option and command tables, creation order, profile
    plan/   commands → an immutable plan: phases, ids, channels, direct plans
    run/    launch or exec QEMU, feed the plan, release the monitors, supervise

with cli.py (the command line and its exit codes) and errors.py on top.
"""

__version__ = "0.1.0"
