"""HTTP: the read API server (``promptship serve``) and the local web page (``promptship ui``)."""
