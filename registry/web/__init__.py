"""HTTP for promptship: the read API server (``promptship serve``), the local web page
(``promptship ui``) and what they share. Starlette and uvicorn are imported only here, and only
when a server runs."""
