"""The pure booking core: a Mijnwebwinkel order in, e-Boekhouden mutations out.

Nothing here does I/O (no network, SQL, Redis or Flask; ``make lint`` checks it with
import-linter): order_schema reads the API's JSON into the types of ``orders``;
mapping_settings is a shop's "Stap 2 van 2" table; mapping turns an order and the
settings into a ``Booking`` of ``mutations``, or a reason why not.
"""
