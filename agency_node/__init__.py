"""The Fedlink agency node: an agency's records stay home and answer only approved,
signed requests."""
