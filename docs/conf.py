"""Sphinx configuration of the documentation site (built by `docs/build.py`, which stages the pages next to this file)."""
import shutil
from pathlib import Path

project = "Interpretability paper reproductions"
author = "the project's contributors"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "**.prepared.ipynb"]

html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {"show_toc_level": 2, "home_page_in_toc": True, "use_download_button": True}
html_context = {"default_mode": "light"}  # an explicit mode: the theme logs an error for an empty one
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_favicon = "_static/favicon.svg"
html_show_sourcelink = False

# Notebooks arrive executed (helper notebooks by build.py, reproductions by the runner): never execute here.
nb_execution_mode = "off"
nb_output_stderr = "remove"  # progress bars and warnings on stderr are noise on a page
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# MathJax from a local copy (the site is built and read offline): MathJax 2 with its STIX web fonts,
# from the `jupyter-server-mathjax` package.
import jupyter_server_mathjax  # noqa: E402

_mathjax = Path(jupyter_server_mathjax.__file__).parent / "static"
shutil.copytree(_mathjax, Path(__file__).parent / "_static" / "mathjax", dirs_exist_ok=True)
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True},
                   "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None},
                   "showMathMenu": False, "messageStyle": "none"}
