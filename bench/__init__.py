"""The benchmarks of issue 9: the mailer and movies measured beside the original design.

``python -m bench`` (``make bench``) runs every benchmark on a real Kafka broker and
Postfix's ``smtp-sink``, prints a table and writes ``bench/results/latest.json``;
``python -m bench --smoke`` runs every path with tiny counts, so the harness cannot rot.
The baselines (a consumer and an endpoint written the way the original system was) live
here too: they are yardsticks, not product code.
"""
