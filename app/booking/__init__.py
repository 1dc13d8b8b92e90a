"""The use cases: book one order (pipeline → posting → relations; its money: settlement),
one reconcile pass, a backfill, a retry, the alert mails and the live test of a shop's
connections. Called by the web pages, the commands and the RQ jobs alike."""
