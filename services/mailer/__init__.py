"""The mail consumer: reads code requests from Kafka and sends them over SMTP."""
