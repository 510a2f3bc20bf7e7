"""The learning inbox (issue 14 §2, SPEC §7 ``/console/learn``): messages the assistant did
not understand, masked (:mod:`~bot.learn.masking`), grouped by similarity and language
(:mod:`~bot.learn.inbox`), labelled by staff, and written as reviewed training examples by
`python -m bot nlu export` (:mod:`~bot.learn.export`)."""
