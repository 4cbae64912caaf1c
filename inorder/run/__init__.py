"""The run: everything that touches a process.  Launch QEMU (or exec it), feed
the plan over the private QMP link, release the held monitors, supervise.

The run consumes a plan and never writes into it: what it computes (the
monitors' sockets, the pidfile's temporary name, the fds QEMU inherits) goes
into its own launch description (launch.py).
"""
