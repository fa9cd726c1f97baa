"""How this process's C allocator treats big tensors (glibc only): `keep_freed_memory` keeps
freed memory in the heap, so that a conv net's large activations made and freed many times a
second do not cost a page fault per page. Imports nothing of ours."""
import sys


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to serve every allocation under 1 GiB from its heap and to keep freed
    memory instead of handing it back to the kernel. By default each tensor over 32 MiB gets
    fresh pages from the kernel (mmap) and returns them when freed, and touching fresh pages
    costs a page fault each: on the 64-filter Omniglot net (activations of 32 MB and more, made
    and freed many times a second) that was more system time than computation. Linux/glibc
    only; elsewhere nothing changes. Returns whether it applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)) and \
            bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
    except (OSError, AttributeError):
        return False
