"""The plan: commands checked left to right against a profile of the binary,
each given its phase and its channel (argv at launch, or QMP at a phase).

Planning knows QEMU only through the profile and the tables in qemu/; it
starts no process.  A plan is immutable once made.
"""
