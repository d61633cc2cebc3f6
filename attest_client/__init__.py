"""Attest client: log model predictions and outcomes to an Attest ledger (stdlib only).

See :mod:`attest_client.client` for the delivery policy and a usage example.
"""

from attest_client.client import AttestClient, ClientStats, FlushResult, RejectedItem

__all__ = ["AttestClient", "ClientStats", "FlushResult", "RejectedItem"]
