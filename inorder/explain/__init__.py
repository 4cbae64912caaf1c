"""QEMU's hidden order, shown: `--explain` (the order QEMU creates an argv's
items in, and where that differs in effect from the written order) and
`--to-qcmd` (the argv as an ordered script that builds the same machine)."""
