"""xenlab: boot PV kernels under real Xen in QEMU (dom0 mode, or domU on a Linux dom0).

API: Lab(LabConfig) -> lab.boot_dom0_kernel(kernel, cmdline, memory_mib) (context
manager -> DomZeroRun: .console, .wait_exit()), lab.up(memory_mib) -> Host
(.dom0(cmd) -> CommandResult, .create(GuestSpec) -> Guest, .xl_list(), .xl_dmesg(),
.copy_out(), .close()); Guest: .console, .wait_shutdown(), .destroy(). See docs/lab.md.
"""

from xenlab.agent import CommandResult
from xenlab.errors import GuestError, LabError
from xenlab.exits import ExitReason
from xenlab.host import Guest, GuestSpec, Host
from xenlab.lab import DomZeroRun, Lab, LabConfig

__all__ = ["CommandResult", "DomZeroRun", "ExitReason", "Guest", "GuestError", "GuestSpec",
           "Host", "Lab", "LabConfig", "LabError"]
