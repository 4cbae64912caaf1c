"""The language: text and argv → commands with source locations.

Parsing knows QEMU's syntaxes (key=value lists, `-readconfig` INI files, which
options take an argument, as it is told), but nothing of what an option means:
no phases, no ids, no channels, no processes.
"""
