"""The operators' analytics (issue 14 §1, SPEC §7 ``/console/analytics``).

- :mod:`~bot.analytics.events`: where the conversation events come from: the event stream's
  ``conversation_events`` (RabbitMQ configured) or Rasa's own ``events`` table;
- :mod:`~bot.analytics.fold`: events to per-day figures (conversations, messages, fallbacks,
  form funnels) per channel and language;
- :mod:`~bot.analytics.rollup`: closed days kept as figures in ``analytics_daily``;
- :mod:`~bot.analytics.usage`: SMS messages and segments sent, per day and language;
- :mod:`~bot.analytics.report`: one period's tables (with hand-offs, waits, notifications).
"""
