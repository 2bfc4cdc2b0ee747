"""The movie catalogue: search and read for anyone, changes for admins, and the seed films."""
