"""Custom actions for the Rasa action server. Thin: the logic lives in `bot/`."""
