"""What every domain runs on: database, settings, problem details, telemetry wiring, health.

Nothing here imports a domain; the domains and the composition root import from here.
"""
