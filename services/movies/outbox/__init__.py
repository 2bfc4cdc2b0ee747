"""The transactional outbox and its relay: mail requests reach Kafka after their commit."""
