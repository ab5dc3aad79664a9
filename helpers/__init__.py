# Set before torch is imported anywhere in the package (and inherited by the kernels the runner starts): OpenMP
# threads that wait by sleeping, not spinning, so that a process on a busy machine gets a fair share of the cores
# instead of a several-fold slowdown. It changes scheduling only, never results.
import os as _os
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# OpenBLAS (numpy's and scipy's BLAS) spins as well and cannot be told to sleep: beside one other busy process on 2
# cores, an SVD of a [5000, 576] matrix took 15.6 s with two threads and 0.6 s with one. One thread loses at most 2x
# on an idle machine, so BLAS gets INTERP_BLAS_THREADS threads (default 1): through the environment for libraries
# loaded later and for child processes, and through threadpoolctl for those this process has loaded already.
_blas_threads = _os.environ.get("INTERP_BLAS_THREADS", "1")
_os.environ.setdefault("OPENBLAS_NUM_THREADS", _blas_threads)
from threadpoolctl import threadpool_limits as _threadpool_limits
_threadpool_limits(int(_blas_threads), user_api="blas")

# Hugging Face's own bars (loading and writing weights) cannot redraw in a log (CI, `make test > log`): off there.
import sys as _sys
from fastcore.imports import IN_NOTEBOOK as _IN_NOTEBOOK
if not (_IN_NOTEBOOK or _sys.stderr.isatty()): _os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

__version__ = "0.1.0"
