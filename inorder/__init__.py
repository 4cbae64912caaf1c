"""inorder-qemu: QEMU configuration as an ordered program.

The pipeline, one module per arrow: parse (text → commands), plan (commands →
argv + QMP steps, phases and ids checked), feed (launch QEMU, stream the steps),
monitors (release the user's monitors when the feed is done).
"""

__version__ = "0.1.0"
