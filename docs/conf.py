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

# MathJax 3 from a local copy, so that the site's math renders offline: the `sphinx-mathjax-offline` package ships it
# (its folder has a hyphen in its name, so it is found through the package's metadata, not imported). myst-nb's default
# configuration (math in elements of class `math`, the rest of the page ignored) is MathJax 3's.
from importlib.metadata import distribution  # noqa: E402

_mathjax = Path(distribution("sphinx-mathjax-offline").locate_file("sphinx-mathjax-offline/static/mathjax"))
shutil.copytree(_mathjax, Path(__file__).parent / "_static" / "mathjax", dirs_exist_ok=True)
mathjax_path = "mathjax/tex-chtml.js"
