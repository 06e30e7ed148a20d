"""The lab's exceptions: each message says what happened, where the log is, what to do."""


class LabError(Exception):
    """The lab failed (QEMU, Xen, dom0, xl): not the guest's fault."""


class GuestError(LabError):
    """A guest could not be created or misbehaved (xl create error, bad kernel)."""
