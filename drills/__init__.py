"""Reliability drills: real faults injected into the running system, every code accounted for.

``python -m drills`` starts a Kafka broker and a PostgreSQL server of its own, then, for
each drill, fresh movies and mailer processes on a topic and database of their own. It
drives steady sign-in traffic, injects the drill's fault, waits for the system to
settle, and matches every code the API accepted against the mails the SMTP sink
received, so a lost or duplicated code cannot go unnoticed.
"""
