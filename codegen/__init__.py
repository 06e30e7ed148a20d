"""Xenolith codegen: the kernel's view of Xen's public interface, generated from Xen's headers.

`python -m codegen` compiles a probe of Xen's public headers (as installed by
libxen-dev) for i386, reads layouts from DWARF and constants from the
preprocessor, and writes the C headers (`abi/*.h`) and the Python mirror
(`xen_abi.py`) that the kernel and tools use. `python -m codegen.elfcheck`
checks a built kernel against what Xen's domain builder requires.
"""
