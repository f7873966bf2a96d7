# Installed by cifarlab kernel-setup/setup.sh as jupyter_server_config.py and
# jupyter_nbconvert_config.py in the etc/jupyter folder of the JupyterLab virtual environment (do not
# edit the copies; edit kernel-setup/jupyter/webpdf_config.py and rerun setup.sh).
#
# nbconvert's WebPDF exporter (JupyterLab's File > Save and Export Notebook As > WebPDF, the REST
# endpoint /nbconvert/webpdf/PATH and `jupyter nbconvert --to webpdf`) prints the notebook's HTML
# with Playwright's Chromium, which Playwright would download from its own CDN. Here it prints
# with the system Chromium (Debian's `chromium`, or $CHROMIUM), offline: MathJax and require.js
# come from Debian's libjs-mathjax and libjs-requirejs.
import functools
import os
import shutil

c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)

# `jupyter nbconvert --execute` (nbrun): one stream output per stream and cell, as
# nbclient gave before 0.10 and as JupyterLab shows them, so that a "panic: " and its message
# (written separately by the cell program) are read as one line.
# nbclient's coalesce_streams is not marked configurable: mark it, then set it.
try:
    from nbclient import NotebookClient

    NotebookClient.class_traits()["coalesce_streams"].tag(config=True)
    c.ExecutePreprocessor.coalesce_streams = True
except (ImportError, KeyError):
    pass


def _chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


_CHROMIUM = _chromium()

c.WebPDFExporter.allow_chromium_download = False
# Chromium's sandbox does not start as root or in most containers.
c.WebPDFExporter.disable_sandbox = True
c.WebPDFExporter.browser_args = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The exporter writes the HTML to a temporary file and opens it as file://, so local copies load.
if os.path.exists("/usr/share/javascript/mathjax/MathJax.js"):
    c.WebPDFExporter.mathjax_url = (
        "file:///usr/share/javascript/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    )
if os.path.exists("/usr/share/javascript/requirejs/require.min.js"):
    c.WebPDFExporter.require_js_url = "file:///usr/share/javascript/requirejs/require.min.js"


def _use_system_chromium():
    """Makes Playwright's chromium.launch default to the system Chromium (nbconvert has no setting
    for the browser's path)."""
    if _CHROMIUM is None:
        return
    try:
        from playwright.async_api import BrowserType
    except ImportError:
        return
    launch = BrowserType.launch
    if getattr(launch, "_cifarlab", False):
        return

    @functools.wraps(launch)
    async def launch_system_chromium(self, *args, **kwargs):
        if self.name == "chromium" and not kwargs.get("executable_path") and not kwargs.get("channel"):
            kwargs["executable_path"] = _CHROMIUM
        return await launch(self, *args, **kwargs)

    launch_system_chromium._cifarlab = True
    BrowserType.launch = launch_system_chromium


_use_system_chromium()

# cifarlab's template (kernel-setup/jupyter/templates/cifarlab_webpdf, installed by setup.sh into
# the environment's share/jupyter/nbconvert/templates): webpdf with print CSS that wraps long lines.
c.WebPDFExporter.template_name = "cifarlab_webpdf"

# JupyterLab's File > Save and Export Notebook As menu lists nbconvert's exporters (GET
# /api/nbconvert, which leaves out the disabled ones). Qt PDF and Qt PNG need nbconvert[qtpdf]
# (PyQtWebEngine) and a display: hidden. "PDF" (LaTeX, which is not installed) is served by the
# server extension cifarlab_jupyter (installed by setup.sh into the environment's site-packages)
# with WebPDFExporter and these settings: the same pages as the WebPDF item (and both with the
# Content-Type application/pdf).
c.QtPDFExporter.enabled = False
c.QtPNGExporter.enabled = False
c.ServerApp.jpserver_extensions.update({"cifarlab_jupyter": True})
# AsciiDoc, LaTeX and reStructuredText convert the Markdown cells with pandoc: hidden from the menu
# where pandoc is not installed (setup.sh --with-tex installs it), in the server only (nbconvert on
# the command line keeps its own "Pandoc wasn't found"). PDFExporter is a LatexExporter: kept.
if os.path.basename(globals().get("__file__", "")) == "jupyter_server_config.py" and not shutil.which("pandoc"):
    c.ASCIIDocExporter.enabled = False
    c.LatexExporter.enabled = False
    c.RSTExporter.enabled = False
    c.PDFExporter.enabled = True

# No requests from JupyterLab's server to the Jupyter news feed or PyPI's update check (the
# settings overrides.json, also installed by setup.sh, turn both off in the page, and with them the
# "Would you like to be notified about official Jupyter news?" question on the first visit).
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
