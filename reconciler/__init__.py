"""The clock process: ``python -m reconciler --loop`` enqueues the fast poll and the
hourly pass (schedule.py); the pass itself is app/booking/reconcile.py."""
