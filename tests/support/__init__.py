"""What the tests share, one concern a module (import from the module, not from here):

* :mod:`~tests.support.environment`: the settings every test process gets, secrets, ports;
* :mod:`~tests.support.databases`: migrated, seeded databases (SQLite, PostgreSQL);
* :mod:`~tests.support.stack`: the real Rasa server and action server;
* :mod:`~tests.support.stack_data`: reading and setting up their data (rows, cases, staff …);
* :mod:`~tests.support.providers`: the local stand-ins for Twilio's and Telegram's APIs;
* :mod:`~tests.support.clients`: a phone texting and a Telegram user on the stack's webhooks;
* :mod:`~tests.support.web`: HTTP from a test: a JSON client, a console browser with cookies;
* :mod:`~tests.support.wire`: requests as Twilio and Telegram send them (form fields, Update
  JSON), for the channels' own parsers without a server;
* :mod:`~tests.support.trackers`: trackers as Rasa sends them to the actions;
* :mod:`~tests.support.seeded`: facts of the demo data every test database holds;
* :mod:`~tests.support.unique`: phone numbers, Telegram ids and sender ids no other test uses;
* :mod:`~tests.support.days`: "the next Monday", "the next open Tuesday of City Hall";
* :mod:`~tests.support.oracles`: independent checks (Luhn, the language of a reply, words a
  caller must never hear);
* :mod:`~tests.support.waiting`: waiting for something observable, never sleeping and hoping;
* :mod:`~tests.support.readability`: English readability scores without a network.

The fixtures built on these are in ``tests/conftest.py``.
"""
