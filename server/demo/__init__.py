"""The demo: a synthetic graph generator (:mod:`.generate`) and the scripted walk-through that
``seer demo`` runs (:mod:`.walkthrough`)."""
