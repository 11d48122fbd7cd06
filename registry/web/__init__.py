"""HTTP for promptship: the read API server (``promptship serve``) and what a second web app
shares with it. Starlette and uvicorn are imported only here, and only when a server runs."""
