"""The bookkeeper's control ("Controle", ``flask report``): per period what the connector
booked, per VAT code and ledger, reconciled with the shop's own orders.

period (parse a period) → build (the report, from stored rows + one listing pass) →
formats (table, CSV, xlsx, JSON).
"""
