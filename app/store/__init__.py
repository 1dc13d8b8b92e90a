"""The store: every SQL statement of the connector, one module per aggregate.

shops (a shop, its credentials and settings), bookings (the ledger of orders: which are
booked, claimed, failed), runs (reconcile passes), users (who may log in). Each function
owns its transaction; callers pass the engine and get typed rows back. ``db`` holds the
tables and the engine.
"""
