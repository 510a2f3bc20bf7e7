"""CivicLine's domain library: data, rules and language. Imports no action, channel or server."""
