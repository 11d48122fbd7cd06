"""``promptship ui``: the hosted service's screens as a local web page over the user's clone.

Every page reads the registry through ``registry.catalog``, ``registry.read`` and the history and
panel modules; every button is one call of the write API, ``registry.Editor`` (``forms``), so the page
makes the commits the command line makes and shows the same refusals.
"""
