"""promptship's command line: parses, calls ``registry``, prints. No rules live here."""
