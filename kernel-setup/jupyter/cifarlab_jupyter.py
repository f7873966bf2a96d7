"""cifarlab's Jupyter server extension: the PDF export without LaTeX.

Installed by cifarlab kernel-setup/setup.sh into the site-packages of the JupyterLab virtual
environment and enabled by its jupyter_server_config.py (ServerApp.jpserver_extensions); do not
edit the copy, edit kernel-setup/jupyter/cifarlab_jupyter.py and rerun setup.sh.

JupyterLab's File > Save and Export Notebook As > PDF opens /nbconvert/pdf/PATH?download=true,
which jupyter_server serves with nbconvert's PDFExporter: LaTeX through XeLaTeX and pandoc, which
are not installed ("Pandoc wasn't found", HTTP 500). This extension serves the format "pdf" with
nbconvert's WebPDFExporter instead, with the same configuration as the WebPDF item (the system
Chromium, the cifarlab_webpdf template): the two items give the same pages. It serves "webpdf" too,
only to send it as application/pdf (nbconvert's WebPDFExporter says text/html). Every other format
is left to jupyter_server's own handlers.

Tornado matches the handlers that an extension adds (Application.add_handlers) before the
server's default rules, so /nbconvert/pdf/... reaches these handlers first.
"""

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import path_regex
from jupyter_server.nbconvert.handlers import NbconvertFileHandler, NbconvertPostHandler
from jupyter_server.utils import url_path_join
from nbconvert.exporters.webpdf import WebPDFExporter
from tornado import web


class CifarlabWebPDFExporter(WebPDFExporter):
    """nbconvert's WebPDFExporter (configured as WebPDFExporter), whose responses say what they are:
    WebPDFExporter keeps HTMLExporter's output_mimetype, text/html, which jupyter_server sends as
    the Content-Type of the PDF."""

    output_mimetype = "application/pdf"


# The exporter for /nbconvert/pdf and /nbconvert/webpdf: jupyter_server passes the format to
# nbconvert's get_exporter, which imports a dotted name.
PDF_EXPORTER = f"{__name__}.{CifarlabWebPDFExporter.__name__}"


class WebPDFFileHandler(NbconvertFileHandler):
    """GET /nbconvert/pdf/PATH and /nbconvert/webpdf/PATH: the notebook file PATH as a PDF printed
    by WebPDFExporter."""

    @web.authenticated
    @authorized
    async def get(self, format, path):
        return await super().get(PDF_EXPORTER, path)


class WebPDFPostHandler(NbconvertPostHandler):
    """POST /nbconvert/pdf and /nbconvert/webpdf: the notebook in the body as a PDF printed by
    WebPDFExporter."""

    @web.authenticated
    @authorized
    async def post(self, format):
        return await super().post(PDF_EXPORTER)


def _jupyter_server_extension_points():
    return [{"module": "cifarlab_jupyter"}]


def _load_jupyter_server_extension(serverapp):
    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$",
        [
            # In jupyter_server's order: the POST rule first ("/nbconvert/pdf" also matches the
            # second pattern, with an empty path).
            (url_path_join(base_url, r"/nbconvert/(?P<format>pdf|webpdf)"), WebPDFPostHandler),
            (url_path_join(base_url, r"/nbconvert/(?P<format>pdf|webpdf)" + path_regex), WebPDFFileHandler),
        ],
    )
    serverapp.log.info("cifarlab: /nbconvert/pdf and /nbconvert/webpdf are served by %s", PDF_EXPORTER)
