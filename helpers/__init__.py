# Set before torch is imported anywhere in the package (and inherited by the kernels the runner starts): OpenMP
# threads that wait by sleeping, not spinning, so that a process on a busy machine gets a fair share of the cores
# instead of a several-fold slowdown. It changes scheduling only, never results.
import os as _os
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
