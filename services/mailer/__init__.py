"""The mail consumer: reads code requests from Kafka and sends them over SMTP.

Its place in the data flow and the span tree: docs/architecture.md.
"""
