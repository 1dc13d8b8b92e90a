"""Intake: the order-notification contract (notifications) and its endpoint (webhooks).

Mijnwebwinkel has no webhooks; the contract is ours and the payload only a hint: the
booking job always fetches the order itself.
"""
