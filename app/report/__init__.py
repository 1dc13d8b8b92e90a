"""The bookkeeper's control ("Controle", ``flask report``): per period what the connector
booked (per VAT code and ledger, payments, open items), against the shop's own orders and
e-Boekhouden's books read back, with the VAT return's rubrieken, the opgaaf ICP and the
OSS return.

period (parse a period) → build (the report: lines, shop, read_books + books, vat_return)
→ serial (JSON data; restore reads it back) / tables → formats (text, CSV, xlsx, JSON);
runs (the job, its progress and the cache of results, the "akkoord" marks).
"""
