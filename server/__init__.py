"""Plug-ins loaded by the Rasa server: tracker store, CivicLine's HTTP endpoints, console."""
